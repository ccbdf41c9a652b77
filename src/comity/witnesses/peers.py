"""Asking peers which of our audit checkpoints they hold, and checking what they answer.

A node asks each peer for the checkpoints it received from that node (`GET
/v1/audit/checkpoints/held`, answered in `witnesses/api.py`), so `comity audit verify
--peers` can check the log against copies kept out of reach of whoever controls this node:
entries cut off, checkpoints deleted here, two histories signed (fork).

- The request carries `Comity-Node-Signature`: a compact JWS (`comity-node-request+jws`) by
  the asking node over {op, sender, recipient, nonce, at} (`NodeRequest`). The holder checks
  it with the sender's directory key (`check_request`) and answers only with the checkpoints
  *the sender* issued.
- The answer is a JWS by the holder (`comity-audit-checkpoints-held+jws`, see
  `witnesses.service.held_answer`) carrying the nonce: the asker checks it with the holder's
  directory key, so neither a man in the middle nor a replayed old answer can hide newer
  checkpoints. Each checkpoint inside is then verified against the asker's own key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from comity.audit import checkpoint
from comity.audit.models import AuditCheckpoint
from comity.directory import lookup
from comity.directory import service as directory_service
from comity.kit.clock import utc_now
from comity.kit.errors import ComityError, Unauthorized
from comity.nodes.runtime import Node
from comity.protocol.envelope import format_time
from comity.protocol.signed import sign_document
from comity.witnesses import service as witnesses

SIGNATURE_HEADER = "Comity-Node-Signature"
REQUEST_TYP = "comity-node-request+jws"
HELD_OP = "audit-checkpoints-held"
HELD_PATH = "/v1/audit/checkpoints/held"
MAX_REQUEST_AGE = timedelta(minutes=5)


class NodeRequest(BaseModel):
    """What a node signs when it asks a peer something: the operation, who asks whom, a
    fresh nonce the answer must carry, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    op: str = Field(min_length=1, max_length=64)
    sender: str = Field(min_length=1, max_length=64)
    recipient: str = Field(min_length=1, max_length=64)
    nonce: str = Field(min_length=1, max_length=128)
    at: str = Field(min_length=1, max_length=40)


def sign_request(node: Node, recipient: str, op: str, nonce: str) -> str:
    payload = NodeRequest(
        op=op,
        sender=node.participant_id,
        recipient=recipient,
        nonce=nonce,
        at=format_time(utc_now()),
    )
    return sign_document(
        REQUEST_TYP, node.participant_id, payload.model_dump(), node.keyring.signing_key()
    )


def check_request(session: Session, node: Node, token: str | None, op: str) -> tuple[str, str]:
    """(sender, nonce) of a request signed by a participant of the directory for `op` and for
    this node, dated within a few minutes; 401 otherwise."""
    if not token:
        raise Unauthorized(f"send '{SIGNATURE_HEADER}': a JWS by the asking node")
    _, signed = directory_service.verify_signed_request(
        session,
        token,
        REQUEST_TYP,
        MAX_REQUEST_AGE,
        timedelta(seconds=node.settings.clock_skew_seconds),
        "node signature",
    )
    try:
        asked = NodeRequest.model_validate(signed.payload)
    except ValidationError:
        raise Unauthorized("the node signature does not cover this request") from None
    if (asked.op, asked.recipient, asked.sender) != (op, node.participant_id, signed.issuer):
        raise Unauthorized("the node signature does not cover this request")
    return signed.issuer, asked.nonce


@dataclass
class PeerCopies:
    """What the peers said: holder → checkpoint tokens, and peer → why it gave no answer."""

    held_by: dict[str, list[str]] = field(default_factory=dict)
    unanswered: dict[str, str] = field(default_factory=dict)


def peers_to_ask(session: Session, node: Node) -> list[str]:
    """Everyone who should hold our checkpoints: today's recipients and everyone a checkpoint
    still in our table was sent to."""
    chosen = set(witnesses.peers(session, node))
    for sent_to in session.execute(select(AuditCheckpoint.sent_to)).scalars():
        chosen.update(sent_to or [])
    chosen.discard(node.participant_id)
    return sorted(chosen)


def ask_peers(node: Node, peers: list[str], client: httpx.Client | None = None) -> PeerCopies:
    """Ask each peer for the checkpoints of ours it holds and check its signed answer."""
    result = PeerCopies()
    with node.sessions() as session:
        directory = directory_service.current(session, require_valid=False)
    own = client or httpx.Client(timeout=node.settings.delivery_timeout_seconds)
    try:
        for peer in peers:
            try:
                endpoint = lookup.endpoint(directory, peer).rstrip("/")
                nonce = secrets.token_urlsafe(18)
                response = own.get(
                    f"{endpoint}{HELD_PATH}",
                    headers={SIGNATURE_HEADER: sign_request(node, peer, HELD_OP, nonce)},
                )
                if response.status_code != 200:
                    result.unanswered[peer] = f"HTTP {response.status_code}"
                    continue
                answer = str(response.json().get("answer", ""))
                result.held_by[peer] = checkpoint.read_held_answer(
                    answer,
                    lambda who, kid: lookup.verification_key(directory, who, kid, utc_now()),
                    peer,
                    node.participant_id,
                    nonce,
                )
            except ComityError as exc:
                result.unanswered[peer] = exc.message
            except (httpx.HTTPError, ValueError, AttributeError) as exc:
                result.unanswered[peer] = f"no answer: {type(exc).__name__}"
    finally:
        if client is None:
            own.close()
    return result
