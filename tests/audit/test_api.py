"""The auditor reads and verifies the log over the API; nobody else may, and every read is
itself audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from comity.accounts import service as accounts_service
from comity.audit.models import AuditEntry
from comity.kit.db import transaction
from comity.nodes.runtime import Node
from comity.transport.app import create_app
from tests.support import LiveServer, make_node


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    made = make_node(tmp_path / "XA", "XA", database_url)
    yield made
    made.close()


@pytest.fixture
def client(node: Node) -> Iterator[httpx.Client]:
    with LiveServer(create_app(node)) as server, httpx.Client(base_url=server.url) as http:
        yield http


def bearer(node: Node, user: str, *roles: str) -> dict[str, str]:
    with transaction(node.sessions) as session:
        secret = accounts_service.create_token(session, user, list(roles), "test")
    return {"Authorization": f"Bearer {secret}"}


def test_an_auditor_pages_through_the_log_and_the_read_is_audited(
    node: Node, client: httpx.Client
) -> None:
    auditor = bearer(node, "audrey", "auditor")
    first = client.get("/v1/audit", headers=auditor, params={"limit": 2}).json()
    assert [e["id"] for e in first] == [1, 2]
    rest = client.get("/v1/audit", headers=auditor, params={"after": 2}).json()
    assert rest[0]["id"] == 3
    reads = client.get("/v1/audit", headers=auditor, params={"tag": "audit:log:read"}).json()
    assert [(e["actor"], e["details"]["after"]) for e in reads] == [("audrey", 0), ("audrey", 2)]


def test_only_an_auditor_may_read_the_log(node: Node, client: httpx.Client) -> None:
    for role in ("duty-officer", "administrator", "central-authority-officer"):
        response = client.get("/v1/audit", headers=bearer(node, "someone", role))
        assert response.status_code == 403
        assert "auditor" in response.json()["message"]


def test_the_auditor_sees_a_tampered_log_over_the_api(node: Node, client: httpx.Client) -> None:
    auditor = bearer(node, "audrey", "auditor")
    assert client.get("/v1/audit/verify", headers=auditor).json()["intact"] is True
    with transaction(node.sessions) as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == 1).values(actor="nobody"))
    verdict = client.get("/v1/audit/verify", headers=auditor).json()
    assert verdict["intact"] is False
    assert verdict["findings"] == ["entry 1: entry was altered after it was written"]
