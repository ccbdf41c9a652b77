"""Roster and assignments of the 24/7 desk (Budapest 35, UN Convention against Cybercrime 41:
a point of contact available twenty-four hours a day, seven days a week)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from comity.kit.clock import utc_now
from comity.store.base import Base, status_check

ROSTER_ROLES = ["officer", "supervisor", "central-authority"]


class AssignmentStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    HANDED_OFF = "handed-off"


ASSIGNMENT_STATUSES = [status.value for status in AssignmentStatus]

ALLOWED_STATUS_TRANSITIONS: dict[AssignmentStatus, frozenset[AssignmentStatus]] = {
    # The person acknowledged in time (any act of ours on the request), or did not: the
    # request goes to the next person on the chain.
    AssignmentStatus.OPEN: frozenset({AssignmentStatus.ACKNOWLEDGED, AssignmentStatus.ESCALATED}),
    # Nobody was left on the chain: the central authority takes the request.
    AssignmentStatus.ESCALATED: frozenset({AssignmentStatus.HANDED_OFF}),
    AssignmentStatus.ACKNOWLEDGED: frozenset(),
    AssignmentStatus.HANDED_OFF: frozenset(),
}
"""Which status an assignment may take next; `duty.service` changes a status only through it."""


class RosterEntry(Base):
    """One person on the desk. `rank` orders the escalation chain (lowest first); the shift is
    local time `shift_start`-`shift_end` in `timezone` (an IANA name), overnight if end < start;
    00:00-00:00 means all day."""

    __tablename__ = "duty_roster"
    __table_args__ = (CheckConstraint(status_check("role", ROSTER_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    role: Mapped[str] = mapped_column(String(32), default="officer")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    shift_start: Mapped[str] = mapped_column(String(5), default="00:00")
    shift_end: Mapped[str] = mapped_column(String(5), default="00:00")
    rank: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class DutyAssignment(Base):
    """A request given to one person, with the time by which they must acknowledge it."""

    __tablename__ = "duty_assignments"
    __table_args__ = (
        CheckConstraint(status_check("status", ASSIGNMENT_STATUSES), name="status"),
        Index("ix_duty_assignments_case", "case_id", "level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36))
    user: Mapped[str] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="open")
    assigned_at: Mapped[datetime] = mapped_column(default=utc_now)
    ack_due_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
