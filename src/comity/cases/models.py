"""A case is this node's view of one conversation (a request), and its history of acts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from comity.kit.clock import utc_now
from comity.protocol.kinds import TABLES
from comity.store.base import Base, new_id, status_check

#: Every state a request of any kind can be in, from the kinds' transition tables.
CASE_STATES = sorted(set().union(*(table.states for table in TABLES.values())))


class Case(Base):
    """One request, as seen by one party. `id` is the conversation id shared by both nodes.
    `side` says whether this node is the requesting or the requested party. `state` only
    changes through `cases.service` (`_apply` for acts, `close_by_time` for an expiry), which
    checks the kind's transition table and records the step as a `CaseEvent`; the database
    refuses a state no table knows."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(status_check("side", ["requesting", "requested"]), name="side"),
        CheckConstraint(status_check("state", CASE_STATES), name="state"),
        Index("ix_cases_state", "state"),
        Index("ix_cases_linked_to", "linked_to"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(16))
    our_party: Mapped[str] = mapped_column(String(64))
    counterpart: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(40))
    instrument: Mapped[str] = mapped_column(String(40), default="")
    request: Mapped[dict[str, Any]] = mapped_column(doc="The request document (case content)")
    preserved_until: Mapped[date | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    state_at: Mapped[datetime] = mapped_column(default=utc_now)
    retrieved_at: Mapped[datetime | None] = mapped_column(default=None)
    act_count: Mapped[int] = mapped_column(Integer, default=0)
    conditions: Mapped[dict[str, Any]] = mapped_column(
        default=dict,
        doc="Conditions on use: 'proposed' while open, then 'accepted' (they bind, UNTOC 18(19))",
    )
    consulted_at: Mapped[datetime | None] = mapped_column(
        default=None, doc="When the requested party consulted (UNTOC 18(26), Budapest 27(6))"
    )
    linked_to: Mapped[str | None] = mapped_column(
        String(36), default=None, doc="The preservation request this follow-up request keeps alive"
    )
    deadline_at: Mapped[datetime | None] = mapped_column(
        default=None, doc="A deadline the requesting party gave with reasons (UNTOC 18(24))"
    )

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", lazy="raise", order_by="CaseEvent.seq"
    )


class CaseEvent(Base):
    """One applied act: who, when, from which state to which, and the envelope that carried it."""

    __tablename__ = "case_events"
    __table_args__ = (
        CheckConstraint(status_check("from_state", CASE_STATES), name="from_state"),
        CheckConstraint(status_check("to_state", CASE_STATES), name="to_state"),
        Index("ix_case_events_case_seq", "case_id", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    act: Mapped[str] = mapped_column(String(40))
    by_side: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]]
    message_id: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(default=utc_now)
    note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="events", lazy="raise")
