"""Every route of the node's app refuses a caller without credentials, except the few that
are public by design; a caller without a role for the work is refused too."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from comity.nodes.runtime import Node
from comity.transport.app import create_app

DOCS = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect")}
DOCS |= {("GET", "/redoc")}
# Public by design, and why:
PUBLIC = DOCS | {
    ("GET", "/v1/health"),  # liveness for load balancers and the demo; no data
    ("POST", "/v1/envelopes"),  # peers: authenticated by the envelope's signature
    ("GET", "/v1/directory"),  # the registry-signed directory is public
    ("POST", "/v1/login"),  # where a user gets a session
    ("GET", "/v1/requests/schema/{kind}"),  # the published JSON Schema of a kind; no case data
}
# Web pages open to anyone: the sign-in page, the language switch (a CSRF-checked form), the
# front door (a redirect) and the static files (stylesheet and scripts).
WEB_PUBLIC = {
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/language"),
    ("GET", "/static"),
}
# Other nodes call these; each request is authenticated by its signature, not a bearer token.
PEER = {
    ("POST", "/v1/envelopes/batch"),
    ("GET", "/v1/evidence/transfers/{transfer_id}/status"),
    ("PUT", "/v1/evidence/transfers/{transfer_id}/files/{file_no}/chunks/{index}"),
    ("GET", "/v1/audit/checkpoints/held"),
}


def routes_of(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, including those of included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from routes_of(inner.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, APIRoute | Route):
            for method in sorted(route.methods or []):
                if method != "HEAD":
                    # "{path:path}" is documented as "{path}"
                    yield method, re.sub(r"\{(\w+):\w+\}", r"{\1}", prefix + route.path)


def all_routes(app: FastAPI) -> set[tuple[str, str]]:
    found = set(routes_of(app.routes))
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert documented <= found, f"the walk missed {documented - found}"
    return found


def is_page(path: str) -> bool:
    return not path.startswith("/v1/") and path not in {p for _, p in DOCS}


def call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Call `path` with made-up ids (a UUID, or a number where the route wants one)."""
    response = client.request(
        method, re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path), **kwargs
    )
    if response.status_code == 422:
        response = client.request(method, re.sub(r"\{[^}]+\}", "0", path), **kwargs)
    return response


@pytest.fixture
def app(node: Node) -> FastAPI:
    return create_app(node)


def test_every_non_public_route_refuses_a_call_without_credentials(
    app: FastAPI, client: httpx.Client
) -> None:
    routes = all_routes(app)
    assert routes >= (PUBLIC - DOCS) | PEER
    api = {(m, p) for m, p in routes if not is_page(p)}
    answered = {
        (method, path): call(client, method, path, json={}).status_code
        for method, path in sorted(api - PUBLIC - PEER)
    }
    assert {route: code for route, code in answered.items() if code != 401} == {}
    assert len(answered) > 10


def test_every_page_sends_a_caller_without_a_session_to_sign_in(
    app: FastAPI, client: httpx.Client
) -> None:
    pages = {(m, p) for m, p in all_routes(app) if is_page(p)} - WEB_PUBLIC
    assert len(pages) >= 2
    for cookie in ("", "cms_forged"):
        client.cookies.set("comity_session", cookie)
        for method, path in sorted(pages):
            response = call(client, method, path, data={"csrf": "x"})
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/login?next="), (method, path)


def test_peer_routes_refuse_an_unsigned_call(app: FastAPI, client: httpx.Client) -> None:
    for method, path in sorted(PEER):
        status = call(client, method, path, content=b"").status_code
        assert 400 <= status < 500, (method, path, status)


def test_a_forged_or_revoked_credential_is_refused_everywhere(
    app: FastAPI, client: httpx.Client
) -> None:
    headers = {"Authorization": "Bearer cms_forged"}
    for method, path in sorted(all_routes(app) - PUBLIC - PEER):
        if is_page(path):
            continue
        response = call(client, method, path, json={}, headers=headers)
        assert response.status_code == 401, (method, path)
