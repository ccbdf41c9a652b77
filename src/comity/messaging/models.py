"""Outbox, inbox and receipts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from comity.kit.clock import utc_now
from comity.protocol.receipts import Receipt
from comity.store.base import Base, status_check

OUTBOX_STATUSES = ["pending", "delivered", "rejected", "expired"]


class OutboxMessage(Base):
    """A sealed envelope waiting for (or done with) delivery. Written in the same transaction
    as the state change that caused it; a worker leases it, posts it, and marks it delivered
    only when a valid signed receipt comes back."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(status_check("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_conversation", "conversation_id", "recipient", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(36))
    recipient: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(400))
    message_type: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[str] = mapped_column(Text)
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utc_now)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    leased_by: Mapped[str | None] = mapped_column(String(80), default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class InboxMessage(Base):
    """An envelope this node accepted. The unique message id is the replay guard: the same
    envelope again returns the stored receipt; another envelope with the same id is refused."""

    __tablename__ = "inbox"

    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    sender: Mapped[str] = mapped_column(String(64))
    message_type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    directory_version: Mapped[int] = mapped_column(Integer)
    envelope: Mapped[str] = mapped_column(Text)
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    receipt: Mapped[str] = mapped_column(Text, doc="The signed delivered receipt we returned")


class ReceiptRecord(Base):
    """Positive and negative evidence about a message, sent or received, kept as signed."""

    __tablename__ = "receipts"
    __table_args__ = (
        CheckConstraint(
            status_check("evidence", ["delivered", "retrieved", "not-delivered", "not-retrieved"]),
            name="evidence",
        ),
        Index("ix_receipts_message", "message_id", "evidence", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[str] = mapped_column(String(16))
    issuer: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)

    @classmethod
    def of(cls, receipt: Receipt, token: str) -> ReceiptRecord:
        """The row that keeps `receipt`, signed as `token` (by this node or by a peer)."""
        return cls(
            message_id=receipt.message_id,
            conversation_id=receipt.conversation_id,
            evidence=receipt.evidence.value,
            issuer=receipt.issuer,
            token=token,
            at=receipt.at,
        )


class PlainRow(Base):
    """Unsigned JSON rows for the benchmark ceiling only (enabled by `bench_endpoints`)."""

    __tablename__ = "bench_plain_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
