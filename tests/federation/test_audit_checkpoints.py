"""Audit checkpoints between real node processes: XA's checkpoints reach XB soon after they
first talk, and `comity audit verify --peers` on XA asks XB for its copies, so a log cut
back together with XA's own checkpoints is found."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner, Result

from comity.audit.models import AuditCheckpoint, AuditEntry, ReceivedCheckpoint
from comity.cli.main import app
from comity.demo.federation import Federation, wait_until
from comity.demo.samples import preservation_request
from comity.kit.db import transaction

pytestmark = pytest.mark.slow
runner = CliRunner()


def verify(fed: Federation, participant: str, *args: str) -> Result:
    home = str(fed.nodes[participant].home)
    return runner.invoke(app, ["audit", "verify", "--home", home, *args])


def held_by_xb(fed: Federation) -> int:
    """The highest entry count of XA's checkpoints that XB holds (0: none)."""
    node = fed.open("XB")
    try:
        with node.sessions() as session:
            return int(
                session.execute(
                    select(func.coalesce(func.max(ReceivedCheckpoint.count), 0)).where(
                        ReceivedCheckpoint.issuer == "XA"
                    )
                ).scalar_one()
            )
    finally:
        node.close()


def test_a_cut_log_with_its_checkpoints_deleted_is_found_through_the_peers_copies(
    federation_factory, database_factory
) -> None:
    fed = federation_factory(database_url=database_factory)
    fed.start_many(["XA", "XB"])
    fed.await_directory("XA")
    fed.await_directory("XB")
    xa = fed.officer("XA", "xa-duty")
    case = xa.create("preservation", "XB", preservation_request())
    xa.act(case["id"], "submit")
    xa.await_state(case["id"], "delivered")
    # No interval has passed: XB is a new peer, so XA's worker sends it a checkpoint now.
    vouched = wait_until(lambda: held_by_xb(fed), 60, "XB never received a checkpoint of XA")

    intact = verify(fed, "XA", "--peers")
    assert intact.exit_code == 0, intact.output
    assert "XB holds" in intact.output
    assert "audit log intact" in intact.output

    fed.kill("XA")
    node = fed.open("XA")
    try:
        with transaction(node.sessions) as session:
            session.execute(delete(AuditEntry).where(AuditEntry.id > vouched - 3))
            session.execute(delete(AuditCheckpoint))
    finally:
        node.close()
    alone = verify(fed, "XA")
    assert alone.exit_code == 0, "without the peers' copies the cut is invisible"

    checked = verify(fed, "XA", "--peers")
    assert checked.exit_code == 1, checked.output
    assert "checkpoint held by XB" in checked.output
    assert "missing from this node's audit_checkpoints (deleted here)" in checked.output
    assert f"vouches for {vouched} entries but the log ends at entry {vouched - 3}" in (
        checked.output
    )
    assert "log truncated" in checked.output
    assert "audit log NOT intact" in checked.output
