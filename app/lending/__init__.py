"""Lending: facilities (授信), loans drawn under them (借据), five-category classification."""
