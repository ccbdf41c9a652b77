"""A request being drafted on the requesting side, before it becomes a case."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from comity.kit.clock import utc_now
from comity.store.base import Base, new_id, status_check


class DraftStatus(StrEnum):
    """`draft` may be edited; `approved` is frozen until reopened (four eyes: the approver is
    not the drafter); `dispatched` has become a case and never changes again."""

    DRAFT = "draft"
    APPROVED = "approved"
    DISPATCHED = "dispatched"


# Which status may follow which; anything else is refused with a typed error.
ALLOWED_STATUS_TRANSITIONS: dict[DraftStatus, frozenset[DraftStatus]] = {
    DraftStatus.DRAFT: frozenset({DraftStatus.APPROVED}),
    DraftStatus.APPROVED: frozenset({DraftStatus.DRAFT, DraftStatus.DISPATCHED}),
    DraftStatus.DISPATCHED: frozenset(),
}


class RequestDraft(Base):
    """A request document our party is writing to `requested`. `version` rises with every
    change and guards against lost updates: a write based on an older version is refused.
    `case_id` is the conversation id once dispatched."""

    __tablename__ = "request_drafts"
    __table_args__ = (
        CheckConstraint(status_check("status", [s.value for s in DraftStatus]), name="status"),
        Index("ix_request_drafts_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    requesting: Mapped[str] = mapped_column(String(64))
    requested: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(doc="The request document (case content)")
    status: Mapped[str] = mapped_column(String(16), default=DraftStatus.DRAFT.value)
    drafter: Mapped[str] = mapped_column(String(120))
    editors: Mapped[list[str]] = mapped_column(
        JSON, doc="Everyone who wrote the content (the drafter first); none of them may approve"
    )
    approver: Mapped[str | None] = mapped_column(String(120), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    case_id: Mapped[str | None] = mapped_column(String(36), default=None)
    version: Mapped[int] = mapped_column(Integer)

    # The ORM adds `AND version = :old` to every UPDATE and raises StaleDataError when no row
    # matches, so two concurrent writers cannot both succeed.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
