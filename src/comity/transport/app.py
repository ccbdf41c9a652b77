"""The node's HTTP application, assembled: the guard and the web's middleware, every feature's
router (`<feature>/api.py`) and the web pages, the error answers, health, the inbound envelope
endpoint (authenticated by the envelope's signature) and the bench endpoint. No feature's
endpoints live here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from comity import __version__
from comity.accounts.api import router as accounts_router
from comity.audit.api import router as audit_router
from comity.audit.backlog import AuditBacklog
from comity.cases.api import router as cases_router
from comity.directory.api import router as directory_router
from comity.duty.api import router as duty_router
from comity.edges.http import JoseResponse
from comity.evidence.api import router as evidence_router
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.messaging import inbox
from comity.messaging.delivery import JOSE_MEDIA_TYPE
from comity.messaging.models import PlainRow
from comity.nodes.runtime import Node
from comity.notifications.api import router as notifications_router
from comity.requests.api import router as requests_router
from comity.transport import openapi
from comity.transport.batch import router as batch_router
from comity.transport.edge import (
    CORRELATION_HEADER,
    Guard,
    PageErrors,
    internal_error_body,
    report_failure,
)
from comity.transport.wiring import message_handlers
from comity.web import app as web
from comity.witnesses.api import router as witnesses_router

log = logging.getLogger("comity.http")


#: How often the node writes audit entries kept while its database was failing.
BACKLOG_TICK_SECONDS = 5.0


def create_app(node: Node) -> FastAPI:
    backlog = AuditBacklog()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async def tick() -> None:
            while True:
                await asyncio.sleep(BACKLOG_TICK_SECONDS)
                if len(backlog):
                    await run_in_threadpool(backlog.flush, node.sessions)

        ticking = asyncio.create_task(tick())
        try:
            yield
        finally:
            ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticking

    app = FastAPI(
        title=f"comity node {node.participant_id}",
        version=__version__,
        description="Inbound envelopes, directory, and the officers' API of one comity node.",
        lifespan=lifespan,
    )
    app.state.node = node
    app.state.audit_backlog = backlog
    handlers = message_handlers()
    for router in (
        batch_router,
        witnesses_router,
        directory_router,
        accounts_router,
        audit_router,
        requests_router,
        evidence_router,
        cases_router,
        duty_router,
        notifications_router,
    ):
        app.include_router(router)
    openapi.install(app)

    # Added before the web's security headers, so that it runs inside them and its answers
    # carry them too. Its refusals and failures of a page are answered with the web's pages.
    app.add_middleware(
        Guard,
        node=node,
        backlog=backlog,
        pages=PageErrors(error=web.error_page, unexpected=web.unexpected_page),
    )
    web.mount(app)

    @app.exception_handler(ComityError)
    async def comity_error(request: Request, exc: ComityError) -> Response:
        if exc.status_code == 500:
            # The node's own fault (its configuration, typically): traced like any
            # unexpected error; its message may name paths, so it is logged, not answered.
            if exc.code == "configuration":
                log.error("configuration error while serving a request: %s", exc.message)
            correlation = await run_in_threadpool(
                report_failure, node, backlog, request.scope, exc.code, type(exc).__name__
            )
            if web.is_page(request):
                return web.unexpected_page(request, correlation)
            return JSONResponse(
                internal_error_body(exc.code, correlation),
                status_code=exc.status_code,
                headers={CORRELATION_HEADER: correlation},
            )
        if web.is_page(request):
            return await run_in_threadpool(web.error_page, request, exc)
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        return {"participant": node.participant_id, "status": "ok", "version": __version__}

    @app.post(
        "/v1/envelopes",
        response_class=JoseResponse,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {JOSE_MEDIA_TYPE: {"schema": {"type": "string"}}},
            }
        },
    )
    async def receive_envelope(request: Request) -> Response:
        """One envelope (a compact JWE); the answer is the signed `delivered` receipt."""
        # The edge (transport/edge.py) has refused a body over `max_body_bytes` already.
        raw = await request.body()
        accepted = await run_in_threadpool(inbox.accept, node, raw, handlers)
        return JoseResponse(accepted.receipt)

    if node.settings.bench_endpoints:

        @app.post("/v1/bench/plain")
        async def plain_row(request: Request) -> Response:
            body = (await request.body()).decode()

            def insert() -> None:
                with transaction(node.sessions) as session:
                    session.add(PlainRow(body=body))

            await run_in_threadpool(insert)
            return PlainTextResponse("ok")

    return app
