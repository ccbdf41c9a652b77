"""The transactional outbox: seal an envelope and queue it in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from comity.directory import service as directory_service
from comity.kit.clock import utc_now
from comity.messaging.models import OutboxMessage
from comity.nodes.runtime import Node
from comity.protocol.envelope import EnvelopeHeader, envelope_sha256, seal
from comity.timers import service as timers

RECEIPT_DEADLINE = "receipt-deadline"


def enqueue(
    session: Session,
    node: Node,
    recipient: str,
    conversation_id: str,
    message_type: str,
    payload: dict[str, Any],
) -> OutboxMessage:
    """Seal `payload` for `recipient` and queue it; nothing is sent before the commit."""
    directory = directory_service.current(session)
    now = utc_now()
    header = EnvelopeHeader(
        message_id=str(uuid.uuid4()),
        conversation_id=conversation_id,
        sender=node.participant_id,
        recipient=recipient,
        message_type=message_type,
        created_at=now,
        directory_version=directory.version,
    )
    token = seal(
        header,
        payload,
        node.keyring.signing_key(),
        directory_service.encryption_key(directory, recipient),
    )
    message = OutboxMessage(
        message_id=header.message_id,
        conversation_id=conversation_id,
        recipient=recipient,
        endpoint=directory_service.endpoint(directory, recipient),
        message_type=message_type,
        envelope=token,
        envelope_sha256=envelope_sha256(token),
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    timers.schedule(
        session,
        RECEIPT_DEADLINE,
        header.message_id,
        now + timedelta(seconds=node.settings.receipt_deadline_seconds),
    )
    session.flush()
    return message
