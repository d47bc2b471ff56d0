"""Deployments and versioned process and decision definitions."""
