"""The requests API: schemas, checks, the requested-party profile, and drafting.

Views are thin: build the officer from the bearer token, one service call, answer. The service
checks the roles, so the CLI and the API enforce the same rules.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Body, Request

from comity.audit import service as audit
from comity.cases.permissions import require_any
from comity.edges.http import AuthCaller, Caller
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.law import request_schema
from comity.law.checking import require_object
from comity.nodes.runtime import Node
from comity.requests import permissions, service
from comity.requests.schemas import (
    CheckView,
    DraftEdit,
    DraftVersion,
    DraftView,
    NewDraft,
    ProfileView,
)

router = APIRouter(prefix="/v1/requests", tags=["requests"])


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def _officer(who: Caller) -> service.Officer:
    return service.Officer(user=who.user, roles=frozenset(who.roles))


@router.get("/schema/{kind}")
def schema(kind: str) -> dict[str, Any]:
    """The published JSON Schema of a request document of `kind`."""
    return request_schema(kind)


@router.post("/check")
def check(
    request: Request,
    who: AuthCaller,
    document: Any = Body(..., description="A request document with a top-level 'kind'"),
    on: date | None = None,
) -> CheckView:
    """Findings on a request document; 200 whether or not something blocks (see `blocking`)."""
    require_any(who.roles, permissions.READ_ROLES, "checking a request")
    with _node(request).sessions() as session:
        return CheckView.of(service.check_document(session, require_object(document), on))


@router.get("/profile/{party}")
def profile(request: Request, who: AuthCaller, party: str, on: date | None = None) -> ProfileView:
    """What a drafter needs to know before writing to `party`."""
    require_any(who.roles, permissions.READ_ROLES, "reading a party profile")
    node = _node(request)
    with node.sessions() as session:
        return service.profile(session, node.participant_id, party, on)


@router.get("/drafts")
def list_drafts(
    request: Request, who: AuthCaller, status: str | None = None
) -> list[dict[str, Any]]:
    """Drafts on this node, newest first, without their content."""
    with _node(request).sessions() as session:
        return [
            {
                "id": d.id,
                "kind": d.kind,
                "requested": d.requested,
                "status": d.status,
                "version": d.version,
                "drafter": d.drafter,
                "updated_at": d.updated_at.isoformat(),
                "case_id": d.case_id,
            }
            for d in service.list_drafts(session, _officer(who), status)
        ]


@router.post("/drafts", status_code=201)
def create_draft(request: Request, who: AuthCaller, new: NewDraft) -> DraftView:
    node = _node(request)
    with transaction(node.sessions) as session:
        draft, found = service.create_draft(
            session, node, new.kind, new.requested, new.document, _officer(who)
        )
        return DraftView.of(draft, found)


@router.get("/drafts/{draft_id}")
def read_draft(request: Request, who: AuthCaller, draft_id: str) -> DraftView:
    with transaction(_node(request).sessions) as session:
        draft = service.get_draft(session, draft_id, _officer(who))
        return DraftView.of(draft, service.findings(session, draft))


@router.put("/drafts/{draft_id}")
def edit_draft(request: Request, who: AuthCaller, draft_id: str, edit: DraftEdit) -> DraftView:
    with transaction(_node(request).sessions) as session:
        draft, found = service.edit_draft(
            session, draft_id, edit.version, edit.document, _officer(who)
        )
        return DraftView.of(draft, found)


@router.post("/drafts/{draft_id}/approve")
def approve(request: Request, who: AuthCaller, draft_id: str, body: DraftVersion) -> DraftView:
    """Approve the draft as read at `version` (four eyes: not by anyone who wrote it)."""
    node = _node(request)
    try:
        with transaction(node.sessions) as session:
            draft, found = service.approve(session, draft_id, body.version, _officer(who))
            return DraftView.of(draft, found)
    except ComityError as exc:
        audit.record_refusal(
            node.sessions, "requests:draft:approve-refused", who.user, draft_id, exc
        )
        raise


@router.post("/drafts/{draft_id}/reopen")
def reopen(request: Request, who: AuthCaller, draft_id: str) -> DraftView:
    """Send an approved draft back to drafting; the approval is withdrawn."""
    with transaction(_node(request).sessions) as session:
        draft = service.reopen(session, draft_id, _officer(who))
        return DraftView.of(draft, service.findings(session, draft))


@router.post("/drafts/{draft_id}/dispatch")
def dispatch(request: Request, who: AuthCaller, draft_id: str) -> DraftView:
    """Send an approved draft on the route the law gives today (through the outbox)."""
    node = _node(request)
    try:
        with transaction(node.sessions) as session:
            draft = service.dispatch(session, node, draft_id, _officer(who))
            return DraftView.of(draft, [])
    except ComityError as exc:
        audit.record_refusal(
            node.sessions, "requests:draft:dispatch-refused", who.user, draft_id, exc
        )
        raise
