"""evidence: held packages, transfers, received chunks, custody, consents, uses

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-28 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import comity.store.base

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_chunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transfer_id", sa.String(length=36), nullable=False),
        sa.Column("file_no", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("at", comity.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_chunks")),
    )
    with op.batch_alter_table("evidence_chunks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evidence_chunks_position", ["transfer_id", "file_no", "seq"], unique=True
        )

    op.create_table(
        "evidence_consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("supplier", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", comity.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", comity.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'granted', 'refused')",
            name=op.f("ck_evidence_consents_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_consents")),
    )
    with op.batch_alter_table("evidence_consents", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_consents_package", ["package_id"], unique=False)

    op.create_table(
        "evidence_custody",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("at", comity.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_custody")),
    )
    with op.batch_alter_table("evidence_custody", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_custody_seq", ["package_id", "seq"], unique=True)

    op.create_table(
        "evidence_packages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=200), nullable=False),
        sa.Column("producer", sa.String(length=64), nullable=False),
        sa.Column("supplier", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("manifest_token", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("permitted_proceedings", sa.JSON(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("total_size", sa.BigInteger(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", comity.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", comity.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('receiving', 'verified', 'rejected')",
            name=op.f("ck_evidence_packages_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_packages")),
    )
    with op.batch_alter_table("evidence_packages", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_packages_case", ["case_id"], unique=False)

    op.create_table(
        "evidence_transfers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("peer", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", comity.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", comity.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "direction IN ('out', 'in')", name=op.f("ck_evidence_transfers_direction")
        ),
        sa.CheckConstraint(
            "status IN ('sending', 'receiving', 'verified', 'rejected')",
            name=op.f("ck_evidence_transfers_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_transfers")),
    )
    with op.batch_alter_table("evidence_transfers", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_transfers_package", ["package_id"], unique=False)

    op.create_table(
        "evidence_use_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", comity.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", comity.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("uses", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_use_reports")),
    )
    with op.batch_alter_table("evidence_use_reports", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_use_reports_package", ["package_id"], unique=False)

    op.create_table(
        "evidence_uses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("use", sa.String(length=40), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("proceeding", sa.String(length=500), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", comity.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_uses")),
    )
    with op.batch_alter_table("evidence_uses", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_uses_package", ["package_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_uses", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_uses_package")

    op.drop_table("evidence_uses")
    with op.batch_alter_table("evidence_use_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_use_reports_package")

    op.drop_table("evidence_use_reports")
    with op.batch_alter_table("evidence_transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_transfers_package")

    op.drop_table("evidence_transfers")
    with op.batch_alter_table("evidence_packages", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_packages_case")

    op.drop_table("evidence_packages")
    with op.batch_alter_table("evidence_custody", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_custody_seq")

    op.drop_table("evidence_custody")
    with op.batch_alter_table("evidence_consents", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_consents_package")

    op.drop_table("evidence_consents")
    with op.batch_alter_table("evidence_chunks", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_chunks_position")

    op.drop_table("evidence_chunks")
