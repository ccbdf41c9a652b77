"""Exchanging audit checkpoints with peers: issue ours (periodically, after N entries, and at
once to a new peer), keep theirs, answer a peer asking which of its checkpoints we hold, and
export them to a file. Checkpoints travel as ordinary envelopes (message type
`audit-checkpoint`) through the outbox, so they are receipted and retried.

The documents themselves (payloads, signing, reading) are `comity.audit.checkpoint`; the HTTP
side of asking a peer is `comity.witnesses.peers`, of answering one `comity.witnesses.api`.
"""

from __future__ import annotations

import time
from typing import Any

from joserfc.jwk import OKPKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.audit.checkpoint import (
    CHECKPOINT_MESSAGE,
    EXPORT_FORMAT,
    HELD_LIMIT,
    KeyLookup,
    conversation_id,
    read_checkpoint,
    read_message,
    sign_checkpoint,
    sign_held_answer,
)
from comity.audit.models import AuditCheckpoint, ReceivedCheckpoint
from comity.directory import service as directory_service
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.messaging import outbox
from comity.messaging.models import InboxMessage, OutboxMessage
from comity.nodes.models import NodeKey
from comity.nodes.runtime import Node
from comity.protocol.envelope import OpenedEnvelope, format_time, parse_time
from comity.protocol.errors import MalformedEnvelope


def peers(session: Session, node: Node) -> list[str]:
    """Who receives our checkpoints: the configured list, or every party we have exchanged
    messages with (they hold our receipts and have a stake in our log)."""
    if node.settings.audit_checkpoint_peers:
        chosen = set(node.settings.audit_checkpoint_peers)
    else:
        sent = session.execute(select(OutboxMessage.recipient).distinct()).scalars()
        received = session.execute(select(InboxMessage.sender).distinct()).scalars()
        chosen = set(sent) | set(received)
    chosen.discard(node.participant_id)
    return sorted(chosen)


def issue(session: Session, node: Node, recipients: list[str] | None = None) -> AuditCheckpoint:
    """Sign the current head of the log, keep the checkpoint, and queue it for each peer. A
    peer missing from the directory is skipped (and left out of the returned `sent_to`)."""
    audit.lock_chain(session)
    count, head_hash = audit.head(session)
    at = utc_now()
    token = sign_checkpoint(node.participant_id, count, head_hash, at, node.keyring.signing_key())
    sent: list[str] = []
    for peer in peers(session, node) if recipients is None else recipients:
        try:
            outbox.enqueue(
                session,
                node,
                peer,
                conversation_id(node.participant_id),
                CHECKPOINT_MESSAGE,
                {"checkpoint": token},
            )
        except ComityError:
            continue
        sent.append(peer)
    row = AuditCheckpoint(count=count, head_hash=head_hash, at=at, token=token, sent_to=sent)
    session.add(row)
    session.flush()
    return row


def issue_if_due(node: Node) -> bool:
    """Issue a checkpoint if the log grew since the last one and either the last one is older
    than `audit_checkpoint_seconds`, or the log grew by `audit_checkpoint_entries` since, or a
    peer has appeared that got none of our checkpoints yet (a new conversation: it should
    hold one at once, not an interval later). Safe with several workers: the decision is
    taken under the chain's lock."""
    with transaction(node.sessions) as session:
        audit.lock_chain(session)
        last = session.execute(
            select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
        ).scalar_one_or_none()
        count, _ = audit.head(session)
        if count == 0 or (last is not None and last.count == count):
            return False
        settings = node.settings
        due = (
            last is None
            or (utc_now() - last.at).total_seconds() >= settings.audit_checkpoint_seconds
            or count - last.count >= settings.audit_checkpoint_entries
            or bool(_new_peers(session, node, last.sent_to))
        )
        if due:
            issue(session, node)
        return due


def _new_peers(session: Session, node: Node, served: list[str]) -> list[str]:
    """Our peers who got no checkpoint with the last one and can be sent one (they are in the
    directory: a peer missing from it is skipped by `issue` and must not make every look
    issue a checkpoint)."""
    waiting = [p for p in peers(session, node) if p not in served]
    if not waiting:
        return []
    try:
        directory = directory_service.current(session)
    except ComityError:
        return []
    return [p for p in waiting if directory.participant(p) is not None]


#: How often the worker looks whether a checkpoint is due (one short transaction).
LOOK_SECONDS = 10.0


