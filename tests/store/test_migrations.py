"""Schema migrations on a database that already holds data, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from comity.kit.clock import ensure_utc, utc_now
from comity.kit.db import make_engine
from comity.store.migrate import current_revision, upgrade


def test_tokens_issued_before_expiry_existed_get_ninety_days_from_the_upgrade(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
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
    finally:
        engine.dispose()


def test_a_transfer_in_progress_keeps_its_confirmed_chunks_across_the_upgrade(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    now = utc_now()
    try:
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
    finally:
        engine.dispose()
