"""Persistence: the declarative base, column types and Alembic migrations.

Each feature keeps its own `models.py`; `comity.store.models` imports them all so Alembic and
the tests see one metadata.
"""
