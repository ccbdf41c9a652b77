"""The chain of custody of an evidence package: every handling is an event signed by the
handling node, attested by the user who did it, and linked to the event before it by hash.

The chain starts from the manifest: event 1 carries the SHA-256 of `manifest.jws`, and every
later event the SHA-256 of the previous event's token. Removing, reordering or altering an
event therefore breaks a link or a signature. Removing the *last* events leaves a shorter chain
that is still consistent: only a later copy, a receipt or the other party's chain shows it.

User keys: until user accounts carry their own registered keys, a user attests an event with a
key whose public part travels inside the event and is vouched for by the node's signature.
Without a user key the event names the user and only the node signs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from comity.directory.document import Directory
from comity.evidence.errors import PackageMalformed
from comity.evidence.keys import signing_key
from comity.evidence.manifest import read_manifest_unverified
from comity.kit.clock import utc_now
from comity.kit.jsonutil import canonical_json, sha256_hex
from comity.protocol.envelope import format_time, parse_time
from comity.protocol.errors import BadSignature, MalformedEnvelope
from comity.protocol.signed import read_unverified, sign_document, verify_document

EVENT_TYP = "comity-custody-event+jws"
USER_TYP = "comity-custody-user+jws"
EVENT_FORMAT = "comity-custody-event/1"
MAX_DETAIL_LENGTH = 500


class CustodyAction(StrEnum):
    """The handlings of evidence that the chain records (architecture §5)."""

    CREATED = "created"
    SEALED = "sealed"
    SENT = "sent"
    RECEIVED = "received"
    VERIFIED = "verified"
    OPENED = "opened"
    COPIED = "copied"
    DISCLOSED = "disclosed"
    RETURNED = "returned"
    DESTROYED = "destroyed"


DetailValue = str | int | bool | None


@dataclass(frozen=True)
class CustodyEvent:
    """One handling: who (node and user), what, when; `details` say how, never the content."""

    package_id: str
    seq: int
    action: CustodyAction
    at: datetime
    node: str
    user: str
    prev_hash: str
    details: dict[str, DetailValue]
    user_attestation: dict[str, Any] | None = None

    def core_json(self) -> dict[str, Any]:
        """The fields the user signs: everything except the user's own attestation."""
        return {
            "format": EVENT_FORMAT,
            "package_id": self.package_id,
            "seq": self.seq,
            "action": self.action.value,
            "at": format_time(self.at),
            "node": self.node,
            "user": self.user,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.core_json(), "user_attestation": self.user_attestation}

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> CustodyEvent:
        try:
            if payload["format"] != EVENT_FORMAT:
                raise ValueError(f"format {payload['format']!r} is not {EVENT_FORMAT}")
            return cls(
                package_id=str(payload["package_id"]),
                seq=int(payload["seq"]),
                action=CustodyAction(payload["action"]),
                at=parse_time(payload["at"]),
                node=str(payload["node"]),
                user=str(payload["user"]),
                prev_hash=str(payload["prev_hash"]),
                details=dict(payload["details"]),
                user_attestation=payload.get("user_attestation"),
            )
        except (KeyError, TypeError, ValueError, MalformedEnvelope) as exc:
            raise PackageMalformed(f"custody event is incomplete or malformed: {exc}") from exc


def genesis_hash(manifest_token: str) -> str:
    """What event 1 links to: the SHA-256 (hex) of the manifest token's ASCII bytes."""
    return sha256_hex(manifest_token.strip().encode("ascii"))


def token_hash(token: str) -> str:
    """What the next event links to: the SHA-256 (hex) of this event token's ASCII bytes."""
    return sha256_hex(token.strip().encode("ascii"))


def _checked_details(details: dict[str, DetailValue] | None) -> dict[str, DetailValue]:
    checked = dict(details or {})
    for name, value in checked.items():
        if not isinstance(value, str | int | bool | type(None)):
            raise ValueError(f"custody detail {name!r} must be text, a number or a flag")
        if isinstance(value, str) and len(value) > MAX_DETAIL_LENGTH:
            raise ValueError(f"custody detail {name!r} is longer than {MAX_DETAIL_LENGTH}")
    return checked


