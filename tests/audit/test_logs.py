"""Case content never reaches the application logs, even with every logger at DEBUG, nor the
audit log (which holds tags, actors, ids and codes only)."""

from __future__ import annotations

import json
import logging

import pytest

from comity.audit.service import entries
from comity.cases import service as cases
from comity.demo.samples import preservation_request
from comity.kit.db import transaction
from tests.cases.conversation import act, create, pump
from tests.support import World


def content_of(request: dict[str, str]) -> list[str]:
    return [request["facts_summary"], request["data_to_preserve"], "nightowl", "198.51.100.23"]


def run_request(world: World) -> None:
    case_id = create(world, "XA", "XB", "preservation", preservation_request())
    act(world, "XA", case_id, "submit")
    pump(world)
    with transaction(world.nodes["XB"].sessions) as session:
        cases.open_case(session, world.nodes["XB"], case_id, "xb-officer")
    pump(world)
    act(world, "XB", case_id, "acknowledge")
    pump(world)


def test_a_full_request_leaves_no_content_in_any_log_record(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert logging.getLogger("comity.worker").isEnabledFor(logging.DEBUG)
    run_request(world)
    for record in caplog.records:
        text = " ".join([record.getMessage(), str(record.args or ""), record.exc_text or ""])
        for secret in content_of(preservation_request()):
            assert secret not in text, f"{record.name} logged case content"


def test_a_full_request_leaves_no_content_in_the_audit_log(world: World) -> None:
    run_request(world)
    for node in world.nodes.values():
        with node.sessions() as session:
            logged = [
                json.dumps([e.tag, e.actor, e.subject, e.details], ensure_ascii=False)
                for e in entries(session)
            ]
        assert any("cases:request:read" in line for line in logged) or node.participant_id != "XB"
        for line in logged:
            for secret in content_of(preservation_request()):
                assert secret not in line, line
