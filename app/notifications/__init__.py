"""Notification outbox: e-mails and signed webhooks stored with a change, sent after commit."""
