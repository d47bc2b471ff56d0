"""Natural persons around customers: legal representatives, executives, shareholders."""
