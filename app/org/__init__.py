"""The bank's organisation: a tree of units (head office, branches, sub-branches, teams) and
where each member of staff sits in it."""
