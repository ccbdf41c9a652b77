"""The guard every HTTP request passes before the router: body limits and unexpected errors.

Bodies. Every request to the API (`/v1/...`) has a size limit by route: one envelope
(`max_body_bytes`), a batch of envelopes (`max_batch_bytes`), or a JSON body
(`max_body_bytes`). A declared `Content-Length` over the limit is refused before a byte of the
body is read; a body without one (chunked) is counted as it arrives and refused as soon as it
passes the limit, so no more than the limit is ever held. A JSON body is then checked for its
nesting depth before anything parses it. Refusals are 413 or 400 with a stable code, audited.
Evidence chunks (`PUT .../chunks/{index}`) stream into pooled buffers and check their own
size; the pages' multipart forms (evidence upload) are streamed to disk by their page within
`evidence_upload_max_bytes`; any other form of a page is held to `max_body_bytes` like JSON.

Unexpected errors. An exception nobody handled, or a `ComityError` whose status is 500,
answers 500 with a stable code and a correlation id (never a traceback, a path or the
exception's message), is logged as one JSON line on the `comity` logger and audited with the
route template (`/v1/cases/{case_id}`, never the address or the body) through the audit
backlog, which keeps the entry until the database is back when the database is what failed.

Pages. A refusal or failure of a page (an address outside `/v1/`) is answered with an HTML
page; the guard does not know the web: `create_app` hands it the renderers (`PageErrors`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comity.audit.backlog import AuditBacklog
from comity.kit.errors import ComityError
from comity.kit.jsonutil import json_depth_exceeds
from comity.nodes.runtime import Node

log = logging.getLogger("comity")

#: Deepest nesting of arrays and objects accepted in a JSON body. Request forms nest a few
#: levels; nothing the API takes comes near this.
MAX_JSON_DEPTH = 64
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CHUNK_ROUTE = re.compile(r"^/v1/evidence/transfers/[^/]+/files/[^/]+/chunks/[^/]+$")
CORRELATION_HEADER = "x-correlation-id"


class BodyTooLarge(ComityError):
    status_code = 413
    code = "body_too_large"


class JsonTooDeep(ComityError):
    code = "json_too_deep"


class NulCharacter(ComityError):
    code = "nul_character"


def _has_nul(scope: Scope) -> bool:
    """A NUL character in the address: no text column of PostgreSQL can hold one, and no
    identifier or value the node knows contains one."""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


def internal_error_body(code: str, correlation: str) -> dict[str, Any]:
    return {
        "error": code,
        "message": f"internal error on this node; its operator can trace it by {correlation}",
        "correlation_id": correlation,
    }


def route_template(scope: Scope) -> str:
    """The route's template (`/v1/cases/{case_id}`), never the address itself. Known from
    the router once the request was routed; before that, looked up among the API's paths."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app = scope.get("app")
    if app is None:
        return "(no route)"
    table: list[tuple[re.Pattern[str], str]] | None = getattr(app.state, "route_table", None)
    if table is None:
        templates = [*app.openapi().get("paths", {}), *getattr(app.state, "page_routes", [])]
        table = [
            (re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(t)) + "$"), t)
            for t in templates
        ]
        app.state.route_table = table
    for pattern, template in table:
        if pattern.match(scope.get("path", "")):
            return template
    return "(no route)"


def report_failure(
    node: Node,
    backlog: AuditBacklog,
    scope: Scope,
    code: str,
    error: str,
) -> str:
    """Log and audit an unexpected failure of a request; returns its correlation id. Blocks
    on the database: call it from a worker thread."""
    correlation = uuid.uuid4().hex
    route = route_template(scope)
    method = scope.get("method", "")
    written = backlog.record(
        node.sessions,
        "http:request:failed",
        "node",
        correlation,
        route=route,
        method=method,
        code=code,
        error=error,
    )
    log.error(
        json.dumps(
            {
                "event": "unexpected_error",
                "correlation_id": correlation,
                "route": route,
                "method": method,
                "code": code,
                "error": error,
                "audit": "written" if written else "deferred",
            },
            sort_keys=True,
        )
    )
    return correlation


@dataclass(frozen=True)
class PageErrors:
    """How the guard answers a page (not the API): `error` renders a refusal (blocks on the
    database: called from a worker thread), `unexpected` a failure with its correlation id."""

    error: Callable[[Request, ComityError], Response]
    unexpected: Callable[[Request, str], Response]


