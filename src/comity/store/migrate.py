"""Run Alembic migrations programmatically against an engine.

Alembic (with Mako, which it imports) costs a node process about 10 MiB once imported, and a
node opens and serves far more often than its schema changes. So the revisions a database
holds are read with plain SQL, and Alembic is imported only when there is something to
migrate: a node whose database is current never loads it. `HEADS` names the newest revision
of every migration line; `tests/store` keeps it equal to the migration scripts' heads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

HEADS = frozenset({"0010"})
"""The head revision of every migration line. Update it with each new migration (a test
fails until it matches the scripts)."""


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def applied(engine: Engine) -> frozenset[str]:
    """The revisions the database records (Alembic's `alembic_version`), read without Alembic;
    empty for a database never migrated."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return frozenset()
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return frozenset(str(version) for version in rows.scalars())


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database to `revision` (default: every head — features add their tables in
    their own migration branches, so a node upgrades along all of them). A database already at
    every head is left alone without loading Alembic."""
    if revision == "heads" and applied(engine) == HEADS:
        return
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The applied revisions, comma-separated, or None for an empty database."""
    return ",".join(sorted(applied(engine))) or None
