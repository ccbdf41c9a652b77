"""The idempotent inbox: verify, open, apply and receipt inbound envelopes.

One envelope or a batch of them is accepted in one database transaction. The batch is first
tried on a fast path: the batch's inbox ids and requests are read once, and no savepoint is
taken per envelope, so the rows of all envelopes are written together at commit. If any
envelope is refused (or a concurrent insert collides), that transaction is rolled back whole
and the batch is redone carefully, each envelope in its own savepoint, so one bad envelope
never takes the others down and the outcomes are those of the careful path. The same envelope twice
returns the same stored receipt and has no second effect. Another envelope with a message id
already seen is a replay and is refused. Every refusal is audited (with the reason code,
never the content) and nothing of a refused envelope is stored as if valid.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.directory import service as directory_service
from comity.directory.document import Directory
from comity.kit import batch
from comity.kit.clock import ensure_utc, utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.messaging.models import InboxMessage, ReceiptRecord
from comity.nodes.runtime import Node
from comity.protocol.envelope import (
    EnvelopeHeader,
    OpenedEnvelope,
    envelope_sha256,
    open_envelope,
    peek_header,
)
from comity.protocol.errors import (
    MalformedEnvelope,
    OutsideClockWindow,
    ReplayedMessage,
    UndecryptableEnvelope,
    WrongRecipient,
)
from comity.protocol.receipts import Evidence, Receipt

log = logging.getLogger("comity.inbox")
MessageHandler = Callable[[Session, Node, OpenedEnvelope], None]
#: Most envelopes in one POST /v1/envelopes/batch (a worker posts 25 at a time).
MAX_BATCH = 100


class UnprocessableEnvelope(ComityError):
    """Verified, but its content cannot be applied here: refused for good, not retried."""

    status_code = 422
    code = "envelope_unprocessable"


class PayloadTooLarge(ComityError):
    status_code = 413
    code = "payload_too_large"


@dataclass(frozen=True)
class Accepted:
    receipt: str
    duplicate: bool


Outcome = Accepted | ComityError


def decode(raw: bytes, node: Node) -> str:
    """The compact serialisation in a request body, within the size limit."""
    if len(raw) > node.settings.max_body_bytes:
        raise PayloadTooLarge(
            f"envelope of {len(raw)} bytes exceeds the limit of {node.settings.max_body_bytes}"
        )
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise MalformedEnvelope("envelope is not a compact JOSE serialisation") from None


def accept(node: Node, raw: bytes, handlers: dict[str, MessageHandler]) -> Accepted:
    """Accept one inbound envelope and return the signed delivered receipt (or raise)."""
    try:
        token = decode(raw, node)
    except ComityError as exc:
        audit_rejection(node, exc)
        raise
    [outcome] = accept_batch(node, [token], handlers)
    if isinstance(outcome, ComityError):
        raise outcome
    return outcome


def accept_batch(
    node: Node, tokens: Sequence[str], handlers: dict[str, MessageHandler]
) -> list[Outcome]:
    """Accept several envelopes in one transaction; one outcome per envelope, in order."""
    try:
        return _accept_fast(node, tokens, handlers)
    except (_SlowPath, SQLAlchemyError, ValueError, KeyError, TypeError, AttributeError):
        # An envelope is refused, its content cannot be applied, or another worker stored one
        # of these message ids or requests meanwhile: nothing of the fast pass is kept; redo
        # it envelope by envelope, each in its savepoint, where each failure is its own.
        pass
    try:
        return _accept_all(node, tokens, handlers)
    except IntegrityError:
        # Another worker stored one of these message ids between our check and our insert;
        # the second pass finds it and answers with the stored receipt.
        return _accept_all(node, tokens, handlers)


class _SlowPath(Exception):
    """The fast path cannot give the batch's outcomes; the careful path will."""


Seen = dict[str, tuple[str, str]]  # message id -> (envelope sha-256, stored receipt)


def _accept_fast(
    node: Node, tokens: Sequence[str], handlers: dict[str, MessageHandler]
) -> list[Outcome]:
    """All envelopes accepted in one transaction without savepoints, or `_SlowPath`."""
    if not tokens:
        return []
    with transaction(node.sessions) as session:
        try:
            peeked: list[tuple[str, EnvelopeHeader, str]] = []
            for token in tokens:
                if len(token) > node.settings.max_body_bytes:
                    raise _SlowPath
                header, kid = peek_header(token)
                if header.recipient != node.participant_id:
                    raise _SlowPath
                peeked.append((token, header, kid))
            seen: Seen = {
                message_id: (sha, receipt)
                for message_id, sha, receipt in session.execute(
                    select(
                        InboxMessage.message_id,
                        InboxMessage.envelope_sha256,
                        InboxMessage.receipt,
                    ).where(InboxMessage.message_id.in_({h.message_id for _, h, _ in peeked}))
                )
            }
            directory = directory_service.current(session)
            outcomes: list[Outcome] = []
            with batch.scope(session, {h.conversation_id for _, h, _ in peeked}):
                for token, header, kid in peeked:
                    outcomes.append(
                        _accept_one(session, node, directory, token, header, kid, handlers, seen)
                    )
                session.flush()  # inside the scope: a collision here is the fast path's
        except ComityError as exc:
            raise _SlowPath from exc
    return outcomes


