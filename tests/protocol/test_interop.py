"""Interoperability: an envelope made by comity (joserfc) is opened and verified by jwcrypto,
an independent JOSE implementation — so any standard library can check our messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from joserfc.jwk import OKPKey
from jwcrypto import jwe as jc_jwe
from jwcrypto import jwk as jc_jwk
from jwcrypto import jws as jc_jws

from comity.protocol.envelope import EnvelopeHeader, seal
from comity.protocol.receipts import Evidence, Receipt


def test_jwcrypto_decrypts_and_verifies_a_comity_envelope() -> None:
    sender = OKPKey.generate_key("Ed25519", parameters={"kid": "xa-sig"}, private=True)
    recipient = OKPKey.generate_key("X25519", parameters={"kid": "xb-enc"}, private=True)
    header = EnvelopeHeader("m-1", "c-1", "XA", "XB", "act", datetime(2026, 11, 27, tzinfo=UTC), 1)
    token = seal(header, {"act": "submit", "body": {"facts": "données"}}, sender, recipient)

    recipient_jwk = jc_jwk.JWK(**recipient.as_dict(private=True))
    envelope = jc_jwe.JWE()
    envelope.deserialize(token, key=recipient_jwk)
    assert envelope.jose_header["alg"] == "ECDH-ES+A256KW"
    assert envelope.jose_header["enc"] == "A256GCM"
    assert envelope.jose_header["mid"] == "m-1"

    signature = jc_jws.JWS()
    signature.deserialize(envelope.payload.decode())
    signature.verify(jc_jwk.JWK(**sender.as_dict(private=False)), alg="Ed25519")
    assert json.loads(signature.payload) == {"act": "submit", "body": {"facts": "données"}}
    assert signature.jose_header["snd"] == "XA"
    assert signature.jose_header["rcp"] == "XB"


def test_jwcrypto_verifies_a_receipt() -> None:
    key = OKPKey.generate_key("Ed25519", parameters={"kid": "xb-sig"}, private=True)
    receipt = Receipt(
        Evidence.DELIVERED,
        "m-1",
        "c-1",
        "ab" * 32,
        "XA",
        "XB",
        "XB",
        datetime(2026, 11, 27, tzinfo=UTC),
    )
    token = receipt.sign(key)
    signature = jc_jws.JWS()
    signature.deserialize(token)
    signature.verify(jc_jwk.JWK(**key.as_dict(private=False)), alg="Ed25519")
    assert json.loads(signature.payload)["evidence"] == "delivered"
