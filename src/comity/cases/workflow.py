"""What follows an applied act on this node: timers started or stopped, officers told, the
duty desk engaged, a preservation kept alive by its follow-up request.

Called by `cases.service` for our own acts and for the counterpart's, in the same transaction
as the act, so a timer exists exactly when the act that started it was committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from comity import law
from comity.cases import rules
from comity.cases.models import Case, CaseEvent
from comity.kit.clock import utc_now
from comity.kit.settings import NodeSettings
from comity.law.loader import get_law
from comity.notifications import service as notifications
from comity.protocol.acts import Act, Side
from comity.protocol.kinds import table_for
from comity.timers import service as timers

ACK_EXPECTED = "acknowledgement-expected"
RETRIEVAL_DEADLINE = "retrieval-deadline"
REQUEST_DEADLINE = "request-deadline"
LAW_DEADLINE = "law-deadline"
STATUS_REMINDER = "status-reminder"
STATUS_ANSWER = "status-answer-due"
PRESERVATION_WARNING = "preservation-warning"
PRESERVATION_EXPIRY = "preservation-expiry"
PRESERVATION_TIMERS = (PRESERVATION_WARNING, PRESERVATION_EXPIRY)

#: States in which a request is still waiting for a decision (accept or refuse).
UNDECIDED = (
    "submitted",
    "delivered",
    "acknowledged",
    "information-requested",
    "consulting",
    "conditions-proposed",
    "postponed",
)
ENDED = ("refused", "withdrawn", "closed", "conditions-declined")


class Origin(StrEnum):
    """Who performed an applied act: this node's officer, the counterpart, or the system (a
    preservation closed by the passing of its date, on both nodes alike)."""

    OURS = "ours"
    THEIRS = "theirs"
    SYSTEM = "system"


UrgentHook = Callable[[Session, NodeSettings, Case], object]
"""An urgent request was received (the 24/7 desk takes it)."""
ActedHook = Callable[[Session, str, str], object]
"""Our side acted on a received request (`case_id`, the officer): it was taken in hand."""


@dataclass
class CaseHooks:
    """What other features do when a request moves, without requests knowing them: they are
    registered by the node's assembly (`comity.transport.wiring`)."""

    on_urgent_received: list[UrgentHook] = field(default_factory=list)
    on_answered: list[ActedHook] = field(default_factory=list)


_hooks = CaseHooks()


def install(hooks: CaseHooks) -> None:
    """Use `hooks` for every request of this process from now on (the assembly calls it)."""
    global _hooks
    _hooks = hooks


def held_states(kind: str) -> frozenset[str]:
    """States in which an accepted measure is held (preserved data, until its date): those
    reachable from `accepted` in the kind's table without ending the request."""
    table = table_for(kind)
    found: set[str] = set()
    todo = ["accepted"] if "accepted" in table.states else []
    while todo:
        state = todo.pop()
        if state in found or state in ENDED:
            continue
        found.add(state)
        todo.extend(t.target for t in table.allowed(state))
    return frozenset(found)


def urgent(case: Case) -> bool:
    """Whether the request goes through the 24/7 desk: its route in the law data starts at the
    24/7 contact (preservation, emergency disclosure, ...)."""
    try:
        inst = get_law().instruments.get(rules.instrument_of(case))
        rule = inst.kinds.get(case.kind) if inst else None
    except law.LawError:
        return False
    return rule is not None and rule.route.primary == "24/7-contact"


def desk_role(case: Case) -> str:
    return "duty-officer" if urgent(case) else "central-authority-officer"


def tell_desk(session: Session, case: Case, topic: str, text: str) -> None:
    notifications.notify_role(session, desk_role(case), topic, text, case.id)