class Guard:
    """ASGI middleware, inside the security headers: see the module's doc."""

    def __init__(self, app: ASGIApp, node: Node, backlog: AuditBacklog, pages: PageErrors) -> None:
        self.app = app
        self.node = node
        self.backlog = backlog
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(self.backlog):
            await run_in_threadpool(self.backlog.flush, self.node.sessions)
        path: str = scope.get("path", "")
        if _has_nul(scope):
            await self._refuse(
                scope, receive, send, NulCharacter("the address holds a NUL character (%00)")
            )
            return
        if scope.get("method") in _BODY_METHODS and (
            path.startswith("/v1/") or not _multipart(scope)
        ):
            replayed = await self._bounded_body(scope, receive, send)
            if replayed is None:
                return
            receive = replayed

        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:  # the point: no failure leaves no trace
            correlation = await run_in_threadpool(
                report_failure, self.node, self.backlog, scope, "internal", type(exc).__name__
            )
            if started:
                return
            response = internal_error_response(scope, correlation, self.pages)
            await response(scope, receive, send)

    async def _bounded_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Read the body within the route's limit and check its JSON depth; a receive that
        hands the body on, or None when the request was refused (answered here)."""
        path: str = scope["path"]
        if _CHUNK_ROUTE.match(path):
            return receive  # streamed into a pooled buffer; the route checks its size
        settings = self.node.settings
        envelopes = path in ("/v1/envelopes", "/v1/envelopes/batch")
        json_body = path.startswith("/v1/") and not envelopes
        batch = path == "/v1/envelopes/batch"
        limit = settings.max_batch_bytes if batch else settings.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, _too_large(path, declared, limit))
            return None
        parts: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None  # the client went away
            chunk: bytes = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                parts.clear()
                await self._refuse(scope, receive, send, _too_large(path, total, limit, True))
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(parts)
        del parts
        if json_body and json_depth_exceeds(body, MAX_JSON_DEPTH):
            error = JsonTooDeep(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
            await self._refuse(scope, receive, send, error)
            return None
        if json_body and b"\\u0000" in body:
            nul = NulCharacter("a string of the JSON body holds a NUL character (\\u0000)")
            await self._refuse(scope, receive, send, nul)
            return None
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, exc: ComityError) -> None:
        await run_in_threadpool(self._audit_refusal, scope, exc)
        # The rest of an oversized body is never read: the server closes the connection.
        response: Response = JSONResponse(exc.to_dict(), status_code=exc.status_code)
        if not scope["path"].startswith("/v1/"):
            response = await run_in_threadpool(self.pages.error, Request(scope), exc)
        await response(scope, receive, send)

    def _audit_refusal(self, scope: Scope, exc: ComityError) -> None:
        if scope["path"].startswith("/v1/envelopes"):
            tag, actor = "inbox:envelope:rejected", "unknown"
        elif isinstance(exc, NulCharacter):
            tag, actor = "http:request:refused", "unknown"
        else:
            tag, actor = "http:body:refused", "unknown"
        self.backlog.record(
            self.node.sessions,
            tag,
            actor,
            "",
            route=route_template(scope),
            method=scope.get("method", ""),
            code=exc.code,
            reason=exc.message[:500],
        )


def _multipart(scope: Scope) -> bool:
    """A multipart form (the pages' evidence upload): streamed to disk by its page, within
    `evidence_upload_max_bytes`. Any other form of a page is small and read here."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bool(value.lower().startswith(b"multipart/"))
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _too_large(path: str, size: int, limit: int, counted: bool = False) -> ComityError:
    from comity.messaging.inbox import PayloadTooLarge
    from comity.transport.batch import BatchTooLarge

    message = (
        f"the body exceeds the limit of {limit} bytes"
        if counted
        else f"a body of {size} bytes exceeds the limit of {limit}"
    )
    if path == "/v1/envelopes/batch":
        return BatchTooLarge(message)
    if path == "/v1/envelopes":
        return PayloadTooLarge(message)
    return BodyTooLarge(message)


def internal_error_response(scope: Scope, correlation: str, pages: PageErrors) -> Response:
    headers = {CORRELATION_HEADER: correlation}
    if scope.get("path", "").startswith("/v1/"):
        return JSONResponse(internal_error_body("internal", correlation), 500, headers)
    response = pages.unexpected(Request(scope), correlation)
    response.headers[CORRELATION_HEADER] = correlation
    return response
