"""Delivery between real node processes: exactly once through crashes, outages and
scaled-out workers."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from comity.audit.checkpoint import conversation_id as checkpoint_conversation
from comity.audit.models import AuditEntry
from comity.cases.models import Case
from comity.demo.federation import Federation, Officer, wait_until
from comity.demo.samples import preservation_request
from comity.messaging.models import InboxMessage, OutboxMessage, ReceiptRecord
from comity.timers.models import Timer

pytestmark = pytest.mark.slow


def count(fed: Federation, participant: str, model: type, *where: object) -> int:
    """Rows of `model` on a node; for messages and receipts, those of the cases only: the
    nodes' audit checkpoints travel through the same outbox, to every peer, on their own
    schedule, and are not what these tests count."""
    if model in (InboxMessage, OutboxMessage, ReceiptRecord):
        checkpoints = [checkpoint_conversation(p) for p in fed.nodes]
        where = (*where, model.conversation_id.not_in(checkpoints))  # type: ignore[attr-defined]
    node = fed.open(participant)
    try:
        with node.sessions() as session:
            return int(
                session.execute(
                    select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
                ).scalar_one()
            )
    finally:
        node.close()


def submit_many(officer: Officer, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        case = officer.create("preservation", "XB", preservation_request())
        officer.act(case["id"], "submit")
        ids.append(case["id"])
    return ids


def wait_delivered(fed: Federation, n: int, timeout: float = 60) -> None:
    wait_until(
        lambda: count(fed, "XA", OutboxMessage, OutboxMessage.status == "delivered") >= n,
        timeout,
        f"fewer than {n} messages delivered",
    )


def test_messages_wait_in_the_outbox_while_the_receiver_is_down(
    federation_factory, database_factory
) -> None:
    fed = federation_factory(database_url=database_factory)
    fed.start("XA")
    fed.await_directory("XA")
    xa = fed.officer("XA", "xa-duty")
    ids = submit_many(xa, 5)
    wait_until(
        lambda: count(fed, "XA", OutboxMessage, OutboxMessage.attempts > 0) == 5,
        20,
        "no delivery attempts while the receiver was down",
    )
    assert count(fed, "XA", OutboxMessage, OutboxMessage.status == "pending") == 5
    fed.start("XB")
    wait_delivered(fed, 5)
    assert count(fed, "XB", InboxMessage) == 5
    assert count(fed, "XB", Case, Case.id.in_(ids)) == 5
    for case_id in ids:
        xa.await_state(case_id, "delivered")


def test_sender_killed_mid_batch_delivers_every_message_exactly_once(
    federation_factory, database_factory
) -> None:
    fed = federation_factory(database_url=database_factory)
    fed.start("XA")
    fed.await_directory("XA")
    xa = fed.officer("XA", "xa-duty")
    # Four batches of 25: the kill, as soon as the first batch is in, lands with later batches
    # still in the outbox even when delivery is fast (with 40, both batches sometimes landed
    # before the first look).
    n = 100
    ids = submit_many(xa, n)  # XB is down: the batch waits in XA's outbox
    fed.start("XB")
    wait_until(lambda: count(fed, "XB", InboxMessage) >= 3, 60, "delivery did not start")
    fed.kill("XA", signal.SIGKILL)
    delivered_before_restart = count(fed, "XB", InboxMessage)
    fed.start("XA")
    wait_delivered(fed, n, timeout=180)
    assert count(fed, "XB", InboxMessage) == n
    assert count(fed, "XB", Case) == n
    assert count(fed, "XA", OutboxMessage, OutboxMessage.status == "delivered") == n
    # Each request carries exactly one submit and one delivery on the receiving side.
    node = fed.open("XB")
    try:
        with node.sessions() as session:
            states = session.execute(select(Case.state, func.count()).group_by(Case.state)).all()
    finally:
        node.close()
    assert dict(states) == {"delivered": n}
    assert delivered_before_restart < n, "the kill came after the batch: nothing was tested"
    for case_id in ids:
        xa.await_state(case_id, "delivered")


def test_negative_evidence_when_no_receipt_comes_in_time(federation_factory) -> None:
    fed = federation_factory(receipt_deadline_seconds=1)
    fed.start("XA")
    fed.await_directory("XA")
    xa = fed.officer("XA", "xa-duty")
    [case_id] = submit_many(xa, 1)
    wait_until(
        lambda: count(fed, "XA", ReceiptRecord, ReceiptRecord.evidence == "not-delivered") == 1,
        20,
        "no negative evidence",
    )
    receipts = xa.call("GET", f"/v1/cases/{case_id}/receipts")
    assert [r["evidence"] for r in receipts] == ["not-delivered"]
    fed.start("XB")
    wait_delivered(fed, 1)
    evidence = [r["evidence"] for r in xa.call("GET", f"/v1/cases/{case_id}/receipts")]
    assert evidence == ["not-delivered", "delivered"]


@pytest.mark.postgres
def test_two_workers_share_outbox_and_timers_without_doubles(
    federation_factory, database_factory, backend
) -> None:
    if backend != "postgresql":
        pytest.skip("scale-out workers need PostgreSQL; SQLite is single-writer")
    fed = federation_factory(database_url=database_factory, receipt_deadline_seconds=2)
    fed.start("XA", "--no-worker")
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "comity", "node", "worker", "--home", str(fed.nodes["XA"].home)],
            env=fed.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        fed.await_directory("XA")
        xa = fed.officer("XA", "xa-duty")
        n = 60
        submit_many(xa, n)
        # Receiver down: every receipt deadline passes and both workers race for the timers.
        wait_until(
            lambda: count(fed, "XA", Timer, Timer.fired_at.is_not(None)) >= n,
            40,
            "timers did not fire",
        )
        fed.start("XB")
        wait_delivered(fed, n, timeout=90)
        assert count(fed, "XA", ReceiptRecord, ReceiptRecord.evidence == "not-delivered") == n
        assert count(fed, "XB", InboxMessage) == n
        assert count(fed, "XB", AuditEntry, AuditEntry.tag == "inbox:envelope:duplicate") == 0
        case_messages = select(OutboxMessage.message_id).where(
            OutboxMessage.conversation_id.not_in([checkpoint_conversation(p) for p in fed.nodes])
        )
        delivered = (
            AuditEntry.tag == "outbox:envelope:delivered",
            AuditEntry.subject.in_(case_messages),
        )
        assert count(fed, "XA", AuditEntry, *delivered) == n
        node = fed.open("XA")
        try:
            with node.sessions() as session:
                fired_by = set(session.execute(select(Timer.fired_by)).scalars())
        finally:
            node.close()
        assert len(fired_by) >= 1
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()


def test_demo_check_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "comity", "demo", "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all steps passed" in result.stdout
