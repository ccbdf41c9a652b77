"""Requests: schemas and checks of request documents, the requested-party profile, and drafting
(create, edit with live validation, four-eyes approval, dispatch through the outbox)."""
