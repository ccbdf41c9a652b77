"""Shared infrastructure: time, errors, settings, database sessions."""
