"""Batches: several envelopes in one request and one transaction, each judged on its own."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import httpx
from sqlalchemy import Engine, event, func, select

from comity.cases.models import Case
from comity.messaging.inbox import Accepted
from comity.protocol.errors import ReplayedMessage, UndecryptableEnvelope
from comity.transport.app import create_app
from tests.messaging.test_inbox import envelope, rejections, stored
from tests.support import LiveServer, World


def tamper(token: str) -> str:
    parts = token.split(".")
    parts[3] = ("A" if parts[3][0] != "A" else "B") + parts[3][1:]
    return ".".join(parts)


def test_one_bad_envelope_does_not_take_the_batch_down(world: World) -> None:
    from comity.messaging.inbox import accept_batch
    from comity.transport.wiring import message_handlers

    xb = world.nodes["XB"]
    good, other = envelope(world), envelope(world)
    outcomes = accept_batch(xb, [good, tamper(envelope(world)), other, good], message_handlers())
    assert isinstance(outcomes[0], Accepted)
    assert isinstance(outcomes[1], UndecryptableEnvelope)
    assert isinstance(outcomes[2], Accepted)
    assert isinstance(outcomes[3], Accepted)
    assert outcomes[3].duplicate
    assert outcomes[3].receipt == outcomes[0].receipt
    assert stored(xb) == 2
    with xb.sessions() as session:
        assert session.execute(select(func.count()).select_from(Case)).scalar_one() == 2
    assert rejections(xb) == ["envelope_undecryptable"]


def test_batch_endpoint_answers_each_envelope_over_http(world: World) -> None:
    xb = world.nodes["XB"]
    replayed_id = "batch-replay"
    first = envelope(world, message_id=replayed_id)
    replay = envelope(world, message_id=replayed_id)
    with LiveServer(create_app(xb)) as server, httpx.Client(base_url=server.url) as client:
        response = client.post("/v1/envelopes/batch", json={"envelopes": [first, replay]})
        assert response.status_code == 200
        results = response.json()["results"]
        assert results[0]["status"] == 200
        assert results[0]["receipt"].count(".") == 2
        assert results[1]["status"] == 409
        assert results[1]["error"] == ReplayedMessage.code
        malformed = client.post("/v1/envelopes/batch", content=b"[1, 2")
        assert malformed.status_code == 400
        empty = client.post("/v1/envelopes/batch", json={"envelopes": []})
        assert empty.status_code == 413
    assert stored(xb) == 1


def test_content_the_database_refuses_does_not_stall_the_batch(world: World) -> None:
    """A signed envelope whose content the database cannot store (a value too long for its
    column on PostgreSQL: a conversation id the envelope allows, longer than a request's id)
    is refused on its own; the good envelope beside it is accepted."""
    from comity.messaging.inbox import UnprocessableEnvelope, accept_batch
    from comity.transport.wiring import message_handlers

    xb = world.nodes["XB"]
    good = envelope(world)
    poison = envelope(world, conversation_id="c" * 80)
    outcomes = accept_batch(xb, [good, poison], message_handlers())
    assert isinstance(outcomes[0], Accepted)
    if xb.engine.dialect.name == "postgresql":
        assert isinstance(outcomes[1], UnprocessableEnvelope)
        assert stored(xb) == 1
        assert rejections(xb) == ["envelope_unprocessable"]
    else:  # SQLite does not enforce column lengths
        assert isinstance(outcomes[1], Accepted)


class Statements:
    """The SQL statements the node's engine runs inside the block."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(statement.split()[0].upper())

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


def test_a_clean_batch_takes_the_fast_path_with_every_effect(world: World) -> None:
    from comity.audit.service import entries, verify_chain
    from comity.duty import service as duty
    from comity.duty.models import DutyAssignment
    from comity.messaging.inbox import accept_batch
    from comity.notifications.models import Notification
    from comity.transport.wiring import message_handlers

    xb = world.nodes["XB"]
    with xb.sessions.begin() as session:
        duty.put_entry(session, "admin", "o1", rank=1, email="o1@xb.invalid")
    conversation = str(uuid.uuid4())
    withdraw = {
        "act": "withdraw",
        "kind": "preservation",
        "from_state": "delivered",
        "body": {"reasons": "no longer needed"},
    }
    first = envelope(world, conversation_id=conversation)
    tokens = [
        first,
        envelope(world),
        envelope(world, conversation_id=conversation, payload=withdraw),
        first,
    ]
    with Statements(xb.engine) as statements:
        outcomes = accept_batch(xb, tokens, message_handlers())
    assert all(isinstance(outcome, Accepted) for outcome in outcomes)
    assert [o.duplicate for o in outcomes if isinstance(o, Accepted)] == [
        False,
        False,
        False,
        True,
    ]
    assert outcomes[3] == Accepted(receipt=outcomes[0].receipt, duplicate=True)  # type: ignore[union-attr]
    assert "SAVEPOINT" not in statements.seen
    assert stored(xb) == 3
    with xb.sessions() as session:
        cases = {c.id: c for c in session.execute(select(Case)).scalars()}
        assert len(cases) == 2
        assert cases[conversation].state == "withdrawn"
        assert cases[conversation].act_count == 3
        assigned = session.execute(select(DutyAssignment.case_id)).scalars().all()
        assert sorted(assigned) == sorted(cases)
        told = session.execute(select(Notification.case_id, Notification.topic)).all()
        assert {(case_id, "duty-assignment") for case_id in cases} <= set(told)
        log = entries(session)
        assert verify_chain(log) == []
        assert [e.tag for e in log].count("inbox:envelope:duplicate") == 1


def test_a_refused_envelope_sends_the_batch_the_careful_way(world: World) -> None:
    from comity.messaging.inbox import accept_batch
    from comity.transport.wiring import message_handlers

    xb = world.nodes["XB"]
    good, replay = envelope(world), envelope(world)
    reused = envelope(world, message_id="reused")
    with Statements(xb.engine) as statements:
        outcomes = accept_batch(
            xb,
            [good, reused, envelope(world, message_id="reused"), replay],
            message_handlers(),
        )
    assert "SAVEPOINT" in statements.seen
    assert [type(o) for o in outcomes] == [Accepted, Accepted, ReplayedMessage, Accepted]
    assert stored(xb) == 3
    assert rejections(xb) == ["replayed_message"]


def _submitted(world: World, count: int) -> list[str]:
    from comity.cases import service as cases
    from comity.demo.samples import preservation_request
    from comity.kit.db import transaction
    from comity.protocol.acts import Act

    xa = world.nodes["XA"]
    ids = []
    with transaction(xa.sessions) as session:
        for _ in range(count):
            case = cases.create_request(
                session, xa, "preservation", "XB", preservation_request(), "t"
            )
            cases.perform(session, xa, case.id, Act.SUBMIT, {}, "t")
            ids.append(case.id)
    return ids


def _receipt_deadlines_open(world: World) -> int:
    from comity.messaging.outbox import RECEIPT_DEADLINE
    from comity.timers.models import Timer

    with world.nodes["XA"].sessions() as session:
        return session.execute(
            select(func.count())
            .select_from(Timer)
            .where(Timer.kind == RECEIPT_DEADLINE, Timer.cancelled_at.is_(None))
        ).scalar_one()


def test_a_batch_of_receipts_is_recorded_together(world: World) -> None:
    from comity.messaging import delivery
    from comity.transport.wiring import delivery_hooks

    xa = world.nodes["XA"]
    case_ids = _submitted(world, 3)
    leases = delivery.lease_due(xa, "t", limit=50)
    assert len(leases) == 3
    with LiveServer(create_app(world.nodes["XB"])) as server, httpx.Client() as client:
        leases = [dataclasses.replace(lease, endpoint=server.url) for lease in leases]
        with Statements(xa.engine) as statements:
            outcomes = delivery.deliver_batch(xa, client, leases, delivery_hooks())
    assert outcomes == ["delivered"] * 3
    assert "SAVEPOINT" not in statements.seen
    assert _receipt_deadlines_open(world) == 0
    with xa.sessions() as session:
        states = session.execute(select(Case.state).where(Case.id.in_(case_ids))).scalars()
        assert set(states) == {"delivered"}


def test_one_bad_receipt_sends_the_batch_the_careful_way(world: World) -> None:
    from comity.messaging import delivery
    from comity.messaging.models import OutboxMessage
    from comity.transport.wiring import delivery_hooks

    xa = world.nodes["XA"]
    _submitted(world, 3)
    leases = delivery.lease_due(xa, "t", limit=50)
    leases[1] = dataclasses.replace(leases[1], envelope_sha256="0" * 64)
    with LiveServer(create_app(world.nodes["XB"])) as server, httpx.Client() as client:
        leases = [dataclasses.replace(lease, endpoint=server.url) for lease in leases]
        outcomes = delivery.deliver_batch(xa, client, leases, delivery_hooks())
    assert outcomes == ["delivered", "retry", "delivered"]
    assert _receipt_deadlines_open(world) == 1
    with xa.sessions() as session:
        statuses = session.execute(
            select(OutboxMessage.status).order_by(OutboxMessage.id)
        ).scalars()
        assert list(statuses) == ["delivered", "pending", "delivered"]
