"""A notification tells an officer (or every holder of a role) that something needs them.

The text names the request, the act and the due time, never the request's content: it may
leave the node by e-mail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from comity.kit.clock import utc_now
from comity.store.base import Base, status_check

EMAIL_STATUSES = ["none", "pending", "sent", "failed"]


class Notification(Base):
    """`audience` is `user:<id>` or `role:<role>`; `email_to` is set when it also goes by mail."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(status_check("email_status", EMAIL_STATUSES), name="email_status"),
        Index("ix_notifications_audience", "audience", "read_at"),
        Index("ix_notifications_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    audience: Mapped[str] = mapped_column(String(160))
    topic: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(36), default=None)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    email_to: Mapped[str | None] = mapped_column(String(320), default=None)
    email_status: Mapped[str] = mapped_column(String(16), default="none")
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    emailed_at: Mapped[datetime | None] = mapped_column(default=None)
