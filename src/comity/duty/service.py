"""Assign urgent incoming requests to the officer on duty and escalate when nobody answers.

Chain: the officer on duty with the lowest rank gets the request and `duty_ack_seconds` to
acknowledge it (any act of ours on the request counts). When the time passes, the next officer
on duty gets it and every supervisor is told; when officers run out, a supervisor gets it; when
nobody is left, the request is handed off to the central authority. Each step is a durable
timer, so a restart loses none and fires none twice.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.cases.models import Case
from comity.duty.models import (
    ALLOWED_STATUS_TRANSITIONS,
    ROSTER_ROLES,
    AssignmentStatus,
    DutyAssignment,
    RosterEntry,
)
from comity.kit import batch
from comity.kit.clock import utc_now
from comity.kit.errors import ComityError, Conflict, NotFound
from comity.kit.settings import NodeSettings
from comity.notifications import service as notifications
from comity.timers import service as timers
from comity.timers.models import Timer
from comity.timers.service import TimerHandler

ACK_TIMER = "duty-ack-deadline"


class InvalidRosterEntry(ComityError):
    status_code = 422
    code = "invalid_roster_entry"


class AssignmentClosed(Conflict):
    """The assignment's status does not allow the change (e.g. escalating an acknowledged one)."""

    code = "duty_assignment_status"


def change_status(assignment: DutyAssignment, target: AssignmentStatus) -> None:
    """Change an assignment's status along `ALLOWED_STATUS_TRANSITIONS`, or `AssignmentClosed`."""
    current = AssignmentStatus(assignment.status)
    if target not in ALLOWED_STATUS_TRANSITIONS[current]:
        raise AssignmentClosed(
            f"assignment {assignment.id} of request {assignment.case_id} is {current.value};"
            f" it cannot become {target.value}",
            status=current.value,
        )
    assignment.status = target.value


def _clock_time(value: str, field: str) -> time:
    try:
        hours, minutes = value.split(":")
        return time(int(hours) % 24, int(minutes))
    except ValueError:
        raise InvalidRosterEntry(f"{field} must be HH:MM, not {value!r}", field=field) from None


