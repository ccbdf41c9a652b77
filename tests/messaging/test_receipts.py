"""Retrieved receipts and `not-retrieved` negative evidence, issued by real nodes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from comity.cases import service as cases
from comity.demo.samples import preservation_request
from comity.directory import service as directory_service
from comity.kit.clock import FrozenClock, use_clock, utc_now
from comity.kit.db import transaction
from comity.messaging import delivery, inbox
from comity.messaging.models import ReceiptRecord
from comity.nodes.runtime import Node
from comity.protocol.acts import Act
from comity.protocol.receipts import Evidence, verify_receipt
from comity.timers import service as timers
from comity.transport.wiring import delivery_hooks, message_handlers, timer_handlers
from tests.support import World


def pump(sender: Node, receiver: Node) -> None:
    """Carry every due envelope from `sender` to `receiver` as the worker would."""
    hooks = delivery_hooks()
    for lease in delivery.lease_due(sender, "test", limit=50):
        accepted = inbox.accept(receiver, lease.envelope.encode(), message_handlers())
        with transaction(sender.sessions) as session:
            delivery._record_delivered(session, sender, lease, accepted.receipt, hooks)


def evidence_of(node: Node, case_id: str) -> list[str]:
    """The evidence this node holds about its own messages of request `case_id` (the
    delivered receipts it issued itself for inbound envelopes are left out)."""
    with node.sessions() as session:
        rows = session.execute(
            select(ReceiptRecord)
            .where(ReceiptRecord.conversation_id == case_id)
            .order_by(ReceiptRecord.id)
        ).scalars()
        return [
            r.evidence
            for r in rows
            if not (r.evidence == "delivered" and r.issuer == node.participant_id)
        ]


def submit(world: World) -> str:
    xa = world.nodes["XA"]
    with transaction(xa.sessions) as session:
        case = cases.create_request(session, xa, "preservation", "XB", preservation_request(), "t")
        cases.perform(session, xa, case.id, Act.SUBMIT, {}, "t")
    pump(xa, world.nodes["XB"])
    return case.id


def test_unopened_request_gives_signed_not_retrieved_evidence_once(world: World) -> None:
    xa = world.nodes["XA"]
    case_id = submit(world)
    clock = FrozenClock(utc_now())
    previous = use_clock(clock)
    try:
        clock.advance(timedelta(seconds=xa.settings.retrieval_deadline_seconds + 60))
        timers.fire_due(xa.sessions, timer_handlers(xa), "test")
        timers.fire_due(xa.sessions, timer_handlers(xa), "test")
    finally:
        use_clock(previous)
    assert evidence_of(xa, case_id) == ["delivered", "not-retrieved"]
    with xa.sessions() as session:
        token = session.execute(
            select(ReceiptRecord.token).where(ReceiptRecord.evidence == "not-retrieved")
        ).scalar_one()
        directory = directory_service.current(session)
    receipt = verify_receipt(
        token, lambda who, kid: directory_service.verification_key(directory, who, kid, utc_now())
    )
    assert receipt.evidence is Evidence.NOT_RETRIEVED
    assert receipt.issuer == "XA"


def test_opened_request_sends_retrieved_receipt_and_no_negative_evidence(world: World) -> None:
    xa, xb = world.nodes["XA"], world.nodes["XB"]
    case_id = submit(world)
    with transaction(xb.sessions) as session:
        cases.open_case(session, xb, case_id, "duty officer")
    pump(xb, xa)
    clock = FrozenClock(utc_now())
    previous = use_clock(clock)
    try:
        clock.advance(timedelta(seconds=xa.settings.retrieval_deadline_seconds + 60))
        timers.fire_due(xa.sessions, timer_handlers(xa), "test")
    finally:
        use_clock(previous)
    assert evidence_of(xa, case_id) == ["delivered", "retrieved"]
