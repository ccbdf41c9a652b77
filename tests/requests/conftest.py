"""Request fixtures: the scenario parties (shared/design/scenarios.md) as a directory file and
as the published directory of a world of real nodes XA, XB and XC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from comity.accounts import service as accounts_service
from comity.kit.db import transaction
from comity.nodes.runtime import Node
from comity.requests.service import Officer
from tests.law.conftest import scenario_directory_document
from tests.support import World

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "requests"
# A day on which every instrument of the scenario is in force for its parties (the drafting
# tests use today, which is later).
ON = "2026-09-01"


def example(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(scenario_directory_document()), encoding="utf-8")
    return path


@pytest.fixture
def request_file(tmp_path: Path):
    def write(document: Any, name: str = "request.json") -> Path:
        path = tmp_path / name
        text = document if isinstance(document, str) else json.dumps(document)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def scenario(world: World) -> World:
    """The world's XA, XB and XC with the scenario's languages, instruments, declarations and
    contacts in the directory they publish."""
    parties = {p["id"]: p for p in scenario_directory_document()["participants"]}
    extra = {
        party: {k: v for k, v in parties[party].items() if k not in {"id", "type"}}
        for party in world.nodes
    }
    world.republish(**extra)
    return world


DRAFTER = Officer("dora", frozenset({"drafter"}))
AUTHORISER = Officer("alex", frozenset({"authorising-officer"}))
CENTRAL = Officer("cleo", frozenset({"central-authority-officer"}))


def token(node: Node, user: str, *roles: str) -> dict[str, str]:
    with transaction(node.sessions) as session:
        secret = accounts_service.create_token(session, user, list(roles), "test")
    return {"Authorization": f"Bearer {secret}"}
