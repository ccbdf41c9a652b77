"""Shared fixtures: databases on SQLite and on the machine's PostgreSQL, and nodes.

PostgreSQL is required: when it cannot be reached the PostgreSQL tests fail, they are never
skipped silently (set COMITY_TEST_SKIP_POSTGRES=1 to opt out deliberately on a laptop).

The schema is built once per session and backend, by the real Alembic migrations: a migrated
SQLite file that each test copies, and a PostgreSQL template database each test's database is
created from (`CREATE DATABASE ... TEMPLATE`). `database_url` and `database_factory` hand out
such current databases (a node's migrate step finds them current and does nothing);
`empty_database_url` hands out an empty one, for the migration tests. Under pytest-xdist each
worker has its own templates and its own uniquely named databases.

Key derivation runs with the production parameters once per process (tests/kdf.py).
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from comity.kit.db import make_engine
from comity.store.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "COMITY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSPHRASE = "test passphrase for keys at rest"


def _pg_admin() -> sa.Engine:
    return make_engine(PG_ADMIN_URL, pool_size=1, max_overflow=0)


class PostgresDatabases:
    """Creates throwaway databases on the PostgreSQL server and drops them afterwards.

    A test's databases are dropped as soon as it ends (`release`), by a thread in the
    background: a DROP DATABASE waits on the server's disk for a good part of a second, time
    the next test can use. The session's end waits for the last drops."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.template: str | None = None
        self._drops: queue.Queue[str | None] = queue.Queue()
        self._dropper: threading.Thread | None = None
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

    def create(self, migrated: bool = False) -> str:
        """A new database: empty, or (`migrated`) a copy of this session's migrated template."""
        name = f"comity_test_{uuid.uuid4().hex[:12]}"
        template = f' TEMPLATE "{self._template()}"' if migrated else ""
        with self.admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"{template}'))
        self.created.append(name)
        return _url_of(name)

    def _template(self) -> str:
        """This session's template, migrated by Alembic on first use. Nothing stays connected
        to it (PostgreSQL copies a template only while nobody is)."""
        if self.template is None:
            url = self.create()
            engine = make_engine(url, pool_size=1, max_overflow=0)
            try:
                upgrade(engine)
            finally:
                engine.dispose()
            self.template = url.rsplit("/", 1)[1]
        return self.template

    def release(self, url: str) -> None:
        """Drop the database at `url` in the background (terminating what is connected)."""
        name = url.rsplit("/", 1)[1]
        if name == self.template:
            return
        self.created.remove(name)
        if self._dropper is None:
            self._dropper = threading.Thread(target=self._drop_queued, daemon=True)
            self._dropper.start()
        self._drops.put(name)

    def _drop_queued(self) -> None:
        admin = _pg_admin()
        try:
            while (name := self._drops.get()) is not None:
                with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    def drop_all(self) -> None:
        if self._dropper is not None:
            self._drops.put(None)
            self._dropper.join()
        with self.admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in self.created:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def _url_of(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated by Alembic once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "comity_template.db"
    engine = make_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    # The last connection closed checkpointed the WAL into the main file: it alone is the copy.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session", autouse=True)
def _kdf_once_per_process() -> Iterator[None]:
    from tests.kdf import derived_once

    with derived_once():
        yield


@pytest.fixture(params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_factory(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[], str]:
    """Makes fresh databases at the current schema on `backend` (copies of the template)."""

    def make() -> str:
        if backend == "sqlite":
            path = tmp_path / f"{uuid.uuid4().hex}.db"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            return f"sqlite:///{path}"
        databases: PostgresDatabases = request.getfixturevalue("postgres")
        url = databases.create(migrated=True)
        request.addfinalizer(lambda: databases.release(url))
        return url

    return make


@pytest.fixture
def database_url(database_factory: Callable[[], str]) -> str:
    """A fresh database URL at the current schema, on each backend."""
    return database_factory()


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A fresh, empty database URL (no schema), on each backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres")
    url = databases.create()
    yield url
    databases.release(url)


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMITY_KEY_PASSPHRASE", PASSPHRASE)


@pytest.fixture
def world(tmp_path: Path, database_factory):
    """A registry and the states XA, XB and XC, each with its own database."""
    from tests.support import build_world

    built = build_world(tmp_path, database_factory, ["XA", "XB", "XC"])
    yield built
    built.close()
