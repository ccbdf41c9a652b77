"""Drive a conversation between in-process nodes: officers' acts, and a pump that carries the
outbox to the recipient's inbox exactly as the delivery worker does (minus HTTP)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from comity.cases import service as cases
from comity.cases.models import Case
from comity.directory import service as directory_service
from comity.kit.clock import FrozenClock, use_clock, utc_now
from comity.kit.db import transaction
from comity.messaging import inbox
from comity.messaging.models import OutboxMessage
from comity.nodes.runtime import Node
from comity.protocol.acts import Act
from comity.protocol.receipts import verify_receipt
from comity.timers import service as timers
from comity.transport.wiring import message_handlers, timer_handlers
from tests.support import World

HANDLERS = message_handlers()


def complete(kind: str, sender: str, to: str, request: dict[str, Any]) -> dict[str, Any]:
    """A request the law lets `sender` send `to`: the demo's complete document of that kind
    (every mandatory content, an accepted language), with the test's own fields on top.
    Every submission is checked against the law, as a real one is."""
    from comity.demo.samples import REQUESTS

    path = REQUESTS / f"{kind}.json"
    base = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {
        **base,
        "language": "en",  # the test world's parties all accept English
        **request,
        "kind": kind,
        "requesting_party": sender,
        "requested_party": to,
    }


def create(world: World, sender: str, to: str, kind: str, request: dict[str, Any]) -> str:
    document = complete(kind, sender, to, request)
    with transaction(world.nodes[sender].sessions) as session:
        return cases.create_request(session, world.nodes[sender], kind, to, document, "officer").id


def act(world: World, who: str, case_id: str, name: str, **body: Any) -> None:
    node = world.nodes[who]
    with transaction(node.sessions) as session:
        cases.perform(session, node, case_id, Act(name), body, f"{who.lower()}-officer")


def pump(world: World) -> int:
    """Deliver every pending envelope of every node, in order; returns how many."""
    moved = 0
    progress = True
    while progress:
        progress = False
        for node in world.nodes.values():
            with node.sessions() as session:
                pending = list(
                    session.execute(
                        select(OutboxMessage)
                        .where(OutboxMessage.status == "pending")
                        .order_by(OutboxMessage.id)
                    ).scalars()
                )
            for message in pending:
                deliver(world, node, message)
                moved += 1
                progress = True
    return moved


def deliver(world: World, node: Node, message: OutboxMessage) -> None:
    recipient = world.nodes[message.recipient]
    accepted = inbox.accept(recipient, message.envelope.encode(), HANDLERS)
    with transaction(node.sessions) as session:
        directory = directory_service.current(session)
        receipt = verify_receipt(
            accepted.receipt,
            lambda who, kid: directory_service.verification_key(directory, who, kid, utc_now()),
        )
        row = session.get(OutboxMessage, message.id)
        assert row is not None
        row.status = "delivered"
        cases.on_delivered(session, node, row, receipt)


def state(world: World, who: str, case_id: str) -> str:
    with world.nodes[who].sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.state


def case_of(world: World, who: str, case_id: str) -> Case:
    with world.nodes[who].sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def tick(world: World, who: str) -> int:
    node = world.nodes[who]
    return timers.fire_due(node.sessions, timer_handlers(node), "test-worker", limit=1000)


@contextmanager
def frozen(start: datetime | None = None) -> Iterator[FrozenClock]:
    clock = FrozenClock(start or datetime.now(UTC))
    previous = use_clock(clock)
    try:
        yield clock
    finally:
        use_clock(previous)


def days(n: float) -> timedelta:
    return timedelta(days=n)
