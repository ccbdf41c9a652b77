"""accounts (users, sessions) and audit checkpoints (issued and received)

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-28 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import comity.store.base

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = comity.store.base.UTCDateTime(timezone=True)
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("totp_salt", sa.LargeBinary(), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", utc, nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("password_changed_at", utc, nullable=False),
        sa.Column("last_login_at", utc, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "user_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("expires_at", utc, nullable=False),
        sa.Column("last_seen_at", utc, nullable=False),
        sa.Column("second_factor", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", utc, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("sent_to", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_checkpoints_received",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("received_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints_received")),
        sa.UniqueConstraint("message_id", name=op.f("uq_audit_checkpoints_received_message_id")),
    )
    with op.batch_alter_table("audit_checkpoints_received", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_checkpoints_received_issuer", ["issuer", "count"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoints_received", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_checkpoints_received_issuer")
    op.drop_table("audit_checkpoints_received")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
    op.drop_table("users")
