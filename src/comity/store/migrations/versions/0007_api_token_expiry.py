"""API tokens expire: `api_tokens.expires_at`

Tokens issued before this revision get 90 days from the upgrade, so that systems using them
keep working while their administrators issue new ones.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 03:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import comity.store.base

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRACE = timedelta(days=90)


def upgrade() -> None:
    utc = comity.store.base.UTCDateTime(timezone=True)
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", utc, nullable=True))
    tokens = sa.table("api_tokens", sa.column("expires_at", utc))
    op.execute(
        tokens.update()
        .where(tokens.c.expires_at.is_(None))
        .values(expires_at=datetime.now(UTC) + GRACE)
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=utc, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