class CheckpointSchedule:
    """The worker's periodic step: looks every `LOOK_SECONDS` (or once per interval, if
    shorter) whether a checkpoint is due, so an idle worker does not write every pass but a
    new peer gets a checkpoint within seconds."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._last_look: float | None = None

    def run_due(self) -> int:
        every = min(LOOK_SECONDS, float(self.node.settings.audit_checkpoint_seconds))
        now = time.monotonic()
        if self._last_look is not None and now - self._last_look < every:
            return 0
        self._last_look = now
        return int(issue_if_due(self.node))


def key_for(session: Session) -> KeyLookup:
    """A key look-up for checkpoint signatures: this node's own keys from its key table, a
    peer's from the current directory."""
    own = {row.kid: row.public_jwk for row in session.execute(select(NodeKey)).scalars()}
    try:
        directory = directory_service.current(session, require_valid=False)
    except ComityError:
        directory = None

    def lookup(issuer: str, kid: str) -> OKPKey:
        if kid in own:
            return OKPKey.import_key(own[kid])
        if directory is None:
            raise MalformedEnvelope(f"no key {kid} of {issuer}: this node has no directory")
        return directory_service.verification_key(directory, issuer, kid, utc_now())

    return lookup


def receive_checkpoint(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Inbox handler: keep a peer's checkpoint. One that goes backwards (fewer entries than an
    earlier one, or the same count with another hash) is kept too — it is the evidence — and
    flagged in our audit log."""
    token = read_message(opened.payload).checkpoint
    directory = directory_service.current(session)
    sender = opened.header.sender
    checkpoint = read_checkpoint(
        token,
        lambda issuer, kid: directory_service.verification_key(
            directory, issuer, kid, opened.header.created_at
        ),
    )
    if checkpoint.issuer != sender:
        raise MalformedEnvelope(f"checkpoint of {checkpoint.issuer} sent by {sender}")
    count, head_hash = checkpoint.payload.count, checkpoint.payload.head_hash
    earlier = session.execute(
        select(ReceivedCheckpoint)
        .where(ReceivedCheckpoint.issuer == sender, ReceivedCheckpoint.count >= count)
        .order_by(ReceivedCheckpoint.count.desc())
        .limit(1)
    ).scalar_one_or_none()
    if earlier is not None and (earlier.count > count or earlier.head_hash != head_hash):
        audit.record(
            session,
            "audit:checkpoint:regressed",
            sender,
            opened.header.message_id,
            earlier_count=earlier.count,
            count=count,
        )
    session.add(
        ReceivedCheckpoint(
            issuer=sender,
            count=count,
            head_hash=head_hash,
            at=parse_time(checkpoint.payload.at),
            token=token,
            message_id=opened.header.message_id,
        )
    )
    session.flush()


def held_answer(session: Session, node: Node, issuer: str, nonce: str) -> str:
    """This node's signed answer to `issuer` asking which of its checkpoints we hold: the
    newest `HELD_LIMIT` tokens as received, under our own signature with the asker's nonce
    (so an old answer cannot be replayed to hide newer checkpoints). Audited here."""
    rows = list(
        session.execute(
            select(ReceivedCheckpoint)
            .where(ReceivedCheckpoint.issuer == issuer)
            .order_by(ReceivedCheckpoint.id.desc())
            .limit(HELD_LIMIT)
        ).scalars()
    )
    audit.record(session, "audit:checkpoints:requested", issuer, issuer, count=len(rows))
    return sign_held_answer(
        node.participant_id,
        issuer,
        nonce,
        utc_now(),
        [row.token for row in reversed(rows)],
        node.keyring.signing_key(),
    )


def export(
    session: Session, node: Node, issuer: str | None, own: bool, actor: str
) -> dict[str, Any]:
    """Checkpoints as a file for the other side: those received (from `issuer`, or all), or
    with `own` those this node issued."""
    if own:
        tokens = [
            (node.participant_id, row.token)
            for row in session.execute(
                select(AuditCheckpoint).order_by(AuditCheckpoint.id)
            ).scalars()
        ]
    else:
        query = select(ReceivedCheckpoint).order_by(ReceivedCheckpoint.id)
        if issuer:
            query = query.where(ReceivedCheckpoint.issuer == issuer)
        tokens = [(row.issuer, row.token) for row in session.execute(query).scalars()]
    audit.record(
        session,
        "audit:checkpoints:exported",
        actor,
        issuer or ("own" if own else "all"),
        count=len(tokens),
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_by": node.participant_id,
        "exported_at": format_time(utc_now()),
        "checkpoints": [{"issuer": who, "token": token} for who, token in tokens],
    }
