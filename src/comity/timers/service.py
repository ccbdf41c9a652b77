"""Schedule, cancel and fire durable timers.

A timer is written in the caller's transaction. `fire_due` claims due timers with
`FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises writers) and runs each handler in the
same transaction that marks the timer fired, so a timer fires exactly once even with several
workers, and a crash before commit leaves it to fire again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.timers.models import Timer

TimerHandler = Callable[[Session, Timer], None]


def schedule(session: Session, kind: str, subject: str, due_at: datetime, **data: Any) -> Timer:
    timer = Timer(kind=kind, subject=subject, due_at=due_at, data=data)
    session.add(timer)
    session.flush()
    return timer


def cancel(session: Session, kind: str, subject: str) -> int:
    result = session.execute(
        update(Timer)
        .where(Timer.kind == kind, Timer.subject == subject, Timer.fired_at.is_(None))
        .where(Timer.cancelled_at.is_(None))
        .values(cancelled_at=utc_now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


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
            if handler is not None:
                handler(session, timer)
        return len(due)
