"""Batches: several envelopes in one request and one transaction, each judged on its own."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

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
    column on PostgreSQL) is refused on its own; the good envelope beside it is accepted."""
    from comity.messaging.inbox import UnprocessableEnvelope, accept_batch
    from comity.transport.wiring import message_handlers
    from tests.messaging.test_inbox import submit_payload

    xb = world.nodes["XB"]
    poison = submit_payload()
    poison["body"]["request"]["instrument"] = "x" * 80
    good = envelope(world)
    outcomes = accept_batch(xb, [good, envelope(world, payload=poison)], message_handlers())
    assert isinstance(outcomes[0], Accepted)
    if xb.engine.dialect.name == "postgresql":
        assert isinstance(outcomes[1], UnprocessableEnvelope)
        assert stored(xb) == 1
        assert rejections(xb) == ["envelope_unprocessable"]
    else:  # SQLite does not enforce column lengths
        assert isinstance(outcomes[1], Accepted)
