"""Officers acting on one request at the same moment, over real HTTP: each act either applies
or is refused with a typed 409 (the request moved on, or changed under it) — never a server
error — and the request's events stay one unbroken chain that ends in its state."""

from __future__ import annotations

import threading
from collections import Counter
from itertools import pairwise
from typing import Any

import httpx
import pytest

from comity.accounts import service as accounts_service
from comity.cases import service as cases
from comity.cases.models import Case
from comity.kit.db import transaction
from comity.transport.app import create_app
from tests.cases.conversation import act, create, pump
from tests.support import LiveServer, World

#: Acts open to the requested party on a delivered request, and a loop that stays open: the
#: first of the others to commit decides which of the rest still fit.
ACTS: list[tuple[str, dict[str, Any]]] = [
    ("acknowledge", {}),
    ("status-report", {"status": "looking into it"}),
    ("consult", {"subject": "partial execution?"}),
    ("request-information", {"questions": "which account?"}),
    ("acknowledge", {"note": "taken"}),
    ("status-report", {"status": "still looking"}),
]
ROUNDS = 4
TYPED_CONFLICTS = {"case_changed", "act_not_allowed"}


def _bearer(world: World, who: str) -> dict[str, str]:
    with transaction(world.nodes[who].sessions) as session:
        secret = accounts_service.create_token(session, "officer", ["duty-officer"], "test")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.postgres
def test_concurrent_acts_on_one_request_apply_in_turn_or_get_a_typed_409(world: World) -> None:
    case_id = create(world, "XA", "XB", "preservation", {"instrument": "budapest"})
    act(world, "XA", case_id, "submit")
    pump(world)
    xb = world.nodes["XB"]
    headers = _bearer(world, "XB")
    outcomes: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    with LiveServer(create_app(xb)) as server:
        for _ in range(ROUNDS):
            start = threading.Barrier(len(ACTS))

            def perform(name: str, body: dict[str, Any], start: threading.Barrier = start) -> None:
                with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
                    start.wait()
                    response = http.post(
                        f"/v1/cases/{case_id}/acts", json={"act": name, "body": body}
                    )
                code = "" if response.status_code == 200 else response.json().get("error", "")
                with lock:
                    outcomes.append((name, response.status_code, code))

            threads = [threading.Thread(target=perform, args=pair) for pair in ACTS]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

    statuses = Counter(status for _, status, _ in outcomes)
    assert set(statuses) <= {200, 409}, outcomes
    assert {code for _, status, code in outcomes if status == 409} <= TYPED_CONFLICTS, outcomes
    assert statuses[200] >= 1, outcomes
    assert statuses[409] >= 1, outcomes

    with xb.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        chain = cases.events(session, case_id)
        # submit and deliver came with the envelope; then one event per act that applied.
        assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
        assert len(chain) == 2 + statuses[200] == case.act_count
        assert chain[0].from_state == "draft"
        for before, after in pairwise(chain):
            assert after.from_state == before.to_state
        assert chain[-1].to_state == case.state