def put_entry(session: Session, actor: str, user: str, **values: Any) -> RosterEntry:
    """Add a person to the roster or change their entry."""
    if values.get("role", "officer") not in ROSTER_ROLES:
        raise InvalidRosterEntry(f"role must be one of {', '.join(ROSTER_ROLES)}", field="role")
    try:
        ZoneInfo(values.get("timezone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRosterEntry(
            f"unknown time zone {values.get('timezone')!r}", field="timezone"
        ) from None
    for field in ("shift_start", "shift_end"):
        _clock_time(values.get(field, "00:00"), field)
    entry = session.execute(
        select(RosterEntry).where(RosterEntry.user == user)
    ).scalar_one_or_none()
    if entry is None:
        entry = RosterEntry(user=user)
        session.add(entry)
    for key, value in values.items():
        setattr(entry, key, value)
    session.flush()
    audit.record(session, "duty:roster:updated", actor, user, role=entry.role, rank=entry.rank)
    return entry


_BATCH_ROSTER = "duty.roster"
_BATCH_TAKEN = "duty.taken"


def roster(session: Session) -> list[RosterEntry]:
    scope = batch.current(session)
    if scope is not None and _BATCH_ROSTER in scope.memo:
        return list(scope.memo[_BATCH_ROSTER])
    with session.no_autoflush:  # roster changes flush at once (put_entry)
        people = list(
            session.execute(
                select(RosterEntry).order_by(RosterEntry.rank, RosterEntry.id)
            ).scalars()
        )
    if scope is not None:
        # Inbound batches never change the roster: read it once per batch.
        scope.memo[_BATCH_ROSTER] = people
    return list(people)


def on_duty(entry: RosterEntry, at: datetime) -> bool:
    """Whether `entry`'s shift covers `at`, in the entry's own time zone."""
    if not entry.active:
        return False
    local = at.astimezone(ZoneInfo(entry.timezone)).time()
    start = _clock_time(entry.shift_start, "shift_start")
    end = _clock_time(entry.shift_end, "shift_end")
    if start == end:
        return True
    if start < end:
        return start <= local < end
    return local >= start or local < end


def assignments(session: Session, case_id: str | None = None) -> list[DutyAssignment]:
    query = select(DutyAssignment).order_by(DutyAssignment.id)
    if case_id:
        query = query.where(DutyAssignment.case_id == case_id)
    return list(session.execute(query).scalars())


def _text(case: Case, due: datetime, why: str) -> str:
    return (
        f"{why}: urgent {case.kind} request {case.id} from {case.counterpart}. "
        f"Acknowledge by {due.strftime('%Y-%m-%d %H:%M')} UTC."
    )


def _give(
    session: Session, settings: NodeSettings, case: Case, entry: RosterEntry, level: int, why: str
) -> DutyAssignment:
    now = utc_now()
    due = now + timedelta(seconds=settings.duty_ack_seconds)
    assignment = DutyAssignment(
        case_id=case.id, user=entry.user, level=level, assigned_at=now, ack_due_at=due
    )
    session.add(assignment)
    session.flush()
    taken = _batch_taken(session, case.id)
    if taken is not None:
        taken.setdefault(case.id, set()).add(entry.user)
    timers.schedule(session, ACK_TIMER, str(assignment.id), due, case_id=case.id)
    notifications.notify(
        session,
        f"user:{entry.user}",
        "duty-assignment",
        _text(case, due, why),
        case.id,
        entry.email,
    )
    audit.record(session, "duty:request:assigned", "system", case.id, user=entry.user, level=level)
    return assignment


def _next_person(
    session: Session, case_id: str, now: datetime
) -> tuple[RosterEntry | None, list[RosterEntry]]:
    batch_taken = _batch_taken(session, case_id)
    if batch_taken is not None:
        taken = set(batch_taken.get(case_id, ()))
    else:
        taken = {a.user for a in assignments(session, case_id)}
    people = roster(session)
    supervisors = [p for p in people if p.role == "supervisor" and p.active]
    for entry in people:
        if entry.role == "officer" and entry.user not in taken and on_duty(entry, now):
            return entry, supervisors
    for entry in supervisors:
        if entry.user not in taken:
            return entry, supervisors
    return None, supervisors


def _batch_taken(session: Session, case_id: str) -> dict[str, set[str]] | None:
    """In a batch scope, who already has each of the batch's requests (read once; an
    assignment flushes at once, and `_give` adds it here)."""
    scope = batch.current(session)
    if scope is None or case_id not in scope.conversation_ids:
        return None
    taken: dict[str, set[str]] | None = scope.memo.get(_BATCH_TAKEN)
    if taken is None:
        taken = {}
        with session.no_autoflush:
            rows = session.execute(
                select(DutyAssignment.case_id, DutyAssignment.user).where(
                    DutyAssignment.case_id.in_(scope.conversation_ids)
                )
            )
            for case_id_, user in rows:
                taken.setdefault(case_id_, set()).add(user)
        scope.memo[_BATCH_TAKEN] = taken
    return taken


def assign(session: Session, settings: NodeSettings, case: Case) -> DutyAssignment | None:
    """Give an urgent incoming request to the officer on duty (or hand it off if none)."""
    entry, _ = _next_person(session, case.id, utc_now())
    if entry is None:
        _hand_off(session, case, "nobody is on the duty roster")
        return None
    return _give(session, settings, case, entry, 1, "Assigned to you")


def _hand_off(session: Session, case: Case, why: str) -> None:
    text = f"Hand-off to the central authority: urgent {case.kind} request {case.id} from "
    text += f"{case.counterpart} ({why})."
    notifications.notify_role(session, "central-authority-officer", "duty-hand-off", text, case.id)
    for entry in roster(session):
        if entry.role == "central-authority" and entry.active:
            notifications.notify(
                session, f"user:{entry.user}", "duty-hand-off", text, case.id, entry.email
            )
    audit.record(session, "duty:request:handed-off", "system", case.id)


def acknowledged(session: Session, case_id: str, actor: str) -> None:
    """Our side acted on the request: the open assignments are done, their deadlines cancelled."""
    now = utc_now()
    # Row locks: an acknowledgement and the escalation timer may act on the same assignment at
    # once on PostgreSQL; whichever comes second sees the other's outcome.
    open_ones = session.execute(
        select(DutyAssignment)
        .where(
            DutyAssignment.case_id == case_id,
            DutyAssignment.status == AssignmentStatus.OPEN.value,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    for assignment in open_ones:
        if assignment.status == AssignmentStatus.OPEN.value:
            change_status(assignment, AssignmentStatus.ACKNOWLEDGED)
            assignment.acknowledged_at = now
            assignment.acknowledged_by = actor
            assignment.closed_at = now
            timers.cancel(session, ACK_TIMER, str(assignment.id))


def escalate(session: Session, settings: NodeSettings, timer: Timer) -> None:
    """The acknowledgement deadline of an assignment passed: the next person gets the request,
    the supervisors are told; when nobody is left, the central authority takes it."""
    # The audit chain's lock first, then the assignment's row: the order every change takes
    # (an officer's act holds the chain when it acknowledges).
    audit.lock_chain(session)
    assignment = session.get(
        DutyAssignment, int(timer.subject), with_for_update=True, populate_existing=True
    )
    if assignment is None or assignment.status != AssignmentStatus.OPEN.value:
        return
    case = session.get(Case, assignment.case_id)
    if case is None:
        raise NotFound(f"assignment {assignment.id} names no request")
    change_status(assignment, AssignmentStatus.ESCALATED)
    assignment.closed_at = utc_now()
    audit.record(
        session,
        "duty:request:escalated",
        "system",
        case.id,
        user=assignment.user,
        level=assignment.level,
    )
    entry, supervisors = _next_person(session, case.id, utc_now())
    if entry is None:
        change_status(assignment, AssignmentStatus.HANDED_OFF)
        _hand_off(session, case, "nobody on the roster acknowledged in time")
        return
    why = f"Escalated: {assignment.user} did not acknowledge in time"
    _give(session, settings, case, entry, assignment.level + 1, why)
    for supervisor in supervisors:
        if supervisor.user != entry.user:
            notifications.notify(
                session,
                f"user:{supervisor.user}",
                "duty-escalation",
                _text(case, utc_now() + timedelta(seconds=settings.duty_ack_seconds), why),
                case.id,
                supervisor.email,
            )


def timer_handlers(settings: NodeSettings) -> dict[str, TimerHandler]:
    """The timer handlers of the desk, by timer kind (assembled in `transport.wiring`)."""

    def ack_deadline(session: Session, timer: Timer) -> None:
        escalate(session, settings, timer)

    return {ACK_TIMER: ack_deadline}
