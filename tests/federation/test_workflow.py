"""The workflow between real node processes on 127.0.0.1: the scenarios of the demo (preservation
extended then followed by MLA, emergency escalated when unanswered, refusal after consultation,
conditions proposed and accepted, withdrawal) and a node restarted mid-conversation."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from comity.cases.models import CaseEvent
from comity.demo import workflow
from comity.demo.directory import STATES
from comity.demo.federation import Federation, wait_until
from comity.demo.run import build_demo
from comity.demo.samples import preservation_request

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    fed = build_demo(Path(tmp_path_factory.mktemp("demo")))
    try:
        for participant in fed.nodes:
            fed.start(participant)
        for participant in STATES:
            fed.await_directory(participant)
        yield fed
    finally:
        fed.stop_all()


@pytest.mark.parametrize(
    "scenario",
    [
        workflow.preservation_lifecycle,
        workflow.emergency_escalation,
        workflow.refusal_after_consultation,
        workflow.conditions_on_use,
        workflow.withdrawal,
    ],
    ids=lambda f: f.__name__,
)
def test_scenario_runs_between_real_nodes(
    demo: Federation, scenario: Callable[[Federation, Callable[[str], None]], None]
) -> None:
    said: list[str] = []
    scenario(demo, said.append)
    assert said


def _events(fed: Federation, participant: str, case_id: str) -> list[str]:
    node = fed.open(participant)
    try:
        with node.sessions() as session:
            return list(
                session.execute(
                    select(CaseEvent.act)
                    .where(CaseEvent.case_id == case_id)
                    .order_by(CaseEvent.seq)
                ).scalars()
            )
    finally:
        node.close()


def _count_events(fed: Federation, participant: str) -> int:
    node = fed.open(participant)
    try:
        with node.sessions() as session:
            return int(session.execute(select(func.count()).select_from(CaseEvent)).scalar_one())
    finally:
        node.close()


def test_restart_of_either_node_mid_conversation_loses_and_doubles_nothing(
    federation_factory, database_factory
) -> None:
    fed = federation_factory(database_url=database_factory)
    fed.start("XA")
    fed.start("XB")
    fed.await_directory("XA")
    fed.await_directory("XB")
    xa, xb = fed.officer("XA", "xa-duty"), fed.officer("XB", "xb-duty")
    case = xa.create("preservation", "XB", preservation_request())["id"]
    xa.act(case, "submit")
    xb.await_state(case, "delivered")
    fed.kill("XB", signal.SIGKILL)
    xa.act(case, "status-query")  # queued while XB is down
    fed.start("XB")
    wait_until(lambda: "status-query" in _events(fed, "XB", case), 30, "status query lost")
    xb.act(case, "acknowledge")
    xb.act(case, "accept", preserved_until=workflow._in_days(90))
    fed.kill("XA", signal.SIGKILL)
    fed.start("XA")
    xa = fed.officer("XA", "xa-duty")
    xa.await_state(case, "accepted")
    expected = ["submit", "deliver", "status-query", "acknowledge", "accept"]
    wait_until(lambda: _events(fed, "XA", case) == expected, 20, "XA's history differs")
    assert _events(fed, "XB", case) == expected
    before = (_count_events(fed, "XA"), _count_events(fed, "XB"))
    fed.kill("XB", signal.SIGKILL)
    fed.start("XB")
    fed.kill("XA", signal.SIGKILL)
    fed.start("XA")
    xa = fed.officer("XA", "xa-duty")
    xa.await_state(case, "accepted")
    assert (_count_events(fed, "XA"), _count_events(fed, "XB")) == before
