"""Schema migrations on a database that already holds data, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from comity.kit.clock import ensure_utc, utc_now
from comity.kit.db import make_engine
from comity.store.migrate import HEADS, current_revision, upgrade


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[sa.Engine]:
    """An empty database: these tests run the real Alembic migrations."""
    made = make_engine(empty_database_url)
    yield made
    made.dispose()


def test_tokens_issued_before_expiry_existed_get_ninety_days_from_the_upgrade(
    engine: sa.Engine,
) -> None:
    upgrade(engine, "0006")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                'INSERT INTO api_tokens (token_sha256, "user", roles, created_at)'
                " VALUES (:h, 'case-system', 'drafter', :at)"
            ),
            {"h": "ab" * 32, "at": utc_now() - timedelta(days=400)},
        )

    upgrade(engine)

    assert current_revision(engine) not in (None, "0006")
    with engine.connect() as connection:
        (expires,) = connection.execute(sa.text("SELECT expires_at FROM api_tokens")).one()
    if isinstance(expires, str):  # SQLite hands back text through a raw query
        expires = datetime.fromisoformat(expires)
    left = ensure_utc(expires) - utc_now()
    assert timedelta(days=89, hours=23) < left <= timedelta(days=90)


def test_a_transfer_in_progress_keeps_its_confirmed_chunks_across_the_upgrade(
    engine: sa.Engine,
) -> None:
    now = utc_now()
    upgrade(engine, "0008")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO evidence_transfers (id, package_id, direction, peer,"
                " conversation_id, status, chunk_size, keys, created_by, created_at)"
                " VALUES ('t1', 'p1', 'in', 'XA', 'c1', 'receiving', 1024, '[]', '', :at)"
            ),
            {"at": now},
        )
        for seq in range(3):
            connection.execute(
                sa.text(
                    "INSERT INTO evidence_chunks (transfer_id, file_no, seq, sha256, size, at)"
                    " VALUES ('t1', 0, :seq, :h, 1040, :at)"
                ),
                {"seq": seq, "h": f"{seq:064d}", "at": now},
            )

    upgrade(engine)

    with engine.connect() as connection:
        counted = connection.execute(
            sa.text("SELECT confirmed_chunks FROM evidence_transfers WHERE id = 't1'")
        ).scalar_one()
    assert counted == 3


def test_the_heads_the_node_knows_are_the_migration_scripts_heads() -> None:
    from alembic.script import ScriptDirectory

    from comity.store.migrate import alembic_config

    assert frozenset(ScriptDirectory.from_config(alembic_config()).get_heads()) == HEADS, (
        "a migration was added: set comity.store.migrate.HEADS to the new head(s)"
    )


def test_a_node_whose_database_is_current_never_loads_alembic(
    engine: sa.Engine, empty_database_url: str
) -> None:
    upgrade(engine)
    assert _upgrade_in_a_new_process(empty_database_url) == [",".join(sorted(HEADS)), "False"]


def test_the_suites_template_databases_are_current_and_left_alone(database_url: str) -> None:
    """`database_url` is a copy of the session's migrated template (tests/conftest.py): the
    node's migrate step must find it at every head and not run (nor load) Alembic."""
    assert _upgrade_in_a_new_process(database_url) == [",".join(sorted(HEADS)), "False"]


def _upgrade_in_a_new_process(database_url: str) -> list[str]:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from comity.kit.db import make_engine\n"
        "from comity.store.migrate import current_revision, upgrade\n"
        f"engine = make_engine({database_url!r})\n"
        "upgrade(engine)\n"
        "print(current_revision(engine), 'alembic' in sys.modules)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()


def test_request_states_are_checked_after_the_upgrade_and_a_request_keeps_its_history(
    engine: sa.Engine,
) -> None:
    from comity.protocol.kinds import TABLES

    now = utc_now()
    upgrade(engine, "0009")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO cases (id, kind, side, our_party, counterpart, state, instrument,"
                " request, created_by, created_at, state_at, act_count)"
                " VALUES ('c1', 'preservation', 'requested', 'XB', 'XA', 'delivered', 'budapest',"
                " '{}', 'XA', :at, :at, 2)"
            ),
            {"at": now},
        )
        for seq, act, before, after in (
            (1, "submit", "draft", "submitted"),
            (2, "deliver", "submitted", "delivered"),
        ):
            connection.execute(
                sa.text(
                    "INSERT INTO case_events (case_id, seq, act, by_side, actor, from_state,"
                    " to_state, body, message_id, at, note)"
                    " VALUES ('c1', :seq, :act, 'requesting', 'XA', :before, :after, '{}', '',"
                    " :at, '')"
                ),
                {"seq": seq, "act": act, "before": before, "after": after, "at": now},
            )

    upgrade(engine)

    with engine.connect() as connection:
        kept = connection.execute(
            sa.text("SELECT seq, from_state, to_state FROM case_events ORDER BY seq")
        ).all()
        assert [tuple(row) for row in kept] == [
            (1, "draft", "submitted"),
            (2, "submitted", "delivered"),
        ]
    every = set().union(*(table.states for table in TABLES.values()))
    with engine.begin() as connection:
        for state in sorted(every):  # today's tables: a new state needs a new migration
            connection.execute(sa.text("UPDATE cases SET state = :s WHERE id = 'c1'"), {"s": state})
            connection.execute(
                sa.text("UPDATE case_events SET from_state = :s, to_state = :s WHERE seq = 2"),
                {"s": state},
            )
    for statement in (
        "UPDATE cases SET state = 'lost' WHERE id = 'c1'",
        "UPDATE case_events SET from_state = 'lost' WHERE seq = 1",
        "UPDATE case_events SET to_state = 'lost' WHERE seq = 1",
    ):
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(sa.text(statement))
