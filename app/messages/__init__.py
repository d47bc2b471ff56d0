"""Messages: subscriptions of waiting instances, correlation, and message start events."""
