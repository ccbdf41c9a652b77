"""What an officer sees of one request besides its content: the history of acts, receipts and
timers in time order, the acts open to this node's party and the user's roles now, the grounds
the law allows for a refusal or a postponement, and labels of the request's fields.

Pure data access: no HTML. Reading the request's content goes through `service.open_case`
(audited, and the first opening of a received request sends the `retrieved` receipt).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from comity import law
from comity.cases import permissions, rules
from comity.cases.models import Case, CaseEvent
from comity.law.loader import get_law
from comity.messaging.models import OutboxMessage, ReceiptRecord
from comity.protocol.acts import Act, Side
from comity.protocol.kinds import table_for
from comity.timers.models import Timer

EVENT = "act"
RECEIPT = "receipt"
TIMER = "timer"

TIMER_PENDING = "pending"
TIMER_FIRED = "fired"
TIMER_CANCELLED = "cancelled"


@dataclass
class Entry:
    """One line of the timeline. `what` is the act, the receipt's evidence or the timer's kind;
    `status` is set for timers (pending, fired, cancelled)."""

    type: str
    at: datetime
    what: str
    by: str = ""
    side: str = ""
    from_state: str = ""
    to_state: str = ""
    note: str = ""
    status: str = ""
    message_id: str = ""
    body: dict[str, Any] | None = None
    due_at: datetime | None = None


def timeline(session: Session, case: Case, events: Iterable[CaseEvent]) -> list[Entry]:
    """Every act, receipt and timer of `case`, oldest first. A pending timer is placed at its
    due time; a fired or cancelled one at the time it fired or was cancelled."""
    entries: list[Entry] = [
        Entry(
            type=EVENT,
            at=e.at,
            what=e.act,
            by=e.actor,
            side=e.by_side,
            from_state=e.from_state,
            to_state=e.to_state,
            note=e.note,
            message_id=e.message_id,
            body=e.body,
        )
        for e in events
    ]
    for receipt in session.execute(
        select(ReceiptRecord).where(ReceiptRecord.conversation_id == case.id)
    ).scalars():
        entries.append(
            Entry(
                type=RECEIPT,
                at=receipt.at,
                what=receipt.evidence,
                by=receipt.issuer,
                message_id=receipt.message_id,
            )
        )
    sent = select(OutboxMessage.message_id).where(OutboxMessage.conversation_id == case.id)
    found = session.execute(
        select(Timer).where(or_(Timer.case_id == case.id, Timer.subject.in_(sent)))
    ).scalars()
    for timer in found:
        if timer.kind == "notification-email":
            continue
        if timer.fired_at is not None:
            status, at = TIMER_FIRED, timer.fired_at
        elif timer.cancelled_at is not None:
            status, at = TIMER_CANCELLED, timer.cancelled_at
        else:
            status, at = TIMER_PENDING, timer.due_at
        entries.append(
            Entry(type=TIMER, at=at, what=timer.kind, status=status, due_at=timer.due_at)
        )
    order = {EVENT: 0, RECEIPT: 1, TIMER: 2}
    entries.sort(key=lambda e: (e.at, order[e.type]))
    return entries


def allowed_acts(case: Case, roles: Iterable[str]) -> list[Act]:
    """The acts this node's party may perform now, and the user's roles allow."""
    side = Side(case.side)
    held = set(roles)
    return [
        t.act
        for t in table_for(case.kind).allowed(case.state)
        if t.by is side
        and t.act is not Act.DELIVER
        and held & permissions.ACT_ROLES.get(t.act, permissions.OFFICIALS)
    ]


@dataclass(frozen=True)
class GroundOption:
    code: str
    title: str
    citation: str
    verified: bool


def grounds(session: Session, case: Case, part: str) -> tuple[list[GroundOption], str]:
    """The grounds the requested party may invoke for `part` ('refusal' or 'postponement') of
    the request under its instrument - those resting on a reservation only if it made it, its
    own declared grounds where the instrument refers to its law - and the article that lists
    them ('' if the law data names none)."""
    data = get_law()
    try:
        instrument = data.instruments.get(rules.instrument_of(case))
        rule = instrument.kinds.get(case.kind) if instrument else None
        listed = getattr(rule, part, None) if rule else None
        if instrument is None or listed is None:
            return [], ""
        allowed = law.allowed_grounds(rules.refusing(session, case), case.kind, instrument.id, part)
    except law.LawError:
        return [], ""
    options = [
        GroundOption(
            code=g.ground,
            title=data.grounds[g.ground].title if g.ground in data.grounds else g.ground,
            citation=f"{g.citation} ({g.basis})" if g.basis else g.citation,
            verified=g.verified,
        )
        for g in allowed.values()
    ]
    return options, listed.citation


def field_labels(case: Case) -> dict[str, tuple[str, str]]:
    """The request's fields the law data names: field → (label, citation)."""
    try:
        elements = law.required_elements(case.kind, rules.instrument_of(case))
    except law.LawError:
        return {}
    return {e.field: (e.label, e.citation) for e in elements}


def channel(case: Case) -> str:
    """The channel the request takes under its instrument in the law data ('' if none)."""
    try:
        instrument = get_law().instruments.get(rules.instrument_of(case))
    except law.LawError:
        return ""
    rule = instrument.kinds.get(case.kind) if instrument else None
    return str(rule.route.primary) if rule else ""
