"""Schedule, cancel and fire durable timers.

A timer is written in the caller's transaction. `fire_due` claims due timers with
`FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises writers) and runs each handler in the
same transaction that marks the timer fired, so a timer fires exactly once even with several
workers, and a crash before commit leaves it to fire again. Each handler runs in a savepoint:
a handler that fails is recorded on its timer (`error`) and does not hold back the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from comity.audit import service as audit
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.timers.models import Timer

TimerHandler = Callable[[Session, Timer], None]

log = logging.getLogger("comity.timers")


def schedule(
    session: Session,
    kind: str,
    subject: str,
    due_at: datetime,
    *,
    case_id: str | None = None,
    **data: Any,
) -> Timer:
    timer = Timer(kind=kind, subject=subject, due_at=due_at, data=data, case_id=case_id)
    session.add(timer)
    return timer


def schedule_once(
    session: Session,
    kind: str,
    subject: str,
    due_at: datetime,
    *,
    case_id: str | None = None,
    **data: Any,
) -> Timer | None:
    """Schedule unless a timer of `kind` about `subject` already exists (idempotent replays)."""
    existing = session.execute(
        select(Timer.id).where(Timer.kind == kind, Timer.subject == subject)
    ).first()
    if existing is not None:
        return None
    return schedule(session, kind, subject, due_at, case_id=case_id, **data)


def cancel(session: Session, kind: str, subject: str) -> int:
    result = session.execute(
        update(Timer)
        .where(Timer.kind == kind, Timer.subject == subject, Timer.fired_at.is_(None))
        .where(Timer.cancelled_at.is_(None))
        .values(cancelled_at=utc_now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def cancel_many(session: Session, kind: str, subjects: list[str]) -> int:
    """`cancel` for several subjects of one kind, in one statement."""
    if not subjects:
        return 0
    result = session.execute(
        update(Timer)
        .where(Timer.kind == kind, Timer.subject.in_(subjects), Timer.fired_at.is_(None))
        .where(Timer.cancelled_at.is_(None))
        .values(cancelled_at=utc_now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def cancel_for_case(session: Session, case_id: str, kinds: tuple[str, ...] = ()) -> int:
    """Cancel the pending timers of a request (all, or only those of `kinds`)."""
    query = (
        update(Timer)
        .where(Timer.case_id == case_id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
        .values(cancelled_at=utc_now())
    )
    if kinds:
        query = query.where(Timer.kind.in_(kinds))
    result = session.execute(query.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def pending(session: Session, case_id: str, kind: str | None = None) -> list[Timer]:
    query = select(Timer).where(
        Timer.case_id == case_id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)
    )
    if kind:
        query = query.where(Timer.kind == kind)
    return list(session.execute(query.order_by(Timer.due_at)).scalars())


def fire_due(
    sessions: sessionmaker[Session],
    handlers: dict[str, TimerHandler],
    worker_id: str,
    limit: int = 100,
) -> int:
    """Fire up to `limit` due timers; returns how many fired."""
    with transaction(sessions) as session:
        now = utc_now()
        due = list(
            session.execute(
                select(Timer)
                .where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None), Timer.due_at <= now)
                .order_by(Timer.due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        for timer in due:
            timer.fired_at = now
            timer.fired_by = worker_id
            handler = handlers.get(timer.kind)
            if handler is None:
                continue
            try:
                with session.begin_nested():
                    handler(session, timer)
            except Exception as exc:  # one faulty handler must not block every other timer
                _failed(session, timer, type(exc).__name__, now)
        return len(due)


RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
"""When a timer whose handler failed is tried again, after each failure; after the last, it
is given up and audited. A deadline's warning or a duty escalation must not be lost to a
passing fault (a database restart, a mail server down), nor retried for ever."""


def _failed(session: Session, timer: Timer, error: str, now: datetime) -> None:
    """Record a handler failure; schedule the next attempt, or give the timer up."""
    timer.attempts = (timer.attempts or 0) + 1
    timer.error = error[:200]
    if timer.attempts <= len(RETRY_AFTER):
        timer.fired_at, timer.fired_by = None, None
        timer.due_at = now + RETRY_AFTER[timer.attempts - 1]
        log.warning(
            "timer %s (%s) failed (%s), attempt %d; retried at %s",
            timer.id,
            timer.kind,
            error,
            timer.attempts,
            timer.due_at.isoformat(),
        )
        return
    log.error(
        "timer %s (%s) failed %d times (%s): given up", timer.id, timer.kind, timer.attempts, error
    )
    audit.record(
        session,
        "timers:timer:failed",
        "system",
        timer.case_id or "",
        kind=timer.kind,
        timer=timer.id,
        attempts=timer.attempts,
        error=timer.error,
    )
