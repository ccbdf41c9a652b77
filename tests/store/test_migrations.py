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
