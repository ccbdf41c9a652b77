"""POST /v1/envelopes/batch: several envelopes from one sender in one request and one
database transaction. A busy node delivering many messages to the same peer pays for HTTP,
the commit and the audit lock once per batch instead of once per message; each envelope is
still verified, applied and receipted on its own, and refused on its own."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from comity.kit.errors import ComityError
from comity.messaging import inbox
from comity.nodes.runtime import Node
from comity.protocol.errors import MalformedEnvelope
from comity.transport.wiring import message_handlers

router = APIRouter()


class BatchTooLarge(ComityError):
    status_code = 413
    code = "batch_too_large"


#: A batch body is one object holding one array; a few more are tolerated (other members).
_MAX_CONTAINERS = 8
#: Commas and pairs of quotes beyond one per envelope: the member names and a few others.
_SLACK = 16


def parse_batch(raw: bytes, node: Node) -> list[str]:
    """The envelopes of a batch body `{"envelopes": [compact JWE, ...]}`, parsed within a
    bounded budget: the body is at most `max_batch_bytes` (the edge stops reading there), and
    before any parsing its brackets, quotes and commas are counted, so that neither deep
    nesting (the parser recurses once per level) nor a flood of tiny values (each a Python
    object) gets to the parser. A compact JWE holds none of these characters."""
    limit = node.settings.max_batch_bytes
    if len(raw) > limit:
        raise BatchTooLarge(f"batch of {len(raw)} bytes exceeds the limit of {limit}")
    if raw.count(b"[") + raw.count(b"{") > _MAX_CONTAINERS:
        raise MalformedEnvelope('batch body must be {"envelopes": [string, ...]}')
    if raw.count(b",") > inbox.MAX_BATCH + _SLACK or raw.count(b'"') > 2 * (
        inbox.MAX_BATCH + _SLACK
    ):
        raise BatchTooLarge(f"a batch holds 1 to {inbox.MAX_BATCH} envelopes")
    try:
        body = json.loads(raw)
    except ValueError:
        raise MalformedEnvelope("batch body is not JSON") from None
    envelopes = body.get("envelopes") if isinstance(body, dict) else None
    if not isinstance(envelopes, list) or not all(isinstance(e, str) for e in envelopes):
        raise MalformedEnvelope('batch body must be {"envelopes": [string, ...]}')
    if not 1 <= len(envelopes) <= inbox.MAX_BATCH:
        raise BatchTooLarge(f"a batch holds 1 to {inbox.MAX_BATCH} envelopes")
    return envelopes


def outcome_json(outcome: inbox.Outcome) -> dict[str, Any]:
    if isinstance(outcome, ComityError):
        return {"status": outcome.status_code, **outcome.to_dict()}
    return {"status": 200, "receipt": outcome.receipt}


def accept_raw_batch(node: Node, raw: bytes) -> list[inbox.Outcome]:
    try:
        envelopes = parse_batch(raw, node)
    except ComityError as exc:
        inbox.audit_rejection(node, exc)
        raise
    return inbox.accept_batch(node, envelopes, message_handlers())


class BatchBody(BaseModel):
    envelopes: list[str] = Field(
        min_length=1, max_length=inbox.MAX_BATCH, description="Compact JWE envelopes"
    )


class BatchResult(BaseModel):
    status: int = Field(description="200, or the status this envelope alone would get")
    receipt: str | None = Field(default=None, description="The signed delivered receipt")
    error: str | None = None
    message: str | None = None
    details: dict[str, Any] | None = None


class BatchAnswer(BaseModel):
    results: list[BatchResult] = Field(description="One per envelope, in order")


@router.post(
    "/v1/envelopes/batch",
    responses={200: {"model": BatchAnswer}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BatchBody.model_json_schema()}},
        }
    },
)
async def receive_batch(request: Request) -> JSONResponse:
    node: Node = request.app.state.node
    # The edge (transport/edge.py) has already refused a body over `max_batch_bytes`, before
    # reading it or as soon as it passed the limit.
    raw = await request.body()
    outcomes = await run_in_threadpool(accept_raw_batch, node, raw)
    return JSONResponse({"results": [outcome_json(o) for o in outcomes]})
