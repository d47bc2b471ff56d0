"""Relationships between customers and persons: ownership, control, guarantees, groups."""