def append_event(
    chain: Sequence[str],
    manifest_token: str,
    action: CustodyAction,
    node: str,
    node_key: OKPKey,
    user: str,
    user_key: OKPKey | None = None,
    details: dict[str, DetailValue] | None = None,
    at: datetime | None = None,
) -> str:
    """Sign the next event of `chain` (the tokens so far) and return its token."""
    _, manifest = read_manifest_unverified(manifest_token)
    event = CustodyEvent(
        package_id=manifest.package_id,
        seq=len(chain) + 1,
        action=CustodyAction(action),
        at=at or utc_now(),
        node=node,
        user=user,
        prev_hash=token_hash(chain[-1]) if chain else genesis_hash(manifest_token),
        details=_checked_details(details),
    )
    if user_key is not None:
        attestation = {
            "jwk": dict(user_key.as_dict(private=False)),
            "token": sign_document(USER_TYP, user, event.core_json(), user_key),
        }
        event = replace(event, user_attestation=attestation)
    return sign_document(EVENT_TYP, node, event.to_json(), node_key)


def read_chain(path: Path) -> list[str]:
    """The event tokens of a `custody.jsonl` file, one per non-empty line."""
    if not path.is_file():
        return []
    tokens = []
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            tokens.append(str(record["event"]))
        except (ValueError, KeyError, TypeError):
            raise PackageMalformed(f"custody.jsonl line {number} is not a custody record") from None
    return tokens


def custody_line(token: str) -> str:
    """One line of `custody.jsonl`: {"event": <compact JWS>}."""
    return canonical_json({"event": token}).decode("ascii")


def write_event(path: Path, token: str) -> None:
    """Append one event to `custody.jsonl` and flush it to disk."""
    with path.open("a", encoding="ascii") as sink:
        sink.write(custody_line(token) + "\n")
        sink.flush()
        os.fsync(sink.fileno())


def _user_problems(label: str, event: CustodyEvent) -> list[str]:
    attestation = event.user_attestation
    if attestation is None:
        return []
    try:
        user_key = OKPKey.import_key(attestation["jwk"])
        signed = verify_document(str(attestation["token"]), USER_TYP, lambda issuer, kid: user_key)
    except (KeyError, TypeError, ValueError, BadSignature, MalformedEnvelope):
        return [f"{label}: the signature of user {event.user} is invalid"]
    if signed.issuer != event.user or signed.payload != event.core_json():
        return [f"{label}: the user signature is for a different user or event"]
    return []


def verify_chain(
    tokens: Sequence[str], manifest_token: str, directory: Directory
) -> tuple[list[str], list[CustodyEvent]]:
    """Check every event's signatures and links. Returns plain-language problems (empty when
    the chain holds) and the events that could be read."""
    problems: list[str] = []
    events: list[CustodyEvent] = []
    if not tokens:
        return ["the custody chain is empty: not even the sealing is recorded"], events
    try:
        _, manifest = read_manifest_unverified(manifest_token)
        package_id: str | None = manifest.package_id
    except PackageMalformed:
        package_id = None
    expected_prev = genesis_hash(manifest_token)
    previous: CustodyEvent | None = None
    previous_label = ""
    for position, token in enumerate(tokens, 1):
        link, expected_prev = expected_prev, token_hash(token)
        try:
            header, payload = read_unverified(token)
            event = CustodyEvent.from_json(payload)
        except (MalformedEnvelope, PackageMalformed):
            problems.append(f"custody record {position} cannot be read as a signed event")
            previous, previous_label = None, f"record {position}"
            continue
        label = f"custody event {event.seq}"
        events.append(event)
        if event.seq != position:
            problems.append(
                f"{label} is in position {position}: events are missing or out of order"
            )
        if event.prev_hash != link:
            problems.append(
                f"custody chain broken after event {previous_label}"
                if position > 1
                else "custody chain broken at its start: event 1 does not follow from the manifest"
            )
        if package_id is not None and event.package_id != package_id:
            problems.append(f"{label} belongs to another package ({event.package_id})")
        if previous is not None and event.at < previous.at:
            problems.append(f"{label} is dated before the event that precedes it")
        problems.extend(_signature_problems(label, token, header, event, directory))
        problems.extend(_user_problems(label, event))
        previous, previous_label = event, str(event.seq)
    return problems, events


def _signature_problems(
    label: str, token: str, header: dict[str, Any], event: CustodyEvent, directory: Directory
) -> list[str]:
    issuer, kid = header.get("iss"), header.get("kid")
    if header.get("typ") != EVENT_TYP or not isinstance(issuer, str) or not isinstance(kid, str):
        return [f"{label} is not a signed custody event"]
    if issuer != event.node:
        return [f"{label} names node {event.node} but was signed by {issuer}"]
    key, problem = signing_key(directory, label, issuer, kid, event.at)
    if key is None:
        return [problem or f"{label}: no key to verify it"]
    try:
        verify_document(token, EVENT_TYP, lambda _issuer, _kid: key)
    except (BadSignature, MalformedEnvelope):
        return [f"{label} signature invalid: it was altered after {issuer} signed it"]
    return []
