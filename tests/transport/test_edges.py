"""The node's hardened edges: bodies bounded before they are read, JSON depth checked before it
is parsed, every unexpected failure answered with a correlation id and audited (later, when
the database itself was what failed), and API answers never cached."""

from __future__ import annotations

import json
import logging
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from comity.accounts import service as accounts_service
from comity.audit.service import entries
from comity.kit.db import make_engine, make_session_factory, transaction
from comity.kit.jsonutil import json_depth_exceeds
from comity.messaging.delivery import Lease
from comity.nodes.runtime import Node
from comity.transport.app import create_app
from comity.transport.worker import batches
from tests.support import LiveServer, make_node

SECRET = "Suspect Jane Roe, account 12345"  # stands for case content: never in a trace
MiB = 1024 * 1024


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    made = make_node(tmp_path / "XA", "XA", database_url)
    yield made
    made.close()


@pytest.fixture
def served(node: Node) -> Iterator[tuple[Node, LiveServer]]:
    with LiveServer(create_app(node)) as server:
        yield node, server


def bearer(node: Node, *roles: str) -> dict[str, str]:
    with transaction(node.sessions) as session:
        secret = accounts_service.create_token(session, "olga", list(roles), actor="test")
    return {"authorization": f"Bearer {secret}"}


def audited(node: Node, tag: str) -> list[dict[str, object]]:
    with node.sessions() as session:
        return [{"subject": e.subject, **e.details} for e in entries(session, tag)]


