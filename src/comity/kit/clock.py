"""Time for the whole system: always time-zone aware, always UTC, replaceable in tests.

Naive datetimes are a bug here: every deadline in cooperation is compared across time zones.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def utc_now() -> datetime:
    """The current time from the active clock."""
    return _active.now()


def ensure_utc(value: datetime) -> datetime:
    """Return `value` in UTC; SQLite drops the zone, so a naive value read back is UTC."""
    if value.tzinfo is UTC:
        return value  # the common case, and astimezone is not free
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Clock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now = self._now + delta


_active: Clock = Clock()


def use_clock(clock: Clock) -> Clock:
    """Install `clock` as the active clock and return the previous one."""
    global _active
    previous = _active
    _active = clock
    return previous
