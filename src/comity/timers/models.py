"""A timer row is written in the same transaction as the step that starts the deadline; a
worker claims due timers (FOR UPDATE SKIP LOCKED on PostgreSQL) and fires each one once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from comity.kit.clock import utc_now
from comity.store.base import Base


class Timer(Base):
    """A due time of `kind` about `subject` (unique together); `case_id` lets a request's
        timers be cancelled together when it ends. `error` names the last handler failure; a failed
    timer is retried (`attempts`) before it is given up."""

    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_due", "fired_at", "due_at"),
        # What a scheduler tick reads: only pending timers, by due time.
        Index(
            "ix_timers_pending_due",
            "due_at",
            postgresql_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
            sqlite_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
        ),
        Index("ix_timers_case", "case_id"),
        Index("ix_timers_subject", "kind", "subject", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    fired_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    fired_by: Mapped[str | None] = mapped_column(String(80), default=None)
    case_id: Mapped[str | None] = mapped_column(String(36), default=None)
    error: Mapped[str | None] = mapped_column(String(200), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Handler failures so far; the timer is retried later until `RETRY_AFTER` runs out."""
