"""The inbox: valid envelopes get a signed receipt once; every bad envelope is refused with a
clear error and an audit entry, and nothing of it is stored as if valid."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import func, select

from comity.audit.service import entries
from comity.cases.models import Case
from comity.directory import service as directory_service
from comity.kit.clock import utc_now
from comity.messaging import inbox
from comity.messaging.inbox import PayloadTooLarge
from comity.messaging.models import InboxMessage
from comity.nodes.runtime import Node
from comity.protocol.envelope import EnvelopeHeader, seal
from comity.protocol.errors import (
    BadSignature,
    MalformedEnvelope,
    OutsideClockWindow,
    ReplayedMessage,
    RevokedKey,
    UndecryptableEnvelope,
    UnknownSenderKey,
    WrongRecipient,
)
from comity.protocol.receipts import Evidence, verify_receipt
from comity.transport.wiring import message_handlers
from tests.support import World, participant_entry, publish

HANDLERS = message_handlers()


def submit_payload() -> dict[str, Any]:
    return {
        "act": "submit",
        "kind": "preservation",
        "from_state": "draft",
        "body": {"kind": "preservation", "request": {"instrument": "budapest"}},
    }


def envelope(
    world: World,
    sender: str = "XA",
    recipient: str = "XB",
    *,
    signing_key: OKPKey | None = None,
    message_id: str | None = None,
    created_at=None,
    payload: dict[str, Any] | None = None,
    conversation_id: str | None = None,
) -> str:
    source: Node = world.nodes[sender]
    with world.nodes[recipient].sessions() as session:
        directory = directory_service.current(session)
    header = EnvelopeHeader(
        message_id=message_id or str(uuid.uuid4()),
        conversation_id=conversation_id or str(uuid.uuid4()),
        sender=sender,
        recipient=recipient,
        message_type="act",
        created_at=created_at or utc_now(),
        directory_version=directory.version,
    )
    return seal(
        header,
        payload or submit_payload(),
        signing_key or source.keyring.signing_key(),
        directory_service.encryption_key(directory, recipient),
    )


def accept(node: Node, token: str | bytes) -> inbox.Accepted:
    raw = token.encode() if isinstance(token, str) else token
    return inbox.accept(node, raw, HANDLERS)


def stored(node: Node) -> int:
    with node.sessions() as session:
        return session.execute(select(func.count()).select_from(InboxMessage)).scalar_one()


def rejections(node: Node) -> list[str]:
    with node.sessions() as session:
        return [e.details["code"] for e in entries(session, "inbox:envelope:rejected")]


def test_valid_envelope_is_stored_applied_and_receipted(world: World) -> None:
    xb = world.nodes["XB"]
    result = accept(xb, envelope(world))
    with xb.sessions() as session:
        directory = directory_service.current(session)
        case = session.execute(select(Case)).scalar_one()
    receipt = verify_receipt(
        result.receipt,
        lambda who, kid: directory_service.verification_key(directory, who, kid, utc_now()),
    )
    assert receipt.evidence is Evidence.DELIVERED
    assert receipt.issuer == "XB"
    assert case.state == "delivered"
    assert case.side == "requested"
    assert stored(xb) == 1


def test_same_envelope_twice_gives_the_same_receipt_and_no_second_effect(world: World) -> None:
    xb = world.nodes["XB"]
    token = envelope(world)
    first = accept(xb, token)
    second = accept(xb, token)
    assert second.receipt == first.receipt
    assert second.duplicate
    with xb.sessions() as session:
        assert session.execute(select(func.count()).select_from(Case)).scalar_one() == 1
    assert stored(xb) == 1


def test_replayed_message_id_with_other_content_is_refused(world: World) -> None:
    xb = world.nodes["XB"]
    accept(xb, envelope(world, message_id="fixed-id"))
    with pytest.raises(ReplayedMessage):
        accept(xb, envelope(world, message_id="fixed-id"))
    assert stored(xb) == 1
    assert rejections(xb) == ["replayed_message"]


def test_envelope_for_another_node_is_refused(world: World) -> None:
    token = envelope(world, recipient="XC")
    with pytest.raises(WrongRecipient):
        accept(world.nodes["XB"], token)
    assert stored(world.nodes["XB"]) == 0
    assert rejections(world.nodes["XB"]) == ["wrong_recipient"]


def test_tampered_envelope_is_refused(world: World) -> None:
    token = envelope(world)
    parts = token.split(".")
    parts[3] = ("A" if parts[3][0] != "A" else "B") + parts[3][1:]
    with pytest.raises(UndecryptableEnvelope):
        accept(world.nodes["XB"], ".".join(parts))
    assert stored(world.nodes["XB"]) == 0


def test_unknown_sender_is_refused(world: World) -> None:
    stranger = OKPKey.generate_key("Ed25519", parameters={"kid": "XZ-sig-1"}, private=True)
    token = envelope(world, signing_key=stranger)
    with pytest.raises(UnknownSenderKey):
        accept(world.nodes["XB"], token)
    assert rejections(world.nodes["XB"]) == ["unknown_sender_key"]


def test_signature_with_another_parties_key_is_refused(world: World) -> None:
    impostor_key = world.nodes["XC"].keyring.signing_key()
    wrapped = OKPKey.import_key(
        {**impostor_key.as_dict(private=True), "kid": world.nodes["XA"].keyring.signing_key().kid}
    )
    with pytest.raises(BadSignature):
        accept(world.nodes["XB"], envelope(world, signing_key=wrapped))


def test_revoked_sender_key_is_refused(world: World) -> None:
    entries_ = []
    for participant, node in world.nodes.items():
        entry = participant_entry(node)
        if participant == "XA":
            for key in entry["keys"]:
                key["revoked"] = True
        entries_.append(entry)
    token = publish(world.registry, entries_)
    from tests.support import import_into

    import_into(world.nodes["XB"], token, world.registry)
    with pytest.raises(RevokedKey):
        accept(world.nodes["XB"], envelope(world))


@pytest.mark.parametrize("offset", [timedelta(hours=1), -timedelta(days=8)])
def test_envelope_outside_the_clock_window_is_refused(world: World, offset: timedelta) -> None:
    with pytest.raises(OutsideClockWindow):
        accept(world.nodes["XB"], envelope(world, created_at=utc_now() + offset))
    assert stored(world.nodes["XB"]) == 0


@pytest.mark.parametrize("raw", [b"", b'{"json": true}', b"\xff\xfe", b"a.b.c.d.e"])
def test_malformed_input_is_refused_and_audited(world: World, raw: bytes) -> None:
    with pytest.raises(MalformedEnvelope):
        accept(world.nodes["XB"], raw)
    assert rejections(world.nodes["XB"]) == ["envelope_malformed"]


def test_oversized_body_is_refused(world: World) -> None:
    with pytest.raises(PayloadTooLarge):
        accept(world.nodes["XB"], b"x" * (world.nodes["XB"].settings.max_body_bytes + 1))


def test_act_not_allowed_in_state_is_refused_and_changes_nothing(world: World) -> None:
    xb = world.nodes["XB"]
    first = submit_payload()
    token = envelope(world, payload=first)
    accept(xb, token)
    with xb.sessions() as session:
        case = session.execute(select(Case)).scalar_one()
    # XA claims to 'close' a request that XB has not even acknowledged.
    closing = EnvelopeHeader(str(uuid.uuid4()), case.id, "XA", "XB", "act", utc_now(), 1)
    with xb.sessions() as session:
        directory = directory_service.current(session)
    bad = seal(
        closing,
        {"act": "close", "kind": "preservation", "from_state": "executed", "body": {}},
        world.nodes["XA"].keyring.signing_key(),
        directory_service.encryption_key(directory, "XB"),
    )
    from comity.protocol.errors import ActNotAllowed

    with pytest.raises(ActNotAllowed, match="delivered"):
        accept(xb, bad)
    with xb.sessions() as session:
        assert session.get(Case, case.id).state == "delivered"
    assert stored(xb) == 1
    assert rejections(xb) == ["act_not_allowed"]


def test_act_from_a_party_outside_the_conversation_is_refused(world: World) -> None:
    xb = world.nodes["XB"]
    accept(xb, envelope(world))
    with xb.sessions() as session:
        case = session.execute(select(Case)).scalar_one()
        directory = directory_service.current(session)
    header = EnvelopeHeader(str(uuid.uuid4()), case.id, "XC", "XB", "act", utc_now(), 1)
    token = seal(
        header,
        {
            "act": "withdraw",
            "kind": "preservation",
            "from_state": "delivered",
            "body": {"reasons": "not yours"},
        },
        world.nodes["XC"].keyring.signing_key(),
        directory_service.encryption_key(directory, "XB"),
    )
    from comity.protocol.errors import WrongParty

    with pytest.raises(WrongParty):
        accept(xb, token)
    with xb.sessions() as session:
        assert session.get(Case, case.id).state == "delivered"
