"""Notifications to officers: in-app, and by e-mail through the node's SMTP server."""
