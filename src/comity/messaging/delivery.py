"""The delivery worker: lease due outbox messages, post them, verify the receipt, retry with
exponential back-off, and issue negative evidence when a receipt does not come in time.

Messages of one conversation to one recipient go strictly in order: a message is not due while
an earlier one of its conversation is still pending, so the peer applies acts in the order
they were made. Several workers may share one PostgreSQL: leases are taken under
`FOR UPDATE SKIP LOCKED`, and a worker that dies leaves its lease to expire; the peer's
idempotent inbox makes the resend harmless.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from comity.audit import service as audit
from comity.directory import service as directory_service
from comity.kit import batch
from comity.kit.clock import ensure_utc, utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.messaging.models import OutboxMessage, ReceiptRecord
from comity.messaging.outbox import RECEIPT_DEADLINE
from comity.nodes.runtime import Node
from comity.protocol.receipts import Evidence, Receipt, verify_receipt
from comity.timers import service as timers
from comity.timers.models import Timer
from comity.timers.service import TimerHandler

JOSE_MEDIA_TYPE = "application/jose"
PERMANENT_STATUSES = {400, 403, 404, 409, 413, 421, 422}

DeliveredHook = Callable[[Session, Node, OutboxMessage, Receipt], None]
RejectedHook = Callable[[Session, Node, OutboxMessage, str], None]


@dataclass
class DeliveryHooks:
    on_delivered: list[DeliveredHook]
    on_rejected: list[RejectedHook]


@dataclass(frozen=True)
class Lease:
    id: int
    message_id: str
    recipient: str
    endpoint: str
    envelope: str
    envelope_sha256: str
    attempts: int


def lease_due(node: Node, worker_id: str, limit: int = 50) -> list[Lease]:
    """Lease up to `limit` due messages for this worker."""
    with transaction(node.sessions) as session:
        now = utc_now()
        earlier = aliased(OutboxMessage)
        blocked = exists().where(
            and_(
                earlier.conversation_id == OutboxMessage.conversation_id,
                earlier.recipient == OutboxMessage.recipient,
                earlier.id < OutboxMessage.id,
                earlier.status == "pending",
            )
        )
        rows = list(
            session.execute(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                    ~blocked,
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=OutboxMessage)
            ).scalars()
        )
        leases = []
        for row in rows:
            row.lease_until = now + timedelta(seconds=node.settings.lease_seconds)
            row.leased_by = worker_id
            leases.append(
                Lease(
                    row.id,
                    row.message_id,
                    row.recipient,
                    row.endpoint,
                    row.envelope,
                    row.envelope_sha256,
                    row.attempts,
                )
            )
        return leases


def deliver(node: Node, client: httpx.Client, lease: Lease, hooks: DeliveryHooks) -> str:
    """Post one leased envelope; returns 'delivered', 'rejected' or 'retry'."""
    try:
        response = client.post(
            f"{lease.endpoint}/v1/envelopes",
            content=lease.envelope.encode("ascii"),
            headers={"content-type": JOSE_MEDIA_TYPE, "accept": JOSE_MEDIA_TYPE},
            timeout=node.settings.delivery_timeout_seconds,
        )
    except httpx.HTTPError as exc:
        _retry(node, lease, f"transport: {type(exc).__name__}")
        return "retry"
    if response.status_code == 200:
        try:
            return _delivered(node, lease, response.text.strip(), hooks)
        except ComityError as exc:
            _retry(node, lease, f"receipt refused: {exc.message}")
            return "retry"
    if response.status_code in PERMANENT_STATUSES:
        _rejected(node, lease, response, hooks)
        return "rejected"
    _retry(node, lease, f"HTTP {response.status_code}")
    return "retry"


def _delivered(node: Node, lease: Lease, token: str, hooks: DeliveryHooks) -> str:
    with transaction(node.sessions) as session:
        _record_delivered(session, node, lease, token, hooks)
    return "delivered"


def _verified_receipt(session: Session, lease: Lease, token: str) -> Receipt:
    """The peer's delivered receipt for `lease`, verified, or ComityError."""
    directory = directory_service.current(session, require_valid=False)
    receipt = verify_receipt(
        token,
        lambda issuer, kid: directory_service.verification_key(directory, issuer, kid, utc_now()),
    )
    if (
        receipt.evidence is not Evidence.DELIVERED
        or receipt.issuer != lease.recipient
        or receipt.message_id != lease.message_id
        or receipt.envelope_sha256 != lease.envelope_sha256
    ):
        raise ComityError("receipt does not match the envelope that was sent")
    return receipt


