"""Read-once hints for a transaction that applies a batch of inbound messages.

The inbox's fast path opens a scope naming the batch's conversation ids. Services that would
look something up once per message (a request by id, the duty roster, a request's duty
assignments) read it once for the whole batch instead and keep it in the scope, which lets
the session flush the rows of many messages together at commit.

A scope is only valid in a transaction without savepoints that roll back (the fast path
rolls the whole transaction back on any error and redoes the batch without a scope), and it
is closed when the batch ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

_SCOPE = "comity.batch.scope"


@dataclass
class BatchScope:
    conversation_ids: frozenset[str]
    memo: dict[str, Any] = field(default_factory=dict)


@contextmanager
def scope(session: Session, conversation_ids: Iterable[str]) -> Iterator[BatchScope]:
    opened = BatchScope(frozenset(conversation_ids))
    session.info[_SCOPE] = opened
    try:
        yield opened
    finally:
        session.info.pop(_SCOPE, None)


def current(session: Session) -> BatchScope | None:
    found = session.info.get(_SCOPE)
    return found if isinstance(found, BatchScope) else None
