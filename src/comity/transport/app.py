"""The node's HTTP interface: the inbound envelope endpoint (authenticated by signature), the
directory, and the local JSON API for officers (bearer tokens with roles)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from comity import __version__
from comity.audit import service as audit
from comity.audit.backlog import AuditBacklog
from comity.cases import permissions
from comity.cases import service as cases
from comity.cases.models import Case, CaseEvent
from comity.directory import service as directory_service
from comity.edges.http import AuthCaller, JoseResponse
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.messaging import inbox
from comity.messaging.delivery import JOSE_MEDIA_TYPE
from comity.messaging.models import PlainRow, ReceiptRecord
from comity.nodes.runtime import Node
from comity.protocol.acts import Act
from comity.transport.edge import (
    CORRELATION_HEADER,
    Guard,
    internal_error_body,
    report_failure,
)
from comity.transport.wiring import message_handlers

log = logging.getLogger("comity.http")


class NewRequest(BaseModel):
    kind: str = Field(min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=64, description="Requested party id")
    instrument: str = ""
    request: dict[str, Any]


class ActRequest(BaseModel):
    act: Act
    body: dict[str, Any] = Field(default_factory=dict)


class CaseView(BaseModel):
    id: str
    kind: str
    side: str
    our_party: str
    counterpart: str
    state: str
    instrument: str
    preserved_until: date | None
    created_at: datetime
    state_at: datetime
    retrieved_at: datetime | None
    allowed_acts: list[str]
    request: dict[str, Any] | None = None

    @classmethod
    def of(cls, case: Case, with_content: bool = False) -> CaseView:
        from comity.protocol.acts import Side
        from comity.protocol.kinds import table_for

        side = Side(case.side)
        allowed = [t.act.value for t in table_for(case.kind).allowed(case.state) if t.by is side]
        return cls(
            id=case.id,
            kind=case.kind,
            side=case.side,
            our_party=case.our_party,
            counterpart=case.counterpart,
            state=case.state,
            instrument=case.instrument,
            preserved_until=case.preserved_until,
            created_at=case.created_at,
            state_at=case.state_at,
            retrieved_at=case.retrieved_at,
            allowed_acts=[a for a in allowed if a != Act.DELIVER.value],
            request=case.request if with_content else None,
        )


class EventView(BaseModel):
    seq: int
    act: str
    by_side: str
    actor: str
    from_state: str
    to_state: str
    at: datetime
    message_id: str
    body: dict[str, Any]

    @classmethod
    def of(cls, event: CaseEvent) -> EventView:
        return cls(
            seq=event.seq,
            act=event.act,
            by_side=event.by_side,
            actor=event.actor,
            from_state=event.from_state,
            to_state=event.to_state,
            at=event.at,
            message_id=event.message_id,
            body=event.body,
        )


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
    from comity.transport.audit_peers import router as audit_peers_router
    from comity.transport.batch import router as batch_router

    app.include_router(batch_router)
    app.include_router(audit_peers_router)
    # Imported here: the requests router depends on this module's AuthCaller.
    from comity.accounts.api import router as accounts_router
    from comity.requests.api import router as requests_router

    app.include_router(accounts_router)
    from comity.audit.api import router as audit_router

    app.include_router(audit_router)
    app.include_router(requests_router)
    from comity.evidence.api import router as evidence_router

    app.include_router(evidence_router)
    from comity.cases.api import router as cases_router
    from comity.duty.api import router as duty_router
    from comity.notifications.api import router as notifications_router

    app.include_router(cases_router)
    app.include_router(duty_router)
    app.include_router(notifications_router)

    from comity.transport import openapi
    from comity.web import app as web

    openapi.install(app)

    # Added before the web's security headers, so that it runs inside them and its answers
    # carry them too.
    app.add_middleware(Guard, node=node, backlog=backlog)
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

    @app.get("/v1/directory", response_class=JoseResponse)
    def signed_directory() -> Response:
        """The directory this node holds, as the registry signed it (a compact JWS)."""
        with node.sessions() as session:
            return JoseResponse(directory_service.current_token(session))

    @app.get("/v1/cases")
    def list_requests(who: AuthCaller, state: str | None = None) -> list[CaseView]:
        permissions.require_any(who.roles, permissions.READ_ROLES, "listing requests")
        with transaction(node.sessions) as session:
            found = cases.list_cases(session, state)
            audit.record(session, "cases:request:listed", who.user, state=state, count=len(found))
            return [CaseView.of(c) for c in found]

    @app.post("/v1/cases", status_code=201)
    def create_request(who: AuthCaller, new: NewRequest) -> CaseView:
        permissions.require_any(who.roles, permissions.CREATE_ROLES, "drafting a request")
        with transaction(node.sessions) as session:
            case = cases.create_request(
                session, node, new.kind, new.to, new.request, who.user, new.instrument
            )
            return CaseView.of(case, with_content=True)

    @app.get("/v1/cases/{case_id}")
    def open_request(who: AuthCaller, case_id: str) -> CaseView:
        permissions.require_any(who.roles, permissions.READ_ROLES, "reading a request")
        with transaction(node.sessions) as session:
            return CaseView.of(cases.open_case(session, node, case_id, who.user), True)

    @app.get("/v1/cases/{case_id}/events")
    def request_events(who: AuthCaller, case_id: str) -> list[EventView]:
        permissions.require_any(who.roles, permissions.READ_ROLES, "reading a request")
        with transaction(node.sessions) as session:
            cases.get_case(session, case_id)
            audit.record(session, "cases:events:read", who.user, case_id)
            return [EventView.of(e) for e in cases.events(session, case_id)]

    @app.get("/v1/cases/{case_id}/receipts")
    def request_receipts(who: AuthCaller, case_id: str) -> list[dict[str, Any]]:
        permissions.require_any(who.roles, permissions.READ_ROLES, "reading receipts")
        with transaction(node.sessions) as session:
            cases.get_case(session, case_id)
            audit.record(session, "cases:receipts:read", who.user, case_id)
            rows = session.execute(
                select(ReceiptRecord)
                .where(ReceiptRecord.conversation_id == case_id)
                .order_by(ReceiptRecord.id)
            ).scalars()
            return [
                {
                    "message_id": r.message_id,
                    "evidence": r.evidence,
                    "issuer": r.issuer,
                    "at": r.at.isoformat(),
                    "token": r.token,
                }
                for r in rows
            ]

    @app.post("/v1/cases/{case_id}/acts")
    def perform_act(who: AuthCaller, case_id: str, act: ActRequest) -> CaseView:
        permissions.require_act(who.roles, act.act)
        try:
            with transaction(node.sessions) as session:
                case = cases.perform(session, node, case_id, act.act, act.body, who.user)
                return CaseView.of(case)
        except ComityError as exc:
            audit.record_refusal(
                node.sessions, "cases:act:refused", who.user, case_id, exc, act=act.act.value
            )
            raise

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