def _accept_all(
    node: Node, tokens: Sequence[str], handlers: dict[str, MessageHandler]
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    with transaction(node.sessions) as session:
        directory: Directory | None = None
        for token in tokens:
            sender = message_id = ""
            try:
                if len(token) > node.settings.max_body_bytes:
                    raise PayloadTooLarge(
                        f"envelope of {len(token)} bytes exceeds the limit of"
                        f" {node.settings.max_body_bytes}"
                    )
                header, kid = peek_header(token)
                sender, message_id = header.sender, header.message_id
                if header.recipient != node.participant_id:
                    raise WrongRecipient(
                        f"envelope is addressed to {header.recipient},"
                        f" this node is {node.participant_id}"
                    )
                if directory is None:
                    directory = directory_service.current(session)
                outcomes.append(
                    _accept_in_savepoint(session, node, directory, token, header, kid, handlers)
                )
            except ComityError as exc:
                audit.record(
                    session,
                    "inbox:envelope:rejected",
                    # Only a verified envelope names its sender; a refused one may lie.
                    f"unverified:{sender[:64]}" if sender else "unknown",
                    message_id[:200],
                    code=exc.code,
                    reason=exc.message[:500],
                )
                outcomes.append(exc)
    return outcomes


def _accept_in_savepoint(
    session: Session,
    node: Node,
    directory: Directory,
    token: str,
    header: EnvelopeHeader,
    kid: str,
    handlers: dict[str, MessageHandler],
) -> Accepted:
    """One envelope in its own savepoint. Whatever goes wrong inside — including a value the
    database refuses or a handler that trips over a signed but nonsensical payload — refuses
    this envelope for good and leaves the rest of the batch alone; otherwise the sender would
    retry the same batch forever and the peer's queue would stall behind it."""
    try:
        with session.begin_nested():
            return _accept_one(session, node, directory, token, header, kid, handlers)
    except ComityError:
        raise
    except IntegrityError:
        existing = session.get(InboxMessage, header.message_id)
        if existing is not None:
            # Another worker stored the same envelope meanwhile: answer as for a duplicate.
            if existing.envelope_sha256 == envelope_sha256(token):
                return Accepted(receipt=existing.receipt, duplicate=True)
            raise ReplayedMessage(f"message id {header.message_id} was already used") from None
        log.warning("envelope %s refused: a stored value conflicts", header.message_id[:64])
        raise UnprocessableEnvelope(
            "the envelope conflicts with data this node already holds"
        ) from None
    except (SQLAlchemyError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning(
            "envelope %s refused: %s while applying it",
            header.message_id[:64],
            type(exc).__name__,
        )
        raise UnprocessableEnvelope(
            f"the envelope's content cannot be applied on this node ({type(exc).__name__})"
        ) from None


def _accept_one(
    session: Session,
    node: Node,
    directory: Directory,
    token: str,
    header: EnvelopeHeader,
    kid: str,
    handlers: dict[str, MessageHandler],
    seen: Seen | None = None,
) -> Accepted:
    """Accept one envelope. `seen` holds the message ids already stored (read for the whole
    batch on the fast path, and extended by this batch); without it the inbox is asked."""
    sha = envelope_sha256(token)
    if seen is None:
        existing = session.get(InboxMessage, header.message_id)
        stored = None if existing is None else (existing.envelope_sha256, existing.receipt)
    else:
        stored = seen.get(header.message_id)
    if stored is not None:
        if stored[0] == sha:
            audit.record(session, "inbox:envelope:duplicate", header.sender, header.message_id)
            return Accepted(receipt=stored[1], duplicate=True)
        raise ReplayedMessage(f"message id {header.message_id} was already used")
    now = utc_now()
    created = ensure_utc(header.created_at)
    if created > now + timedelta(seconds=node.settings.clock_skew_seconds):
        raise OutsideClockWindow("envelope is dated in the future beyond the allowed skew")
    if created < now - timedelta(seconds=node.settings.max_message_age_seconds):
        raise OutsideClockWindow("envelope is older than the maximum message age")
    decryption_key = node.keyring.decryption_key(kid)
    if decryption_key is None:
        raise UndecryptableEnvelope(f"envelope is encrypted to key {kid}, not held by this node")
    opened = open_envelope(
        token,
        decryption_key,
        lambda who, signing_kid: directory_service.verification_key(
            directory, who, signing_kid, created
        ),
    )
    handler = handlers.get(opened.header.message_type)
    if handler is None:
        raise MalformedEnvelope(f"unknown message type {opened.header.message_type!r}")
    handler(session, node, opened)
    receipt = Receipt(
        evidence=Evidence.DELIVERED,
        message_id=header.message_id,
        conversation_id=header.conversation_id,
        envelope_sha256=sha,
        sender=header.sender,
        recipient=header.recipient,
        issuer=node.participant_id,
        at=now,
    )
    signed = receipt.sign(node.keyring.signing_key())
    session.add_all(
        [
            InboxMessage(
                message_id=header.message_id,
                conversation_id=header.conversation_id,
                sender=header.sender,
                message_type=header.message_type,
                created_at=created,
                directory_version=header.directory_version,
                envelope=token,
                envelope_sha256=sha,
                received_at=now,
                receipt=signed,
            ),
            ReceiptRecord.of(receipt, signed),
        ]
    )
    if seen is not None:
        seen[header.message_id] = (sha, signed)
    audit.record(
        session,
        "inbox:envelope:accepted",
        header.sender,
        header.message_id,
        conversation=header.conversation_id,
        type=header.message_type,
    )
    return Accepted(receipt=signed, duplicate=False)


def audit_rejection(node: Node, exc: ComityError) -> None:
    """Audit a body refused before any envelope in it could be read."""
    with transaction(node.sessions) as session:
        audit.record(
            session,
            "inbox:envelope:rejected",
            "unknown",
            "",
            code=exc.code,
            reason=exc.message[:500],
        )
