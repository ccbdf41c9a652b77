"""Workflow views and acts beyond the basic act endpoint: the request's conditions, links and
pending timers; disclosure of preserved traffic data (Budapest 30); onward-transfer check."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from comity.audit import service as audit
from comity.cases import permissions, rules
from comity.cases import service as cases
from comity.cases.offers import parse_disclosure
from comity.edges.http import AuthCaller
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.nodes.runtime import Node
from comity.protocol.acts import Act
from comity.timers import service as timers

router = APIRouter(prefix="/v1/cases", tags=["cases"])


class TimerView(BaseModel):
    kind: str
    due_at: datetime


class WorkflowView(BaseModel):
    id: str
    state: str
    conditions: dict[str, Any]
    consulted_at: datetime | None
    linked_to: str | None
    deadline_at: datetime | None
    preserved_until: date | None
    timers: list[TimerView]


class DisclosureRequest(BaseModel):
    provider: str
    provider_state: str
    communication: str = ""
    traffic_data: str
    summary: str = Field(default="", max_length=20000)


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


@router.get("/{case_id}/workflow")
def workflow_view(request: Request, who: AuthCaller, case_id: str) -> WorkflowView:
    """Conditions, consultation, follow-up link, deadlines and pending timers of a request."""
    permissions.require_any(who.roles, permissions.READ_ROLES, "reading a request")
    with _node(request).sessions() as session:
        case = cases.get_case(session, case_id)
        return WorkflowView(
            id=case.id,
            state=case.state,
            conditions=case.conditions,
            consulted_at=case.consulted_at,
            linked_to=case.linked_to,
            deadline_at=case.deadline_at,
            preserved_until=case.preserved_until,
            timers=[
                TimerView(kind=t.kind, due_at=t.due_at) for t in timers.pending(session, case.id)
            ],
        )


@router.post("/{case_id}/disclosure")
def disclose_traffic_data(
    request: Request, who: AuthCaller, case_id: str, disclosure: DisclosureRequest
) -> WorkflowView:
    """Disclose enough preserved traffic data to identify a provider in a third state: a partial
    execution of the preservation that carries the disclosure; the requesting node prepares a
    preservation request to that state."""
    permissions.require_act(who.roles, Act.EXECUTE_PARTIALLY)
    node = _node(request)
    raw = disclosure.model_dump(exclude={"summary"})
    try:
        parse_disclosure(raw)
        with transaction(node.sessions) as session:
            cases.perform(
                session,
                node,
                case_id,
                Act.EXECUTE_PARTIALLY,
                {"summary": disclosure.summary or "Traffic data disclosed (Budapest 30)"},
                who.user,
                disclosure=raw,
            )
    except ComityError as exc:
        audit.record_refusal(
            node.sessions,
            "cases:act:refused",
            who.user,
            case_id,
            exc,
            act=Act.EXECUTE_PARTIALLY.value,
        )
        raise
    return workflow_view(request, who, case_id)


@router.post("/{case_id}/onward-transfer")
def onward_transfer(request: Request, who: AuthCaller, case_id: str, to: str) -> dict[str, str]:
    """Check whether information received under a request may be passed on to `to`."""
    permissions.require_any(who.roles, permissions.OFFICIALS, "passing information on")
    node = _node(request)
    try:
        with transaction(node.sessions) as session:
            case = cases.get_case(session, case_id)
            rules.check_onward_transfer(case, to)
            audit.record(session, "cases:information:transferred", who.user, case.id, to=to)
    except ComityError as exc:
        audit.record_refusal(
            node.sessions, "cases:act:refused", who.user, case_id, exc, act="onward-transfer"
        )
        raise
    return {"case_id": case_id, "to": to, "status": "allowed"}
