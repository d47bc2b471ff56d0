"""notifications tables (being written)."""
