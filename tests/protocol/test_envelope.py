"""Envelopes: sign then encrypt, and every way an envelope must be refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from joserfc import jwe, jws
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter

from comity.protocol.envelope import EnvelopeHeader, open_envelope, peek_header, seal
from comity.protocol.errors import (
    BadSignature,
    HeaderMismatch,
    MalformedEnvelope,
    UndecryptableEnvelope,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def keys(prefix: str) -> tuple[OKPKey, OKPKey]:
    sig = OKPKey.generate_key("Ed25519", parameters={"kid": f"{prefix}-sig"}, private=True)
    enc = OKPKey.generate_key("X25519", parameters={"kid": f"{prefix}-enc"}, private=True)
    return sig, enc


def header(**changes: object) -> EnvelopeHeader:
    values: dict[str, object] = dict(
        message_id="m-1",
        conversation_id="c-1",
        sender="XA",
        recipient="XB",
        message_type="act",
        created_at=NOW,
        directory_version=3,
    )
    values.update(changes)
    return EnvelopeHeader(**values)  # type: ignore[arg-type]


@pytest.fixture
def parties() -> dict[str, tuple[OKPKey, OKPKey]]:
    return {"XA": keys("xa"), "XB": keys("xb"), "XC": keys("xc")}


def verifier(parties: dict[str, tuple[OKPKey, OKPKey]]):
    def lookup(sender: str, kid: str) -> OKPKey:
        key = parties[sender][0]
        assert key.kid == kid
        return key

    return lookup


def test_envelope_opens_with_recipient_key_and_verifies_sender(parties) -> None:
    token = seal(
        header(), {"act": "submit", "body": {"x": "é中"}}, parties["XA"][0], parties["XB"][1]
    )
    opened = open_envelope(token, parties["XB"][1], verifier(parties))
    assert opened.payload == {"act": "submit", "body": {"x": "é中"}}
    assert opened.header == header()
    assert opened.signing_kid == "xa-sig"


def test_addressing_headers_are_readable_without_decrypting(parties) -> None:
    token = seal(header(), {"a": 1}, parties["XA"][0], parties["XB"][1])
    peeked, kid = peek_header(token)
    assert peeked.recipient == "XB"
    assert peeked.message_id == "m-1"
    assert kid == "xb-enc"


def test_envelope_for_another_recipient_cannot_be_opened(parties) -> None:
    token = seal(header(), {"a": 1}, parties["XA"][0], parties["XB"][1])
    with pytest.raises(UndecryptableEnvelope):
        open_envelope(token, parties["XC"][1], verifier(parties))


def test_tampered_ciphertext_is_refused(parties) -> None:
    token = seal(header(), {"a": 1}, parties["XA"][0], parties["XB"][1])
    parts = token.split(".")
    ciphertext = bytearray(base64.urlsafe_b64decode(parts[3] + "=" * (-len(parts[3]) % 4)))
    ciphertext[0] ^= 1
    parts[3] = base64.urlsafe_b64encode(bytes(ciphertext)).rstrip(b"=").decode()
    with pytest.raises(UndecryptableEnvelope):
        open_envelope(".".join(parts), parties["XB"][1], verifier(parties))


def test_tampered_outer_header_is_refused(parties) -> None:
    token = seal(header(), {"a": 1}, parties["XA"][0], parties["XB"][1])
    parts = token.split(".")
    outer = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    outer["mty"] = "other"
    parts[0] = base64.urlsafe_b64encode(json.dumps(outer).encode()).rstrip(b"=").decode()
    with pytest.raises(UndecryptableEnvelope):
        open_envelope(".".join(parts), parties["XB"][1], verifier(parties))


def test_signature_by_another_party_is_refused(parties) -> None:
    forged = seal(header(sender="XA"), {"a": 1}, parties["XC"][0], parties["XB"][1])

    def lookup(sender: str, kid: str) -> OKPKey:
        return parties[sender][0]

    with pytest.raises(BadSignature):
        open_envelope(forged, parties["XB"][1], lookup)


def test_inner_header_that_differs_from_outer_is_refused(parties) -> None:
    """A valid JWS for one message re-wrapped in a JWE claiming another id is refused."""
    inner = jws.serialize_compact(
        {"alg": "Ed25519", "kid": "xa-sig", "typ": "comity-act+jws", **header().to_params()},
        b"{}",
        parties["XA"][0],
        registry=jws.JWSRegistry(
            header_registry={
                k: HeaderParameter(k, lambda _v: None)
                for k in ("mid", "cid", "snd", "rcp", "mty", "crt", "dv")
            },
            algorithms=["Ed25519"],
        ),
    )
    outer_params = header(message_id="m-2").to_params()
    token = jwe.encrypt_compact(
        {"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": "xb-enc", **outer_params},
        inner.encode(),
        parties["XB"][1],
        registry=jwe.JWERegistry(
            header_registry={k: HeaderParameter(k, lambda _v: None) for k in outer_params},
            algorithms=["ECDH-ES+A256KW", "A256GCM"],
        ),
    )
    with pytest.raises(HeaderMismatch):
        open_envelope(token, parties["XB"][1], verifier(parties))


@pytest.mark.parametrize(
    "garbage",
    ["", "not-a-token", "a.b.c.d.e", "eyJ9.b.c.d.e", "é.b.c.d.e", "a.b.c"],
)
def test_malformed_envelopes_are_refused_with_a_clear_error(garbage: str) -> None:
    with pytest.raises(MalformedEnvelope):
        peek_header(garbage)
