"""workflow: conditions, consultation, follow-up links and deadlines on requests; timers by
request; duty roster and assignments; notifications

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import comity.store.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = comity.store.base.UTCDateTime(timezone=True)
PENDING = "fired_at IS NULL AND cancelled_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conditions", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("consulted_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("linked_to", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("deadline_at", UTC, nullable=True))
        batch_op.create_index("ix_cases_linked_to", ["linked_to"], unique=False)
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("error", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_timers_case", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_timers_pending_due",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text(PENDING),
            sqlite_where=sa.text(PENDING),
        )
    op.create_table(
        "duty_roster",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("shift_start", sa.String(length=5), nullable=False),
        sa.Column("shift_end", sa.String(length=5), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(
            "role IN ('officer', 'supervisor', 'central-authority')",
            name=op.f("ck_duty_roster_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_roster")),
        sa.UniqueConstraint("user", name=op.f("uq_duty_roster_user")),
    )
    op.create_table(
        "duty_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("user", sa.String(length=120), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_at", UTC, nullable=False),
        sa.Column("ack_due_at", UTC, nullable=False),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'escalated', 'handed-off')",
            name=op.f("ck_duty_assignments_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_assignments")),
    )
    op.create_index(
        "ix_duty_assignments_case", "duty_assignments", ["case_id", "level"], unique=False
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("audience", sa.String(length=160), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("read_at", UTC, nullable=True),
        sa.Column("email_to", sa.String(length=320), nullable=True),
        sa.Column("email_status", sa.String(length=16), nullable=False),
        sa.Column("email_attempts", sa.Integer(), nullable=False),
        sa.Column("emailed_at", UTC, nullable=True),
        sa.CheckConstraint(
            "email_status IN ('none', 'pending', 'sent', 'failed')",
            name=op.f("ck_notifications_email_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_audience", "notifications", ["audience", "read_at"], unique=False
    )
    op.create_index("ix_notifications_case", "notifications", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notifications_case", table_name="notifications")
    op.drop_index("ix_notifications_audience", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_duty_assignments_case", table_name="duty_assignments")
    op.drop_table("duty_assignments")
    op.drop_table("duty_roster")
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.drop_index("ix_timers_pending_due")
        batch_op.drop_index("ix_timers_case")
        batch_op.drop_column("error")
        batch_op.drop_column("case_id")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_linked_to")
        batch_op.drop_column("deadline_at")
        batch_op.drop_column("linked_to")
        batch_op.drop_column("consulted_at")
        batch_op.drop_column("conditions")
