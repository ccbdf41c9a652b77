"""Append to and verify the audit log.

Tags follow `source:subject:action` (e.g. `inbox:envelope:rejected`). Details hold ids, codes
and reasons for refusal — never case content, secrets or envelope plaintext.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, sessionmaker

from comity.audit.models import AuditEntry
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.kit.jsonutil import canonical_json, sha256_hex
from comity.protocol.envelope import format_time

GENESIS = "0" * 64
_AUDIT_LOCK_KEY = 0x636F6D69  # "comi": one advisory lock serialises appends on PostgreSQL


def _entry_hash(prev_hash: str, at: str, tag: str, actor: str, subject: str, details: Any) -> str:
    return sha256_hex(prev_hash.encode() + canonical_json([at, tag, actor, subject, details]))


def lock_chain(session: Session) -> None:
    """Serialise appends (and checkpoints) until the end of the transaction. On SQLite every
    transaction already holds the single write lock from its BEGIN IMMEDIATE."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})


def head(session: Session) -> tuple[int, str]:
    """(number of entries, hash of the last entry); entries are numbered 1, 2, 3... ."""
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return (last[0], last[1]) if last else (0, GENESIS)


_ORDER = "comity.audit.pending"
_HEAD = "comity.audit.head"


def record(session: Session, tag: str, actor: str, subject: str = "", **details: Any) -> AuditEntry:
    """Append an entry in the caller's transaction (it commits or rolls back with the action).

    The entry is chained when the session flushes (`_chain_pending`): the chain's lock and
    head are read once per transaction, not once per entry, and the entries of one flush are
    inserted together. An entry added in a savepoint that rolls back is dropped with it."""
    clean = {k: v for k, v in details.items() if v is not None}
    entry = AuditEntry(
        at=utc_now(), tag=tag, actor=actor, subject=subject, details=clean, prev_hash="", hash=""
    )
    session.add(entry)
    session.info.setdefault(_ORDER, []).append(entry)
    return entry


def record_refusal(
    sessions: sessionmaker[Session],
    tag: str,
    actor: str,
    subject: str,
    exc: ComityError,
    **details: Any,
) -> None:
    """Record a refusal in a transaction of its own (the refused action's rolled back): the
    error's code and message, never the content that was refused."""
    with transaction(sessions) as session:
        record(session, tag, actor, subject, code=exc.code, reason=exc.message[:500], **details)


@event.listens_for(Session, "before_flush")
def _chain_pending(session: Session, _context: Any, _instances: Any) -> None:
    new = session.new  # a fresh set on every access: take it once, not once per entry
    pending = [e for e in session.info.pop(_ORDER, []) if e in new]
    if not pending:
        return
    cached = session.info.get(_HEAD)
    if cached is None:
        lock_chain(session)
        cached = head(session)
    last_id, prev_hash = cached
    for entry in pending:
        # The id is taken here, under the lock, not from a sequence: a rolled-back
        # transaction would leave a gap in a PostgreSQL sequence, and a gap must mean a
        # deleted entry.
        last_id += 1
        entry.id = last_id
        entry.prev_hash = prev_hash
        entry.hash = _entry_hash(
            prev_hash, format_time(entry.at), entry.tag, entry.actor, entry.subject, entry.details
        )
        prev_hash = entry.hash
    session.info[_HEAD] = (last_id, prev_hash)


@event.listens_for(Session, "after_soft_rollback")
def _forget_head_on_rollback(session: Session, _previous: Any) -> None:
    # Entries flushed inside a rolled-back savepoint are gone: read the head again.
    session.info.pop(_HEAD, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_head_after_transaction(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_HEAD, None)
        session.info.pop(_ORDER, None)


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    problem: str


def verify_chain(entries: Iterable[AuditEntry]) -> list[ChainProblem]:
    """Problems in the chain: an altered entry, a deleted one, or a broken link."""
    problems: list[ChainProblem] = []
    prev_hash = GENESIS
    prev_id = 0
    for entry in entries:
        if entry.id != prev_id + 1:
            gone = (
                f"entry {prev_id + 1} is"
                if entry.id == prev_id + 2
                else f"entries {prev_id + 1} to {entry.id - 1} are"
            )
            problems.append(ChainProblem(entry.id, f"{gone} missing (deleted)"))
        if entry.prev_hash != prev_hash:
            problems.append(
                ChainProblem(
                    entry.id,
                    "link to the previous entry is broken (an entry before it was "
                    "deleted or altered)",
                )
            )
        expected = _entry_hash(
            entry.prev_hash,
            format_time(entry.at),
            entry.tag,
            entry.actor,
            entry.subject,
            entry.details,
        )
        if expected != entry.hash:
            problems.append(ChainProblem(entry.id, "entry was altered after it was written"))
        prev_hash, prev_id = entry.hash, entry.id
    return problems


def entries(session: Session, tag_prefix: str = "") -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if tag_prefix:
        query = query.where(AuditEntry.tag.startswith(tag_prefix, autoescape=True))
    return list(session.execute(query).scalars())


def page(session: Session, tag_prefix: str, after: int, limit: int) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(limit)
    if tag_prefix:
        query = query.where(AuditEntry.tag.startswith(tag_prefix, autoescape=True))
    return list(session.execute(query).scalars())