def post_raw(port: int, path: str, total: int, chunked: bool, piece: int = 256 * 1024) -> bytes:
    """POST `total` bytes to `path` over a plain socket, a piece at a time, and stop sending as
    soon as the server answers (a refused body is never read to its end). The answer's bytes,
    or b"" if the connection was closed without one."""
    length = "transfer-encoding: chunked" if chunked else f"content-length: {total}"
    head = (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"{length}\r\n\r\n"
    ).encode()
    data = b"[" * piece
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        sent = 0
        try:
            while sent < total:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                size = min(piece, total - sent)
                body = data[:size]
                sock.sendall(b"%x\r\n%s\r\n" % (size, body) if chunked else body)
                sent += size
            if chunked and sent >= total:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or not _complete(answer):
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except ConnectionResetError:
            pass
        return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def status_and_json(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


# ------------------------------------------------------------------ unexpected errors


def test_an_unexpected_error_answers_a_code_and_a_correlation_id_and_is_audited(
    served: tuple[Node, LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    node, server = served
    from comity.cases import service as cases

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"failed on {SECRET} in /srv/comity/node.db")

    monkeypatch.setattr(cases, "list_cases", broken)
    response = httpx.get(f"{server.url}/v1/cases", headers=bearer(node, "duty-officer"))

    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal"
    correlation = body["correlation_id"]
    assert response.headers["x-correlation-id"] == correlation
    assert SECRET not in response.text
    assert "/srv" not in response.text
    assert "Traceback" not in response.text
    [entry] = audited(node, "http:request:failed")
    assert entry == {
        "subject": correlation,
        "route": "/v1/cases",
        "method": "GET",
        "code": "internal",
        "error": "RuntimeError",
    }


def test_the_route_template_is_audited_never_the_address(
    served: tuple[Node, LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    node, server = served
    from comity.cases import service as cases

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError(SECRET)

    monkeypatch.setattr(cases, "open_case", broken)
    response = httpx.get(
        f"{server.url}/v1/cases/case-of-jane-roe", headers=bearer(node, "duty-officer")
    )

    assert response.status_code == 500
    [entry] = audited(node, "http:request:failed")
    assert entry["route"] == "/v1/cases/{case_id}"
    assert "jane" not in json.dumps(entry).lower()


def test_when_the_database_fails_a_json_line_says_so_and_the_entry_is_written_once_it_is_back(
    served: tuple[Node, LiveServer], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node, server = served
    officer = bearer(node, "duty-officer")
    working = node.sessions
    gone = (
        f"sqlite:///{tmp_path / 'no-such-folder' / 'node.db'}"
        if node.engine.dialect.name == "sqlite"
        else "postgresql+psycopg://postgres@127.0.0.1:1/gone"
    )
    broken_engine = make_engine(gone)
    node.sessions = make_session_factory(broken_engine)
    try:
        with caplog.at_level(logging.WARNING, logger="comity"):
            failed = httpx.get(f"{server.url}/v1/cases", headers=officer)
    finally:
        node.sessions = working
        broken_engine.dispose()

    assert failed.status_code == 500
    correlation = failed.json()["correlation_id"]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "comity"]
    deferred = [line for line in lines if line["event"] == "audit_deferred"]
    assert deferred[0]["subject"] == correlation
    assert deferred[0]["details"]["route"] == "/v1/cases"
    assert audited(node, "http:request:failed") == []

    assert httpx.get(f"{server.url}/v1/health").status_code == 200

    [entry] = audited(node, "http:request:failed")
    assert entry["subject"] == correlation
    assert entry["route"] == "/v1/cases"
    assert entry["deferred"] is True
    assert entry["occurred"]


# ------------------------------------------------------------------ bodies


def test_a_body_declared_over_the_limit_is_refused_before_it_is_read(
    served: tuple[Node, LiveServer],
) -> None:
    node, server = served
    head = (
        f"POST /v1/envelopes/batch HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        f"content-type: application/json\r\ncontent-length: {100 * MiB}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)  # and not one byte of the body
        answer = b""
        while not _complete(answer):
            more = sock.recv(65536)
            assert more, "the node closed the connection without an answer"
            answer += more

    status, body = status_and_json(answer)
    assert status == 413
    assert body["error"] == "batch_too_large"
    [entry] = audited(node, "inbox:envelope:rejected")
    assert entry["code"] == "batch_too_large"


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(
    served: tuple[Node, LiveServer],
) -> None:
    node, server = served
    answer = post_raw(server.port, "/v1/envelopes/batch", 64 * MiB, chunked=True)

    assert answer, "the node closed the connection without an answer"
    status, body = status_and_json(answer)
    assert status == 413
    assert body["error"] == "batch_too_large"
    assert [e["code"] for e in audited(node, "inbox:envelope:rejected")] == ["batch_too_large"]


def test_an_api_json_body_over_the_limit_is_refused_and_audited(
    served: tuple[Node, LiveServer],
) -> None:
    node, server = served
    big = {"kind": "preservation", "to": "XB", "request": {"facts": "x" * (2 * MiB)}}
    response = httpx.post(
        f"{server.url}/v1/cases", headers=bearer(node, "duty-officer"), json=big, timeout=30
    )

    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    [entry] = audited(node, "http:body:refused")
    assert entry["route"] == "/v1/cases"
    assert entry["code"] == "body_too_large"


def test_a_page_form_over_the_limit_is_refused_before_it_is_read(
    served: tuple[Node, LiveServer],
) -> None:
    """Sign-in takes a form without authentication: its body is held to the same limit (the
    form parser would otherwise keep a 100 MiB field whole)."""
    node, server = served
    head = (
        "POST /login HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        f"content-type: application/x-www-form-urlencoded\r\ncontent-length: {100 * MiB}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        answer = b""
        while not _complete(answer):
            more = sock.recv(65536)
            assert more, "the node closed the connection without an answer"
            answer += more

    assert answer.startswith(b"HTTP/1.1 413")
    assert b"text/html" in answer.partition(b"\r\n\r\n")[0]
    [entry] = audited(node, "http:body:refused")
    assert entry["route"] == "/login"
    assert entry["code"] == "body_too_large"


def test_json_nested_100000_deep_is_a_malformed_batch_audited(
    served: tuple[Node, LiveServer],
) -> None:
    node, server = served
    deep = b"[" * 100_000 + b"]" * 100_000
    response = httpx.post(f"{server.url}/v1/envelopes/batch", content=deep)

    assert response.status_code == 400
    assert response.json()["error"] == "envelope_malformed"
    assert [e["code"] for e in audited(node, "inbox:envelope:rejected")] == ["envelope_malformed"]


def test_deep_json_to_any_api_body_is_refused_before_parsing_and_audited(
    served: tuple[Node, LiveServer],
) -> None:
    node, server = served
    deep = b'{"username": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = httpx.post(
        f"{server.url}/v1/login", content=deep, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "json_too_deep"
    [entry] = audited(node, "http:body:refused")
    assert entry["route"] == "/v1/login"
    assert entry["code"] == "json_too_deep"


def test_depth_is_counted_outside_strings_only() -> None:
    assert not json_depth_exceeds(b'{"a": "' + b"[" * 100 + b'"}', 3)
    assert not json_depth_exceeds(b'["\\"[[[[", [1]]', 2)
    assert json_depth_exceeds(b'["\\\\", [[1]]]', 2)
    assert json_depth_exceeds(b"[" * 5 + b"]" * 5, 4)
    assert not json_depth_exceeds(b"[]" * 50, 1)


def test_the_worker_keeps_each_batch_under_the_peers_body_limit() -> None:
    def lease(n: int, size: int) -> Lease:
        return Lease(n, f"m{n}", "XB", "http://xb", "e" * size, "", 0)

    leases = [lease(n, 300_000) for n in range(10)]
    groups = batches(leases, 25, max_bytes=1_000_000)

    assert [len(g) for g in groups] == [3, 3, 3, 1]
    alone = lease(99, 2_000_000)
    assert batches([alone, *leases[:2]], 25, max_bytes=1_000_000) == [[alone], leases[:2]]


# ------------------------------------------------------------------ headers


def test_api_answers_are_never_cached_and_no_answer_sends_a_referrer(
    served: tuple[Node, LiveServer],
) -> None:
    _, server = served
    api = httpx.get(f"{server.url}/v1/health")
    page = httpx.get(f"{server.url}/login")

    assert api.headers["cache-control"] == "no-store"
    assert api.headers["referrer-policy"] == "no-referrer"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_an_import_error_never_shows_the_nodes_paths(world) -> None:
    node = world.nodes["XA"]
    (node.settings.effective_import_dir / "not-a-package").mkdir(parents=True)
    with LiveServer(create_app(node)) as server, httpx.Client(base_url=server.url) as client:
        handler = bearer(node, "central-authority-officer")
        junk = client.post(
            "/v1/evidence/packages/import", headers=handler, json={"folder": "not-a-package"}
        )
        outside = client.post(
            "/v1/evidence/packages/import", headers=handler, json={"folder": "../.."}
        )

    assert junk.status_code == 422
    assert "not-a-package" in junk.json()["message"]
    assert outside.status_code == 403
    for answer in (junk, outside):
        assert str(node.settings.home) not in answer.text
        assert "/tmp" not in answer.text


# ------------------------------------------------------------------ the OpenAPI document


def test_a_405_names_every_method_of_the_address(served: tuple[Node, LiveServer]) -> None:
    _, server = served
    with httpx.Client(base_url=server.url) as client:
        cases = client.patch("/v1/cases")
        login = client.patch("/login")
        home = client.patch("/")

    assert cases.status_code == login.status_code == home.status_code == 405
    assert cases.headers["allow"] == "GET, POST"
    assert cases.json()["error"] == "method_not_allowed"
    assert login.headers["allow"] == "GET, POST"
    assert home.headers["allow"] == "GET"


def test_the_openapi_document_names_true_media_types_and_every_error(
    served: tuple[Node, LiveServer],
) -> None:
    _, server = served
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]

    assert list(paths["/v1/directory"]["get"]["responses"]["200"]["content"]) == [
        "application/jose"
    ]
    assert list(paths["/v1/evidence/bundles/{case_id}"]["post"]["responses"]["200"]["content"]) == [
        "application/zip"
    ]
    create = paths["/v1/cases"]["post"]["responses"]
    for status in ("400", "401", "403", "404", "409", "413", "422", "500"):
        schema = create[status]["content"]["application/json"]["schema"]
        assert "#/components/schemas/ErrorBody" in json.dumps(schema), status
    assert "401" not in paths["/v1/health"]["get"]["responses"]


def test_a_number_is_not_taken_for_a_boolean(served: tuple[Node, LiveServer]) -> None:
    node, server = served
    response = httpx.put(
        f"{server.url}/v1/duty/roster/olga",
        headers=bearer(node, "administrator"),
        json={"active": 0},
    )

    assert response.status_code == 422


def test_a_nul_character_in_the_address_is_refused_not_a_crash(
    served: tuple[Node, LiveServer],
) -> None:
    node, server = served
    response = httpx.get(
        f"{server.url}/v1/cases?state=open%00", headers=bearer(node, "duty-officer")
    )

    assert response.status_code == 400
    assert response.json()["error"] == "nul_character"
    assert audited(node, "http:request:failed") == []
