"""Receipts: signed evidence of what happened to an envelope, after e-CODEX's REM evidences.

`delivered` — the recipient node verified and stored the envelope (returned synchronously).
`retrieved` — a responsible officer at the recipient opened it (sent later, in an envelope).
`not-delivered` / `not-retrieved` — negative evidence issued by the sender's own node when
the positive evidence did not come in time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from joserfc.jwk import OKPKey

from comity.protocol.envelope import format_time, parse_time
from comity.protocol.errors import MalformedEnvelope
from comity.protocol.signed import sign_document, verify_document

RECEIPT_TYP = "comity-receipt+jws"


class Evidence(StrEnum):
    DELIVERED = "delivered"
    RETRIEVED = "retrieved"
    NOT_DELIVERED = "not-delivered"
    NOT_RETRIEVED = "not-retrieved"


@dataclass(frozen=True)
class Receipt:
    evidence: Evidence
    message_id: str
    conversation_id: str
    envelope_sha256: str
    sender: str
    recipient: str
    issuer: str
    at: datetime
    reason: str = ""

    def to_payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "evidence": self.evidence.value,
            "mid": self.message_id,
            "cid": self.conversation_id,
            "envelope_sha256": self.envelope_sha256,
            "sender": self.sender,
            "recipient": self.recipient,
            "at": format_time(self.at),
        }
        if self.reason:
            body["reason"] = self.reason
        return body

    def sign(self, key: OKPKey) -> str:
        return sign_document(RECEIPT_TYP, self.issuer, self.to_payload(), key)


def verify_receipt(token: str, key_for: Callable[[str, str], OKPKey]) -> Receipt:
    document = verify_document(token, RECEIPT_TYP, key_for)
    body = document.payload
    try:
        return Receipt(
            evidence=Evidence(body["evidence"]),
            message_id=str(body["mid"]),
            conversation_id=str(body["cid"]),
            envelope_sha256=str(body["envelope_sha256"]),
            sender=str(body["sender"]),
            recipient=str(body["recipient"]),
            issuer=document.issuer,
            at=parse_time(str(body["at"])),
            reason=str(body.get("reason", "")),
        )
    except (KeyError, ValueError) as exc:
        raise MalformedEnvelope(f"receipt lacks or garbles {exc}") from exc
