"""workdays tables (being written)."""
