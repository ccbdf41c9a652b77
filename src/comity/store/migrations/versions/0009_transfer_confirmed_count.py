"""An incoming transfer counts its confirmed chunks: `evidence_transfers.confirmed_chunks`

Backfilled from the chunk rows of transfers in progress.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 03:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_transfers") as batch:
        batch.add_column(
            sa.Column("confirmed_chunks", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE evidence_transfers SET confirmed_chunks = (SELECT COUNT(*) FROM evidence_chunks"
        " WHERE evidence_chunks.transfer_id = evidence_transfers.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("evidence_transfers") as batch:
        batch.drop_column("confirmed_chunks")
