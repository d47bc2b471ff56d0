"""workdays (being written)."""
