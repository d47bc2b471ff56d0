"""Users, groups and credentials."""
