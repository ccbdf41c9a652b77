"""Audit entries that could not be written because the database itself failed.

An entry that cannot be written (the database is down, full or locked beyond its timeout) is
logged at once as one JSON line on the `comity` logger, kept in this process, and written to
the audit log as soon as the database answers again: before the next entry of this backlog,
at the start of the next HTTP request, and on the node's periodic tick. The entry keeps the
time it happened (`occurred`) and is marked `deferred`.

What is kept in memory is lost if the process dies before the database is back; the JSON log
line is then the only trace. The backlog is bounded: past `limit` entries the oldest are
dropped, and the number dropped is itself audited when the backlog is written.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from comity.audit import service as audit
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.protocol.envelope import format_time

log = logging.getLogger("comity")


@dataclass(frozen=True)
class PendingEntry:
    tag: str
    actor: str
    subject: str
    details: dict[str, Any]
    at: datetime = field(default_factory=utc_now)


class AuditBacklog:
    """Writes audit entries now, or later when the database is back (see the module doc)."""

    def __init__(self, limit: int = 10_000) -> None:
        self._waiting: deque[PendingEntry] = deque()
        self._limit = limit
        self._dropped = 0
        # One writer at a time, so that two threads never write the same waiting entries.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._waiting)

    def record(
        self,
        sessions: sessionmaker[Session],
        tag: str,
        actor: str,
        subject: str = "",
        **details: Any,
    ) -> bool:
        """Write the entry (after any that wait); True if written, False if kept for later."""
        kept = {k: v for k, v in details.items() if v is not None}
        entry = PendingEntry(tag, actor, subject, kept)
        with self._lock:
            try:
                self._write(sessions, entry)
                return True
            except Exception as exc:  # any failure of the database: keep it
                self._keep(entry)
                log.error(
                    json.dumps(
                        {
                            "event": "audit_deferred",
                            "tag": tag,
                            "actor": actor,
                            "subject": subject,
                            "details": entry.details,
                            "occurred": format_time(entry.at),
                            "database_error": type(exc).__name__,
                            "waiting": len(self._waiting),
                        },
                        sort_keys=True,
                        default=str,
                    )
                )
                return False

    def flush(self, sessions: sessionmaker[Session]) -> int:
        """Write the waiting entries if the database answers; how many were written."""
        if not self._waiting:
            return 0
        with self._lock:
            count = len(self._waiting)
            try:
                self._write(sessions, None)
            except Exception as exc:  # still down: they keep waiting
                log.warning(
                    json.dumps(
                        {
                            "event": "audit_backlog_waiting",
                            "waiting": len(self._waiting),
                            "database_error": type(exc).__name__,
                        },
                        sort_keys=True,
                    )
                )
                return 0
        log.warning(json.dumps({"event": "audit_backlog_written", "count": count}))
        return count

    def _write(self, sessions: sessionmaker[Session], entry: PendingEntry | None) -> None:
        waiting = list(self._waiting)
        dropped = self._dropped
        with transaction(sessions) as session:
            if dropped:
                audit.record(session, "audit:backlog:dropped", "node", "", count=dropped)
            for pending in waiting:
                audit.record(
                    session,
                    pending.tag,
                    pending.actor,
                    pending.subject,
                    **pending.details,
                    deferred=True,
                    occurred=format_time(pending.at),
                )
            if entry is not None:
                audit.record(session, entry.tag, entry.actor, entry.subject, **entry.details)
        for _ in waiting:
            self._waiting.popleft()
        self._dropped -= dropped

    def _keep(self, entry: PendingEntry) -> None:
        if len(self._waiting) >= self._limit:
            self._waiting.popleft()
            self._dropped += 1
        self._waiting.append(entry)
