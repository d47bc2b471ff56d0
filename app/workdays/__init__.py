"""The bank's working-day calendar: official years as data, the `holidays` package as estimate."""
