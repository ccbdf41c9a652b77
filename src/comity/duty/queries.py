"""What the 24/7 desk shows: who is on duty now, the urgent requests waiting for an
acknowledgement (with the time left, escalations marked), and the recent assignments and
hand-offs. Reads only; the page and any other edge call it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from comity.cases import service as cases
from comity.duty import service as duty
from comity.duty.models import DutyAssignment, RosterEntry

#: How many recent assignments the desk lists.
RECENT = 30


@dataclass(frozen=True)
class Waiting:
    """An urgent request waiting for its acknowledgement."""

    assignment: DutyAssignment
    kind: str
    counterpart: str
    state: str
    escalated: bool
    seconds_left: float


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


def desk(session: Session, now: datetime, recent: int = RECENT) -> Desk:
    """The desk at `now`: waiting requests soonest-due first, recent assignments newest first."""
    people = duty.roster(session)
    on_duty = [p for p in people if duty.on_duty(p, now)]
    everything = duty.assignments(session)
    waiting = []
    for a in everything:
        if a.status != "open":
            continue
        case = cases.get_case(session, a.case_id)
        waiting.append(
            Waiting(
                assignment=a,
                kind=case.kind,
                counterpart=case.counterpart,
                state=case.state,
                escalated=a.level > 1,
                seconds_left=(a.ack_due_at - now).total_seconds(),
            )
        )
    waiting.sort(key=lambda w: w.assignment.ack_due_at)
    latest = sorted(everything, key=lambda a: a.assigned_at, reverse=True)[:recent]
    return Desk(
        on_duty=on_duty,
        off_duty=[p for p in people if p not in on_duty],
        waiting=waiting,
        recent=latest,
        handed_off=[a for a in latest if a.status == "handed-off"],
    )