def _record_delivered(
    session: Session, node: Node, lease: Lease, token: str, hooks: DeliveryHooks
) -> None:
    """Verify the peer's receipt and mark the message delivered, in the caller's transaction."""
    receipt = _verified_receipt(session, lease, token)
    message = session.get(OutboxMessage, lease.id)
    if message is None or message.status != "pending":
        return
    timers.cancel(session, RECEIPT_DEADLINE, lease.message_id)
    _mark_delivered(session, node, lease, token, receipt, message, hooks)


def _record_all_delivered(
    node: Node, delivered: list[tuple[Lease, str]], hooks: DeliveryHooks
) -> bool:
    """Record a batch's receipts in one transaction without a savepoint each: the outbox
    rows are read in one SELECT and the receipt deadlines cancelled in one UPDATE. False,
    with nothing kept, if any receipt or hook fails; the caller then records them one by
    one."""
    try:
        with transaction(node.sessions) as session:
            receipts = [_verified_receipt(session, lease, token) for lease, token in delivered]
            rows = session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.id.in_([lease.id for lease, _ in delivered])
                )
            ).scalars()
            messages = {row.id: row for row in rows}
            todo = [
                (lease, token, receipt, messages[lease.id])
                for (lease, token), receipt in zip(delivered, receipts, strict=True)
                if lease.id in messages and messages[lease.id].status == "pending"
            ]
            if len({lease.id for lease, *_ in todo}) != len(todo):
                return False  # the same row twice: let the careful path judge
            timers.cancel_many(session, RECEIPT_DEADLINE, [lease.message_id for lease, *_ in todo])
            with batch.scope(session, {message.conversation_id for *_, message in todo}):
                for lease, token, receipt, message in todo:
                    _mark_delivered(session, node, lease, token, receipt, message, hooks)
                session.flush()
    except (ComityError, IntegrityError):
        return False
    return True


def _mark_delivered(
    session: Session,
    node: Node,
    lease: Lease,
    token: str,
    receipt: Receipt,
    message: OutboxMessage,
    hooks: DeliveryHooks,
) -> None:
    if receipt.conversation_id != message.conversation_id:
        raise ComityError("receipt names another conversation than the envelope that was sent")
    message.status = "delivered"
    message.delivered_at = utc_now()
    message.lease_until = None
    message.attempts = lease.attempts + 1
    session.add(ReceiptRecord.of(receipt, token))
    audit.record(
        session,
        "outbox:envelope:delivered",
        node.participant_id,
        lease.message_id,
        recipient=lease.recipient,
        attempts=message.attempts,
    )
    for hook in hooks.on_delivered:
        hook(session, node, message, receipt)


def deliver_batch(
    node: Node, client: httpx.Client, leases: list[Lease], hooks: DeliveryHooks
) -> list[str]:
    """Post several leased envelopes for one endpoint in one request; one result each."""
    if len(leases) == 1:
        return [deliver(node, client, leases[0], hooks)]
    endpoint = leases[0].endpoint
    try:
        response = client.post(
            f"{endpoint}/v1/envelopes/batch",
            json={"envelopes": [lease.envelope for lease in leases]},
            timeout=node.settings.delivery_timeout_seconds * 3,
        )
        results = response.json()["results"] if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        results, response = None, None
        reason = f"transport: {type(exc).__name__}"
    if response is not None and response.status_code in (404, 413):
        # A peer without the batch endpoint, or with a smaller limit for a batch's body:
        # deliver one by one.
        return [deliver(node, client, lease, hooks) for lease in leases]
    if not isinstance(results, list) or len(results) != len(leases):
        if response is not None:
            reason = f"HTTP {response.status_code}"
        for lease in leases:
            _retry(node, lease, reason)
        return ["retry"] * len(leases)
    outcomes = ["retry"] * len(leases)
    to_retry: list[tuple[Lease, str]] = []
    to_reject: list[tuple[Lease, int, str]] = []
    statuses = [
        int(result.get("status", 0)) if isinstance(result, dict) else 0 for result in results
    ]
    delivered = [
        (index, lease, str(result.get("receipt", "")))
        for index, (lease, result, status) in enumerate(zip(leases, results, statuses, strict=True))
        if status == 200
    ]
    fast = bool(delivered) and _record_all_delivered(
        node, [(lease, token) for _, lease, token in delivered], hooks
    )
    if fast:
        for index, _, _ in delivered:
            outcomes[index] = "delivered"
    with transaction(node.sessions) as session:
        for index, (lease, result) in enumerate(zip(leases, results, strict=True)):
            status = statuses[index]
            if status == 200 and fast:
                continue
            if status == 200:
                try:
                    with session.begin_nested():
                        _record_delivered(session, node, lease, str(result["receipt"]), hooks)
                    outcomes[index] = "delivered"
                except ComityError as exc:
                    to_retry.append((lease, f"receipt refused: {exc.message}"))
            elif status in PERMANENT_STATUSES:
                reason = f"{result.get('error', 'error')}: {result.get('message', '')}"
                to_reject.append((lease, status, reason))
                outcomes[index] = "rejected"
            else:
                to_retry.append((lease, f"HTTP {status}"))
    for lease, reason in to_retry:
        _retry(node, lease, reason)
    for lease, status, reason in to_reject:
        _mark_rejected(node, lease, status, reason, hooks)
    return outcomes


