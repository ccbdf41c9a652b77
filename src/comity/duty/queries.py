"""What the 24/7 desk shows: who is on duty now, the urgent requests waiting for an
acknowledgement (with the time left or how late, and where each was referred), and the recent
assignments and hand-offs. Reads only; the page and any other edge call it.

"Waiting" is read from the requests, not from the assignments: every urgent request we
received and have not yet acted on stays there — assigned, escalated, or handed off to the
central authority (when the chain ran out, or at once when nobody was on the roster) — until
someone on our side acts on it (`duty.service.acknowledged` takes the same acts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from comity.cases import workflow
from comity.cases.models import Case, CaseEvent
from comity.duty import service as duty
from comity.duty.models import AssignmentStatus, DutyAssignment, RosterEntry
from comity.protocol.acts import Act, Side

#: How many recent assignments the desk lists.
RECENT = 30

#: Acts of ours that do not take a received request in hand (the receipt itself).
_NOT_IN_HAND = (Act.SUBMIT.value, Act.DELIVER.value)


class Referral(StrEnum):
    """Where an unacknowledged urgent request stands on the escalation chain."""

    ASSIGNED = "assigned"
    """With the first person on the chain, within or past their deadline."""
    ESCALATED = "escalated"
    """With a later person on the chain: an earlier one let the deadline pass."""
    HANDED_OFF = "handed-off"
    """The chain ran out: the central authority has it."""
    HANDED_OFF_ON_RECEIPT = "handed-off-on-receipt"
    """Nobody was on the roster when it arrived: the central authority had it at once."""


@dataclass(frozen=True)
class Waiting:
    """An urgent request waiting for its acknowledgement.

    `assignment` is the latest one (None when handed off on receipt); `due_at` is the
    acknowledgement deadline it is measured against: the open assignment's, the last one's
    when the chain ran out, or the desk's deadline from arrival when nobody was on the roster.
    """

    case: Case
    assignment: DutyAssignment | None
    referral: Referral
    escalations: int
    due_at: datetime
    seconds_left: float

    @property
    def case_id(self) -> str:
        return self.case.id

    @property
    def escalated(self) -> bool:
        return self.referral is not Referral.ASSIGNED

    @property
    def handed_off(self) -> bool:
        return self.referral in (Referral.HANDED_OFF, Referral.HANDED_OFF_ON_RECEIPT)

    @property
    def late(self) -> bool:
        return self.seconds_left < 0


@dataclass(frozen=True)
class Desk:
    on_duty: list[RosterEntry]
    off_duty: list[RosterEntry]
    waiting: list[Waiting]
    recent: list[DutyAssignment]
    handed_off: list[DutyAssignment]

    def as_context(self) -> dict[str, Any]:
        return {
            "on_duty": self.on_duty,
            "off_duty": self.off_duty,
            "waiting": self.waiting,
            "recent": self.recent,
            "handed_off": self.handed_off,
        }


def unacknowledged_urgent(session: Session) -> list[Case]:
    """Urgent requests we received, not ended, on which our side has not acted yet."""
    ours = (
        select(CaseEvent.id)
        .where(
            CaseEvent.case_id == Case.id,
            CaseEvent.by_side == Side.REQUESTED.value,
            CaseEvent.act.not_in(_NOT_IN_HAND),
        )
        .correlate(Case)
    )
    received = session.execute(
        select(Case).where(
            Case.side == Side.REQUESTED.value,
            Case.state.not_in(workflow.ENDED),
            ~exists(ours),
        )
    ).scalars()
    return [case for case in received if workflow.urgent(case)]


def waiting_for(
    case: Case, chain: list[DutyAssignment], ack_seconds: int, now: datetime
) -> Waiting:
    """Where the unacknowledged urgent `case` stands, given its assignments (oldest first)."""
    latest = chain[-1] if chain else None
    escalations = max(len(chain) - 1, 0)  # times it moved up the chain
    if latest is None:
        referral = Referral.HANDED_OFF_ON_RECEIPT
        due = case.created_at + timedelta(seconds=ack_seconds)
    else:
        due = latest.ack_due_at
        if latest.status == AssignmentStatus.HANDED_OFF.value:
            referral = Referral.HANDED_OFF
        elif latest.level > 1:
            referral = Referral.ESCALATED
        else:
            referral = Referral.ASSIGNED
    return Waiting(
        case=case,
        assignment=latest,
        referral=referral,
        escalations=escalations,
        due_at=due,
        seconds_left=(due - now).total_seconds(),
    )


def desk(session: Session, now: datetime, ack_seconds: int, recent: int = RECENT) -> Desk:
    """The desk at `now`: waiting requests most urgent (soonest due, or latest) first, recent
    assignments newest first. `ack_seconds` is the node's `duty_ack_seconds`."""
    people = duty.roster(session)
    on_duty = [p for p in people if duty.on_duty(p, now)]
    everything = duty.assignments(session)
    by_case: dict[str, list[DutyAssignment]] = {}
    for a in everything:
        by_case.setdefault(a.case_id, []).append(a)
    waiting = [
        waiting_for(case, by_case.get(case.id, []), ack_seconds, now)
        for case in unacknowledged_urgent(session)
    ]
    waiting.sort(key=lambda w: (w.due_at, w.case_id))
    latest = sorted(everything, key=lambda a: a.assigned_at, reverse=True)[:recent]
    return Desk(
        on_duty=on_duty,
        off_duty=[p for p in people if p not in on_duty],
        waiting=waiting,
        recent=latest,
        handed_off=[a for a in latest if a.status == AssignmentStatus.HANDED_OFF.value],
    )
