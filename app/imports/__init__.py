"""Spreadsheet import of customers and relationships, and the xlsx export of customers."""