def _rejected(node: Node, lease: Lease, response: httpx.Response, hooks: DeliveryHooks) -> None:
    try:
        body = response.json()
        reason = f"{body.get('error', 'error')}: {body.get('message', '')}"
    except ValueError:
        reason = f"HTTP {response.status_code}"
    _mark_rejected(node, lease, response.status_code, reason, hooks)


def _mark_rejected(
    node: Node, lease: Lease, status: int, reason: str, hooks: DeliveryHooks
) -> None:
    """The peer refused the envelope for good: stop retrying, keep why, tell the hooks."""
    with transaction(node.sessions) as session:
        message = session.get(OutboxMessage, lease.id)
        if message is None or message.status != "pending":
            return
        message.status = "rejected"
        message.lease_until = None
        message.attempts = lease.attempts + 1
        message.last_error = reason[:2000]
        audit.record(
            session,
            "outbox:envelope:rejected",
            node.participant_id,
            lease.message_id,
            recipient=lease.recipient,
            status=status,
            reason=reason[:500],
        )
        for hook in hooks.on_rejected:
            hook(session, node, message, reason)


def backoff_seconds(attempts: int, base: float, ceiling: float) -> float:
    """Exponential back-off with full jitter, capped."""
    return random.uniform(0, min(ceiling, base * (2 ** min(attempts, 20))))  # noqa: S311


def _retry(node: Node, lease: Lease, reason: str) -> None:
    with transaction(node.sessions) as session:
        message = session.get(OutboxMessage, lease.id)
        if message is None or message.status != "pending":
            return
        now = utc_now()
        message.attempts = lease.attempts + 1
        message.last_error = reason[:2000]
        message.lease_until = None
        age = now - ensure_utc(message.created_at)
        if age > timedelta(seconds=node.settings.max_message_age_seconds):
            message.status = "expired"
            issue_negative_evidence(session, node, message, "message expired undelivered")
            return
        delay = backoff_seconds(
            message.attempts, node.settings.retry_base_seconds, node.settings.retry_max_seconds
        )
        message.next_attempt_at = now + timedelta(seconds=max(delay, 0.05))


def issue_negative_evidence(
    session: Session, node: Node, message: OutboxMessage, reason: str
) -> None:
    """Sign and keep `not-delivered` evidence for a message (once)."""
    exists_already = session.execute(
        select(ReceiptRecord.id).where(
            ReceiptRecord.message_id == message.message_id,
            ReceiptRecord.evidence == Evidence.NOT_DELIVERED.value,
        )
    ).first()
    if exists_already:
        return
    keep_own_evidence(
        session,
        node,
        Evidence.NOT_DELIVERED,
        message.message_id,
        message.conversation_id,
        message.envelope_sha256,
        message.recipient,
        reason,
    )
    audit.record(
        session,
        "outbox:envelope:not-delivered",
        node.participant_id,
        message.message_id,
        recipient=message.recipient,
        reason=reason,
    )


def keep_own_evidence(
    session: Session,
    node: Node,
    evidence: Evidence,
    message_id: str,
    conversation_id: str,
    envelope_sha256: str,
    recipient: str,
    reason: str,
) -> str:
    """Sign evidence this node issues about its own message (negative evidence: not delivered,
    not retrieved in time) and keep it beside the receipts; returns the signed token."""
    receipt = Receipt(
        evidence=evidence,
        message_id=message_id,
        conversation_id=conversation_id,
        envelope_sha256=envelope_sha256,
        sender=node.participant_id,
        recipient=recipient,
        issuer=node.participant_id,
        at=utc_now(),
        reason=reason,
    )
    token = receipt.sign(node.keyring.signing_key())
    session.add(ReceiptRecord.of(receipt, token))
    return token


def timer_handlers(node: Node) -> dict[str, TimerHandler]:
    """The timer handlers of messaging, by timer kind (assembled in `transport.wiring`)."""

    def receipt_deadline(session: Session, timer: Timer) -> None:
        """No signed receipt came for a message in time: keep `not-delivered` evidence."""
        message = session.execute(
            select(OutboxMessage).where(OutboxMessage.message_id == timer.subject)
        ).scalar_one_or_none()
        if message is not None and message.status != "delivered":
            issue_negative_evidence(session, node, message, "no delivery receipt in time")

    return {RECEIPT_DEADLINE: receipt_deadline}
