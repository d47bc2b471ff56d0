"""notifications (being written)."""