def after_act(
    session: Session, settings: NodeSettings, case: Case, event: CaseEvent, origin: Origin
) -> None:
    """Effects of `event` (already applied to `case`) on this node."""
    ours, theirs = origin is Origin.OURS, origin is Origin.THEIRS
    act = Act(event.act)
    now = utc_now()
    requesting = case.side == Side.REQUESTING.value
    if act is Act.SUBMIT:
        _link_follow_up(session, case)
        _schedule_deadlines(session, case, now)
        if requesting:
            timers.schedule_once(
                session,
                ACK_EXPECTED,
                case.id,
                now + timedelta(seconds=settings.acknowledgement_expected_seconds),
                case_id=case.id,
            )
    if act is Act.DELIVER and not requesting:
        tell_desk(
            session,
            case,
            "request-received",
            f"New {case.kind} request {case.id} from {case.counterpart}.",
        )
        if urgent(case):
            for received in _hooks.on_urgent_received:
                received(session, settings, case)
    if ours and not requesting and act not in (Act.SUBMIT, Act.DELIVER):
        for answered in _hooks.on_answered:
            answered(session, case.id, event.actor)
    if theirs and act not in (Act.SUBMIT, Act.DELIVER):
        tell_desk(
            session,
            case,
            f"act-{act.value}",
            f"{case.counterpart} performed '{act.value}' on {case.kind} request {case.id}"
            f" (now {case.state}).",
        )
    if requesting and event.by_side == Side.REQUESTED.value and act is not Act.DELIVER:
        timers.cancel(session, ACK_EXPECTED, case.id)
        _restart_status_reminder(session, settings, case, event.seq, now)
    if act is Act.STATUS_QUERY and not requesting:
        timers.schedule(
            session,
            STATUS_ANSWER,
            f"{case.id}:{event.seq}",
            now + timedelta(seconds=settings.status_answer_seconds),
            case_id=case.id,
        )
    if act is Act.STATUS_REPORT:
        timers.cancel_for_case(session, case.id, (STATUS_ANSWER,))
    if act in (Act.ACCEPT, Act.EXTEND) and case.preserved_until is not None:
        _schedule_preservation(session, settings, case, now)
    if case.state in ENDED:
        timers.cancel_for_case(session, case.id)
    if case.linked_to and case.state not in UNDECIDED:
        _follow_up_decided(session, case, now)


def _link_follow_up(session: Session, case: Case) -> None:
    """A follow-up request naming a preservation between the same parties keeps it alive
    (Budapest 29(7), UN Convention against Cybercrime 42(7))."""
    ref = case.request.get("follows_preservation") if isinstance(case.request, dict) else None
    if not ref or ref == case.id:
        return
    preserved = session.get(Case, str(ref))
    if (
        preserved is not None
        and preserved.kind == "preservation"
        and preserved.counterpart == case.counterpart
        and preserved.side == case.side
    ):
        case.linked_to = preserved.id


def _schedule_deadlines(session: Session, case: Case, now: datetime) -> None:
    if case.deadline_at is not None:
        timers.schedule_once(session, REQUEST_DEADLINE, case.id, case.deadline_at, case_id=case.id)
    try:
        due = law.deadlines(case.kind, rules.instrument_of(case), now)
    except law.LawError:
        return
    for deadline in due:
        if deadline.bound == "maximum":
            timers.schedule_once(
                session,
                LAW_DEADLINE,
                f"{case.id}:{deadline.code}",
                deadline.due,
                case_id=case.id,
                code=deadline.code,
                citation=deadline.citation,
            )


def _restart_status_reminder(
    session: Session, settings: NodeSettings, case: Case, seq: int, now: datetime
) -> None:
    timers.cancel_for_case(session, case.id, (STATUS_REMINDER,))
    if case.state in ENDED:
        return
    timers.schedule(
        session,
        STATUS_REMINDER,
        f"{case.id}:{seq}",
        now + timedelta(days=settings.status_reminder_days),
        case_id=case.id,
    )


def expiry_time(case: Case) -> datetime:
    """Data is preserved through the whole of the `preserved_until` day (UTC)."""
    if case.preserved_until is None:
        raise ValueError(f"request {case.id} preserves nothing")
    return datetime.combine(case.preserved_until + timedelta(days=1), time(0), tzinfo=UTC)


def _schedule_preservation(
    session: Session, settings: NodeSettings, case: Case, now: datetime
) -> None:
    timers.cancel_for_case(session, case.id, PRESERVATION_TIMERS)
    until = str(case.preserved_until)
    expires = expiry_time(case)
    for days in sorted(set(settings.preservation_warning_days), reverse=True):
        warn_at = expires - timedelta(days=days)
        if warn_at > now:
            timers.schedule_once(
                session,
                PRESERVATION_WARNING,
                f"{case.id}:{until}:{days}",
                warn_at,
                case_id=case.id,
                days=days,
            )
    timers.schedule_once(
        session, PRESERVATION_EXPIRY, f"{case.id}:{until}", expires, case_id=case.id
    )


def open_follow_up(session: Session, preservation_id: str) -> Case | None:
    """The follow-up request of a preservation still waiting for a decision, if any."""
    return session.execute(
        select(Case).where(Case.linked_to == preservation_id, Case.state.in_(UNDECIDED)).limit(1)
    ).scalar_one_or_none()


def _follow_up_decided(session: Session, follow_up: Case, now: datetime) -> None:
    """The follow-up was decided: a preservation held past its date by it may now expire."""
    preserved = session.get(Case, follow_up.linked_to) if follow_up.linked_to else None
    if preserved is None or preserved.preserved_until is None or preserved.state in ENDED:
        return
    if expiry_time(preserved) <= now and open_follow_up(session, preserved.id) is None:
        timers.schedule_once(
            session,
            PRESERVATION_EXPIRY,
            f"{preserved.id}:decided:{follow_up.id}",
            now,
            case_id=preserved.id,
        )
