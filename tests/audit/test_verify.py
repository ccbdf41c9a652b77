"""`comity audit verify` finds an altered, a deleted and a cut-off entry (exit 1, with a
clear message) and passes an intact log (exit 0); signed checkpoints travel to the peers,
which keep them and flag one that goes backwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner, Result

from comity.audit import service as audit
from comity.audit import verification
from comity.audit.checkpoint import EXPORT_FORMAT, read_held_answer
from comity.audit.models import AuditCheckpoint, AuditEntry, ReceivedCheckpoint
from comity.cli.main import app
from comity.demo.samples import preservation_request
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.messaging.models import OutboxMessage
from comity.nodes.runtime import Node
from comity.witnesses import service as witnesses
from tests.cases.conversation import act, create, pump
from tests.support import World

runner = CliRunner()


def verify(node: Node, *files: Path) -> Result:
    extra = [arg for path in files for arg in ("--checkpoints", str(path))]
    return runner.invoke(app, ["audit", "verify", "--home", str(node.settings.home), *extra])


def work(world: World) -> str:
    """A request from XA to XB, submitted and delivered: entries on both sides."""
    case_id = create(world, "XA", "XB", "preservation", preservation_request())
    act(world, "XA", case_id, "submit")
    pump(world)
    return case_id


def more_entries(node: Node, n: int) -> None:
    with transaction(node.sessions) as session:
        for index in range(n):
            audit.record(session, "test:entry:added", "tester", str(index))


def checkpoint(node: Node) -> AuditCheckpoint:
    with transaction(node.sessions) as session:
        return witnesses.issue(session, node)


def count(node: Node) -> int:
    with node.sessions() as session:
        return audit.head(session)[0]


def test_an_intact_log_with_its_checkpoints_verifies(world: World) -> None:
    xa = world.nodes["XA"]
    work(world)
    checkpoint(xa)
    more_entries(xa, 3)
    result = verify(xa)
    assert result.exit_code == 0, result.output
    assert "audit log intact" in result.output
    assert "1 checkpoint(s) match" in result.output


def test_an_altered_entry_is_detected(world: World) -> None:
    xa = world.nodes["XA"]
    work(world)
    with transaction(xa.sessions) as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == 2).values(actor="someone else"))
    result = verify(xa)
    assert result.exit_code == 1
    assert "entry 2: entry was altered after it was written" in result.output


def test_altered_details_are_detected(world: World) -> None:
    xa = world.nodes["XA"]
    work(world)
    with transaction(xa.sessions) as session:
        first = session.execute(
            select(AuditEntry).where(AuditEntry.tag == "cases:request:created")
        ).scalar_one()
        first_id = first.id
        session.execute(
            update(AuditEntry).where(AuditEntry.id == first_id).values(details={"to": "XC"})
        )
    result = verify(xa)
    assert result.exit_code == 1
    assert f"entry {first_id}: entry was altered" in result.output


def test_a_deleted_entry_is_detected(world: World) -> None:
    xa = world.nodes["XA"]
    work(world)
    with transaction(xa.sessions) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == 3))
    result = verify(xa)
    assert result.exit_code == 1
    assert "entry 4: entry 3 is missing (deleted)" in result.output
    assert "entry 4: link to the previous entry is broken" in result.output


def test_a_truncated_tail_after_a_checkpoint_is_detected(world: World) -> None:
    xa = world.nodes["XA"]
    work(world)
    vouched = checkpoint(xa).count
    more_entries(xa, 3)
    with transaction(xa.sessions) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id > vouched - 2))
    result = verify(xa)
    assert result.exit_code == 1
    assert f"vouches for {vouched} entries but the log ends at entry {vouched - 2}" in (
        result.output
    )
    assert "log truncated" in result.output


def test_a_truncated_tail_without_any_checkpoint_is_not_detectable(world: World) -> None:
    """Why checkpoints exist: a hash chain cut at its end is still a valid chain."""
    xa = world.nodes["XA"]
    work(world)
    with transaction(xa.sessions) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id > count(xa) - 2))
    assert verify(xa).exit_code == 0


def test_a_rewritten_chain_is_caught_by_the_checkpoint(world: World) -> None:
    """Whoever alters an entry and recomputes every hash after it keeps a valid chain; the
    signed checkpoint still names the old head."""
    xa = world.nodes["XA"]
    work(world)
    checkpoint(xa)
    with transaction(xa.sessions) as session:
        rows = audit.entries(session)
        rows[1].actor = "someone else"
        prev = rows[0].hash
        for row in rows[1:]:
            row.prev_hash = prev
            row.hash = audit._entry_hash(
                prev, audit.format_time(row.at), row.tag, row.actor, row.subject, row.details
            )
            prev = row.hash
    result = verify(xa)
    assert result.exit_code == 1
    assert "no longer has the hash this checkpoint signed" in result.output


def test_checkpoints_go_to_the_peers_who_keep_them(world: World) -> None:
    xa, xb = world.nodes["XA"], world.nodes["XB"]
    work(world)
    issued = checkpoint(xa)
    assert issued.sent_to == ["XB"]
    with xa.sessions() as session:
        queued = session.execute(
            select(OutboxMessage).where(OutboxMessage.message_type == "audit-checkpoint")
        ).scalar_one()
        assert queued.recipient == "XB"
    pump(world)
    with xb.sessions() as session:
        kept = session.execute(select(ReceivedCheckpoint)).scalar_one()
    assert (kept.issuer, kept.count, kept.head_hash) == ("XA", issued.count, issued.head_hash)


def test_truncation_with_local_checkpoints_deleted_is_caught_by_the_peers_copy(
    world: World, tmp_path: Path
) -> None:
    xa, xb = world.nodes["XA"], world.nodes["XB"]
    work(world)
    vouched = checkpoint(xa).count
    pump(world)
    exported = tmp_path / "from-xb.json"
    result = runner.invoke(
        app,
        [
            "audit", "checkpoints", "export", "--home", str(xb.settings.home),
            "--issuer", "XA", "--out", str(exported),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(exported.read_text())["checkpoints"][0]["issuer"] == "XA"
    with transaction(xa.sessions) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id > vouched - 3))
        session.execute(delete(AuditCheckpoint))
    assert verify(xa).exit_code == 0
    result = verify(xa, exported)
    assert result.exit_code == 1
    assert "missing from this node's audit_checkpoints" in result.output
    assert "log truncated" in result.output


def test_a_forged_checkpoint_file_is_reported(world: World, tmp_path: Path) -> None:
    xa = world.nodes["XA"]
    work(world)
    token = checkpoint(xa).token
    head, payload, signature = token.split(".")
    forged = ".".join([head, payload, signature[::-1]])
    path = tmp_path / "forged.json"
    entry = {"issuer": "XA", "token": forged}
    path.write_text(json.dumps({"format": EXPORT_FORMAT, "checkpoints": [entry]}))
    result = verify(xa, path)
    assert result.exit_code == 1
    assert "signature does not verify" in result.output


def test_a_checkpoint_that_goes_backwards_is_flagged_by_the_peer(world: World) -> None:
    xa, xb = world.nodes["XA"], world.nodes["XB"]
    work(world)
    vouched = checkpoint(xa).count
    pump(world)
    with transaction(xa.sessions) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id > vouched - 2))
    checkpoint(xa)
    pump(world)
    with xb.sessions() as session:
        flagged = audit.entries(session, "audit:checkpoint:regressed")
        assert len(flagged) == 1
        assert flagged[0].details["earlier_count"] == vouched
        assert session.query(ReceivedCheckpoint).count() == 2


def test_the_worker_issues_a_checkpoint_when_due_and_only_when_the_log_grew(
    world: World,
) -> None:
    xa = world.nodes["XA"]
    work(world)
    assert witnesses.issue_if_due(xa) is True
    assert witnesses.issue_if_due(xa) is False
    more_entries(xa, 1)
    assert witnesses.issue_if_due(xa) is False  # the interval has not passed
    xa.settings.audit_checkpoint_seconds = 0
    assert witnesses.issue_if_due(xa) is True
    assert witnesses.issue_if_due(xa) is False  # nothing new since


def test_a_rolled_back_append_leaves_no_gap(world: World) -> None:
    xa = world.nodes["XA"]
    before = count(xa)
    with xa.sessions() as session:
        audit.record(session, "test:entry:rolled-back", "tester")
        session.rollback()
    more_entries(xa, 1)
    assert count(xa) == before + 1
    assert verify(xa).exit_code == 0


def test_a_checkpoint_is_due_after_enough_entries_without_waiting_for_the_interval(
    world: World,
) -> None:
    xa = world.nodes["XA"]
    work(world)
    assert witnesses.issue_if_due(xa) is True
    xa.settings.audit_checkpoint_entries = 5
    more_entries(xa, 4)
    assert witnesses.issue_if_due(xa) is False
    more_entries(xa, 1)
    assert witnesses.issue_if_due(xa) is True


def test_a_new_peer_gets_a_checkpoint_at_once(world: World) -> None:
    """The first checkpoint is often made before any conversation: the peer who appears
    later must not wait a whole interval for one."""
    xa = world.nodes["XA"]
    more_entries(xa, 1)
    first = checkpoint(xa)
    assert first.sent_to == []
    assert witnesses.issue_if_due(xa) is False
    work(world)
    assert witnesses.issue_if_due(xa) is True
    with xa.sessions() as session:
        latest = session.execute(
            select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
        ).scalar_one()
    assert latest.sent_to == ["XB"]
    assert witnesses.issue_if_due(xa) is False


def test_a_peer_missing_from_the_directory_does_not_make_every_look_issue_one(
    world: World,
) -> None:
    xa = world.nodes["XA"]
    work(world)
    xa.settings.audit_checkpoint_peers = ["XB", "XZ"]
    assert witnesses.issue_if_due(xa) is True
    more_entries(xa, 1)
    assert witnesses.issue_if_due(xa) is False


def test_two_histories_signed_for_one_entry_are_reported_as_a_fork(world: World) -> None:
    xa, xb = world.nodes["XA"], world.nodes["XB"]
    work(world)
    first = checkpoint(xa)
    pump(world)
    with transaction(xa.sessions) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id > first.count - 1))
        session.execute(delete(AuditCheckpoint))
        audit.record(session, "test:entry:other-history", "tester")
    second = checkpoint(xa)
    assert second.count == first.count
    assert second.head_hash != first.head_hash
    with xb.sessions() as session:
        held = {"XB": [session.execute(select(ReceivedCheckpoint.token)).scalar_one()]}
    with xa.sessions() as session:
        report = verification.verify(session, "XA", witnesses.key_for(session), held_by=held)
    problems = [str(f) for f in report.findings]
    assert any("this node signed two histories (fork)" in p for p in problems), problems
    assert any("held by XB" in p and "no longer has the hash" in p for p in problems), problems


def test_a_peers_answer_is_read_only_for_the_question_asked(world: World) -> None:
    xa, xb = world.nodes["XA"], world.nodes["XB"]
    work(world)
    issued = checkpoint(xa)
    pump(world)
    with transaction(xb.sessions) as session:
        answer = witnesses.held_answer(session, xb, "XA", "nonce-1")
    with xb.sessions() as session:
        lookup = witnesses.key_for(session)
        requested = audit.entries(session, "audit:checkpoints:requested")
    assert [(e.actor, e.details["count"]) for e in requested] == [("XA", 1)]
    assert read_held_answer(answer, lookup, "XB", "XA", "nonce-1") == [issued.token]
    with pytest.raises(ComityError, match="not its answer to this question"):
        read_held_answer(answer, lookup, "XB", "XA", "an older nonce")
