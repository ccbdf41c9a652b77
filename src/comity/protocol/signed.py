"""Signed documents that are not secret: receipts, negative evidence, the directory.

A compact JWS (Ed25519) over canonical JSON, with a `typ` saying what the document is, so a
receipt can never be passed off as a directory or the reverse.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter

from comity.kit.jsonutil import canonical_json
from comity.protocol.envelope import SIGNING_ALG, read_protected_header
from comity.protocol.errors import BadSignature, MalformedEnvelope

_REGISTRY = jws.JWSRegistry(
    header_registry={"iss": HeaderParameter("issuing participant", "str", required=True)},
    algorithms=[SIGNING_ALG],
)


@dataclass(frozen=True)
class SignedDocument:
    typ: str
    issuer: str
    kid: str
    payload: dict[str, Any]
    token: str


def sign_document(typ: str, issuer: str, payload: dict[str, Any], key: OKPKey) -> str:
    header = {"alg": SIGNING_ALG, "kid": key.kid, "typ": typ, "iss": issuer}
    return jws.serialize_compact(header, canonical_json(payload), key, registry=_REGISTRY)


def read_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload without verification: only to pick the key that verifies it."""
    header = read_protected_header(token, parts=3)
    try:
        import base64

        segment = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError as exc:
        raise MalformedEnvelope("signed document payload is not base64url JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedEnvelope("signed document payload is not a JSON object")
    return header, payload


def verify_document(token: str, typ: str, key_for: Callable[[str, str], OKPKey]) -> SignedDocument:
    """Verify a signed document of type `typ`; `key_for(issuer, kid)` supplies the public key."""
    header = read_protected_header(token, parts=3)
    if header.get("typ") != typ:
        raise MalformedEnvelope(f"expected a {typ} document, found {header.get('typ')!r}")
    if header.get("alg") != SIGNING_ALG:
        raise BadSignature(f"{typ} must be signed with {SIGNING_ALG}")
    issuer, kid = header.get("iss"), header.get("kid")
    if not isinstance(issuer, str) or not isinstance(kid, str):
        raise MalformedEnvelope(f"{typ} header lacks 'iss' or 'kid'")
    key = key_for(issuer, kid)
    try:
        verified = jws.deserialize_compact(token, key, registry=_REGISTRY)
        payload = json.loads(verified.payload)
    except (JoseError, ValueError) as exc:
        raise BadSignature(f"{typ} signature of {issuer} does not verify") from exc
    if not isinstance(payload, dict):
        raise MalformedEnvelope(f"{typ} payload is not a JSON object")
    return SignedDocument(typ=typ, issuer=issuer, kid=kid, payload=payload, token=token)
