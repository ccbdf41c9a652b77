"""Envelopes: a JWS (Ed25519, RFC 8037/9864) nested inside a JWE (ECDH-ES+A256KW with X25519,
A256GCM; RFC 7516/7518), both in compact serialisation.

The addressing headers are carried, identical, in both protected headers: in the JWE so a node
can route and deduplicate before decrypting, in the JWS so the sender's signature covers them.
A mismatch between the two is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter

from comity.kit.jsonutil import canonical_json, sha256_hex
from comity.protocol.errors import (
    BadSignature,
    HeaderMismatch,
    MalformedEnvelope,
    UndecryptableEnvelope,
)

SIGNING_ALG = "Ed25519"
KEY_WRAP_ALG = "ECDH-ES+A256KW"
CONTENT_ENC = "A256GCM"
ENVELOPE_TYP = "comity-envelope+jwe"
INNER_CTY = "comity-act+jws"

# Private header parameters (RFC 7515 §4.3), the same in the JWS and the JWE.
ADDRESS_HEADERS: dict[str, str] = {
    "mid": "message id",
    "cid": "conversation id",
    "snd": "sender participant id",
    "rcp": "recipient participant id",
    "mty": "message type",
    "crt": "created-at, RFC 3339 UTC",
    "dv": "directory version the sender used",
}


def _header_registry() -> dict[str, HeaderParameter]:
    registry = {
        name: HeaderParameter(description, "str", required=True)
        for name, description in ADDRESS_HEADERS.items()
    }
    registry["dv"] = HeaderParameter(ADDRESS_HEADERS["dv"], "int", required=True)
    return registry


_JWS_REGISTRY = jws.JWSRegistry(header_registry=_header_registry(), algorithms=[SIGNING_ALG])
_JWE_REGISTRY = jwe.JWERegistry(
    header_registry=_header_registry(), algorithms=[KEY_WRAP_ALG, CONTENT_ENC]
)


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as carried in headers and receipts."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedEnvelope(f"not an RFC 3339 time: {text!r}") from exc


@dataclass(frozen=True)
class EnvelopeHeader:
    """Who sends what to whom, readable without decrypting."""

    message_id: str
    conversation_id: str
    sender: str
    recipient: str
    message_type: str
    created_at: datetime
    directory_version: int

    def to_params(self) -> dict[str, Any]:
        return {
            "mid": self.message_id,
            "cid": self.conversation_id,
            "snd": self.sender,
            "rcp": self.recipient,
            "mty": self.message_type,
            "crt": format_time(self.created_at),
            "dv": self.directory_version,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> EnvelopeHeader:
        try:
            version = params["dv"]
            if not isinstance(version, int) or isinstance(version, bool):
                raise MalformedEnvelope("header 'dv' must be an integer")
            text_fields = {
                name: params[name] for name in ("mid", "cid", "snd", "rcp", "mty", "crt")
            }
        except KeyError as exc:
            raise MalformedEnvelope(f"protected header lacks {exc.args[0]!r}") from exc
        for name, value in text_fields.items():
            if not isinstance(value, str) or not value or len(value) > 200:
                raise MalformedEnvelope(f"header {name!r} must be a non-empty string")
        return cls(
            message_id=text_fields["mid"],
            conversation_id=text_fields["cid"],
            sender=text_fields["snd"],
            recipient=text_fields["rcp"],
            message_type=text_fields["mty"],
            created_at=parse_time(text_fields["crt"]),
            directory_version=version,
        )


@dataclass(frozen=True)
class OpenedEnvelope:
    header: EnvelopeHeader
    payload: dict[str, Any]
    signing_kid: str
    sha256: str


def envelope_sha256(token: str) -> str:
    return sha256_hex(token.encode("ascii"))


def seal(
    header: EnvelopeHeader,
    payload: dict[str, Any],
    signing_key: OKPKey,
    recipient_key: OKPKey,
) -> str:
    """Sign `payload` with the sender's Ed25519 key, then encrypt to the recipient's X25519 key."""
    params = header.to_params()
    jws_header = {"alg": SIGNING_ALG, "kid": signing_key.kid, "typ": "comity-act+jws", **params}
    signed = jws.serialize_compact(
        jws_header, canonical_json(payload), signing_key, registry=_JWS_REGISTRY
    )
    jwe_header = {
        "alg": KEY_WRAP_ALG,
        "enc": CONTENT_ENC,
        "kid": recipient_key.kid,
        "typ": ENVELOPE_TYP,
        "cty": INNER_CTY,
        **params,
    }
    return jwe.encrypt_compact(
        jwe_header, signed.encode("ascii"), recipient_key, registry=_JWE_REGISTRY
    )


def _b64decode(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def read_protected_header(token: str, parts: int) -> dict[str, Any]:
    """Decode the protected header of a compact JOSE object without checking anything else."""
    if not token.isascii():
        raise MalformedEnvelope("a compact JOSE serialisation is ASCII only")
    segments = token.split(".")
    if len(segments) != parts:
        raise MalformedEnvelope(f"expected {parts} dot-separated parts, found {len(segments)}")
    try:
        header = json.loads(_b64decode(segments[0]))
    except (ValueError, binascii.Error) as exc:
        raise MalformedEnvelope("protected header is not base64url-encoded JSON") from exc
    if not isinstance(header, dict):
        raise MalformedEnvelope("protected header is not a JSON object")
    return header


def peek_header(token: str) -> tuple[EnvelopeHeader, str]:
    """The addressing header and the recipient key id, read from the JWE without decrypting."""
    header = read_protected_header(token, parts=5)
    if header.get("alg") != KEY_WRAP_ALG or header.get("enc") != CONTENT_ENC:
        raise MalformedEnvelope(f"envelope must use {KEY_WRAP_ALG} with {CONTENT_ENC}")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise MalformedEnvelope("envelope header lacks the recipient key id 'kid'")
    return EnvelopeHeader.from_params(header), kid


def open_envelope(
    token: str,
    decryption_key: OKPKey,
    verification_key_for: Callable[[str, str], OKPKey],
) -> OpenedEnvelope:
    """Decrypt with this node's key, then verify the sender's signature.

    `verification_key_for(sender, kid)` returns the sender's public key from the directory or
    raises (unknown or revoked key).
    """
    outer, _ = peek_header(token)
    try:
        decrypted = jwe.decrypt_compact(token, decryption_key, registry=_JWE_REGISTRY)
    except (JoseError, ValueError) as exc:
        raise UndecryptableEnvelope(
            "envelope cannot be opened with this node's key: tampered or not encrypted to us"
        ) from exc
    inner_token = (decrypted.plaintext or b"").decode("ascii", errors="replace")
    inner_header = read_protected_header(inner_token, parts=3)
    if inner_header.get("alg") != SIGNING_ALG:
        raise BadSignature(f"inner signature must use alg {SIGNING_ALG}")
    kid = inner_header.get("kid")
    if not isinstance(kid, str):
        raise BadSignature("inner signature lacks the signing key id 'kid'")
    inner = EnvelopeHeader.from_params(inner_header)
    if inner != outer:
        raise HeaderMismatch("signed header differs from the envelope header")
    public_key = verification_key_for(inner.sender, kid)
    try:
        verified = jws.deserialize_compact(inner_token, public_key, registry=_JWS_REGISTRY)
    except (JoseError, ValueError) as exc:
        raise BadSignature(f"signature of {inner.sender} does not verify") from exc
    try:
        payload = json.loads(verified.payload)
    except ValueError as exc:
        raise MalformedEnvelope("signed payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedEnvelope("signed payload is not a JSON object")
    return OpenedEnvelope(
        header=inner, payload=payload, signing_kid=kid, sha256=envelope_sha256(token)
    )
