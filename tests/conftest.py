"""Shared fixtures: databases on SQLite and on the machine's PostgreSQL, and nodes.

PostgreSQL is required: when it cannot be reached the PostgreSQL tests fail, they are never
skipped silently (set COMITY_TEST_SKIP_POSTGRES=1 to opt out deliberately on a laptop).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from comity.kit.db import make_engine

PG_ADMIN_URL = os.environ.get(
    "COMITY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSPHRASE = "test passphrase for keys at rest"


def _pg_admin() -> sa.Engine:
    return make_engine(PG_ADMIN_URL, pool_size=1, max_overflow=0)


class PostgresDatabases:
    """Creates throwaway databases on the PostgreSQL server and drops them afterwards."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.admin = _pg_admin()
        try:
            with self.admin.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError as exc:
            self.admin.dispose()
            pytest.fail(
                f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.orig}. Start it "
                "(pg_ctlcluster ... main start) or set COMITY_TEST_SKIP_POSTGRES=1 deliberately."
            )

    def create(self) -> str:
        name = f"comity_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        with self.admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in self.created:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


def backends() -> list[object]:
    params: list[object] = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get("COMITY_TEST_SKIP_POSTGRES") != "1":
        params.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres))
    return params


@pytest.fixture(params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'node.db'}"
    databases: PostgresDatabases = request.getfixturevalue("postgres")
    return databases.create()


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMITY_KEY_PASSPHRASE", PASSPHRASE)


@pytest.fixture
def database_factory(database_url: str, request: pytest.FixtureRequest, tmp_path: Path):
    """Makes further fresh databases on the same backend as `database_url`."""

    def make() -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / (uuid.uuid4().hex + '.db')}"
        databases: PostgresDatabases = request.getfixturevalue("postgres")
        return databases.create()

    return make


@pytest.fixture
def world(tmp_path: Path, database_factory):
    """A registry and the states XA, XB and XC, each with its own database."""
    from tests.support import build_world

    built = build_world(tmp_path, database_factory, ["XA", "XB", "XC"])
    yield built
    built.close()
