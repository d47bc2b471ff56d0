"""The customer store (minimal for now: customers and facilities)."""
