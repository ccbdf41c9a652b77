"""The officers' API of requests (`/v1/cases`): list, create and read requests, their events
and receipts, perform an act; the workflow view (conditions, links, pending timers);
disclosure of preserved traffic data (Budapest 30); the onward-transfer check."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from comity.audit import service as audit
from comity.cases import permissions, rules
from comity.cases import service as cases
from comity.cases.models import Case
from comity.cases.offers import parse_disclosure
from comity.edges.http import AuthCaller, NodeDep
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.messaging.models import ReceiptRecord
from comity.protocol.acts import Act, Side
from comity.protocol.kinds import table_for
from comity.timers import service as timers

router = APIRouter(prefix="/v1/cases", tags=["cases"])


class NewRequest(BaseModel):
    kind: str = Field(min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=64, description="Requested party id")
    instrument: str = ""
    request: dict[str, Any]


class ActRequest(BaseModel):
    act: Act
    body: dict[str, Any] = Field(default_factory=dict)


class ActWarningView(BaseModel):
    """An act let through although a rule not verified against its text would refuse it."""

    model_config = ConfigDict(from_attributes=True)

    field: str
    message: str
    citation: str
    verified: bool


class CaseView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
    allowed_acts: list[str] = Field(default_factory=list)
    request: dict[str, Any] | None = None
    warnings: list[ActWarningView] = Field(
        default_factory=list,
        description="After an act: rules not verified against their text that would have"
        " refused it (it went through; issue 13)",
    )

    @classmethod
    def of(cls, case: Case, with_content: bool = False) -> CaseView:
        """The request as its row says, with the acts our side may take now; its content
        (the request document) only when asked for."""
        view = cls.model_validate(case)
        side = Side(case.side)
        allowed = [t.act.value for t in table_for(case.kind).allowed(case.state) if t.by is side]
        view.allowed_acts = [a for a in allowed if a != Act.DELIVER.value]
        if not with_content:
            view.request = None
        return view


class EventView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    act: str
    by_side: str
    actor: str
    from_state: str
    to_state: str
    at: datetime
    message_id: str
    body: dict[str, Any]


class ReceiptView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    message_id: str
    evidence: str
    issuer: str
    at: str = Field(description="When the receipt was issued (ISO 8601)")
    token: str = Field(description="The signed receipt (compact JWS)")

    @field_validator("at", mode="before")
    @classmethod
    def _iso(cls, value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value


class TimerView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    due_at: datetime


class WorkflowView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    state: str
    conditions: dict[str, Any]
    consulted_at: datetime | None
    linked_to: str | None
    deadline_at: datetime | None
    preserved_until: date | None
    timers: list[TimerView] = Field(default_factory=list)


class DisclosureRequest(BaseModel):
    provider: str
    provider_state: str
    communication: str = ""
    traffic_data: str
    summary: str = Field(default="", max_length=20000)


@router.get("")
def list_requests(node: NodeDep, who: AuthCaller, state: str | None = None) -> list[CaseView]:
    permissions.require_any(who.roles, permissions.READ_ROLES, "listing requests")
    with transaction(node.sessions) as session:
        found = cases.list_cases(session, state)
        audit.record(session, "cases:request:listed", who.user, state=state, count=len(found))
        return [CaseView.of(c) for c in found]


@router.post("", status_code=201)
def create_request(node: NodeDep, who: AuthCaller, new: NewRequest) -> CaseView:
    permissions.require_any(who.roles, permissions.CREATE_ROLES, "drafting a request")
    with transaction(node.sessions) as session:
        case = cases.create_request(
            session, node, new.kind, new.to, new.request, who.user, new.instrument
        )
        return CaseView.of(case, with_content=True)


@router.get("/{case_id}")
def open_request(node: NodeDep, who: AuthCaller, case_id: str) -> CaseView:
    permissions.require_any(who.roles, permissions.READ_ROLES, "reading a request")
    with transaction(node.sessions) as session:
        return CaseView.of(cases.open_case(session, node, case_id, who.user), True)


@router.get("/{case_id}/events")
def request_events(node: NodeDep, who: AuthCaller, case_id: str) -> list[EventView]:
    permissions.require_any(who.roles, permissions.READ_ROLES, "reading a request")
    with transaction(node.sessions) as session:
        cases.get_case(session, case_id)
        audit.record(session, "cases:events:read", who.user, case_id)
        return [EventView.model_validate(e) for e in cases.events(session, case_id)]


@router.get("/{case_id}/receipts")
def request_receipts(node: NodeDep, who: AuthCaller, case_id: str) -> list[ReceiptView]:
    permissions.require_any(who.roles, permissions.READ_ROLES, "reading receipts")
    with transaction(node.sessions) as session:
        cases.get_case(session, case_id)
        audit.record(session, "cases:receipts:read", who.user, case_id)
        rows = session.execute(
            select(ReceiptRecord)
            .where(ReceiptRecord.conversation_id == case_id)
            .order_by(ReceiptRecord.id)
        ).scalars()
        return [ReceiptView.model_validate(r) for r in rows]


@router.post("/{case_id}/acts")
def perform_act(node: NodeDep, who: AuthCaller, case_id: str, act: ActRequest) -> CaseView:
    permissions.require_act(who.roles, act.act)
    try:
        with transaction(node.sessions) as session:
            case = cases.perform(session, node, case_id, act.act, act.body, who.user)
            view = CaseView.of(case)
            view.warnings = [ActWarningView.model_validate(w) for w in cases.act_warnings(session)]
            return view
    except ComityError as exc:
        audit.record_refusal(
            node.sessions, "cases:act:refused", who.user, case_id, exc, act=act.act.value
        )
        raise


@router.get("/{case_id}/workflow")
def workflow_view(node: NodeDep, who: AuthCaller, case_id: str) -> WorkflowView:
    """Conditions, consultation, follow-up link, deadlines and pending timers of a request."""
    permissions.require_any(who.roles, permissions.READ_ROLES, "reading a request")
    with node.sessions() as session:
        case = cases.get_case(session, case_id)
        view = WorkflowView.model_validate(case)
        view.timers = [TimerView.model_validate(t) for t in timers.pending(session, case.id)]
        return view


@router.post("/{case_id}/disclosure")
def disclose_traffic_data(
    node: NodeDep, who: AuthCaller, case_id: str, disclosure: DisclosureRequest
) -> WorkflowView:
    """Disclose enough preserved traffic data to identify a provider in a third state: a partial
    execution of the preservation that carries the disclosure; the requesting node prepares a
    preservation request to that state."""
    permissions.require_act(who.roles, Act.EXECUTE_PARTIALLY)
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
    return workflow_view(node, who, case_id)


@router.post("/{case_id}/onward-transfer")
def onward_transfer(node: NodeDep, who: AuthCaller, case_id: str, to: str) -> dict[str, str]:
    """Check whether information received under a request may be passed on to `to`."""
    permissions.require_any(who.roles, permissions.OFFICIALS, "passing information on")
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
