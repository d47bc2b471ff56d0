"""Servicing a customer: interactions, complaints and early-warning risk signals."""
