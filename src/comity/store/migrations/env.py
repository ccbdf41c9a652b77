"""Alembic environment: migrations run on the connection comity hands over (see migrate.py)."""

from __future__ import annotations

from alembic import context

from comity.store.models import Base

config = context.config
target_metadata = Base.metadata

connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through comity.store.migrate, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
