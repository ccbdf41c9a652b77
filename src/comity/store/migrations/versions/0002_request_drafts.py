"""request drafts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import comity.store.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_drafts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("requesting", sa.String(length=64), nullable=False),
        sa.Column("requested", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("drafter", sa.String(length=120), nullable=False),
        sa.Column("editors", sa.JSON(), nullable=False),
        sa.Column("approver", sa.String(length=120), nullable=True),
        sa.Column("created_at", comity.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", comity.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", comity.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", comity.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'dispatched')",
            name=op.f("ck_request_drafts_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_drafts")),
    )
    with op.batch_alter_table("request_drafts", schema=None) as batch_op:
        batch_op.create_index("ix_request_drafts_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_drafts", schema=None) as batch_op:
        batch_op.drop_index("ix_request_drafts_status")
    op.drop_table("request_drafts")
