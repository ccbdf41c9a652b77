"""The duty desk API: roster (read by officials, changed by administrators and the central
authority) and assignments."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictBool, StrictInt

from comity.cases.permissions import OFFICIALS, require_any
from comity.duty import service
from comity.duty.models import DutyAssignment, RosterEntry
from comity.edges.http import AuthCaller
from comity.kit.db import transaction
from comity.nodes.runtime import Node

router = APIRouter(prefix="/v1/duty", tags=["duty"])

ROSTER_ADMINS = frozenset({"administrator", "central-authority-officer"})


class RosterInput(BaseModel):
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=320)
    role: str = "officer"
    timezone: str = "UTC"
    shift_start: str = "00:00"
    shift_end: str = "00:00"
    rank: StrictInt = 100
    active: StrictBool = True


class RosterView(RosterInput):
    user: str

    @classmethod
    def of(cls, entry: RosterEntry) -> RosterView:
        return cls(
            user=entry.user,
            name=entry.name,
            email=entry.email,
            role=entry.role,
            timezone=entry.timezone,
            shift_start=entry.shift_start,
            shift_end=entry.shift_end,
            rank=entry.rank,
            active=entry.active,
        )


class AssignmentView(BaseModel):
    id: int
    case_id: str
    user: str
    level: int
    status: str
    assigned_at: datetime
    ack_due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @classmethod
    def of(cls, a: DutyAssignment) -> AssignmentView:
        return cls(
            id=a.id,
            case_id=a.case_id,
            user=a.user,
            level=a.level,
            status=a.status,
            assigned_at=a.assigned_at,
            ack_due_at=a.ack_due_at,
            acknowledged_at=a.acknowledged_at,
            acknowledged_by=a.acknowledged_by,
        )


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


@router.get("/roster")
def get_roster(request: Request, who: AuthCaller) -> list[RosterView]:
    require_any(who.roles, OFFICIALS | ROSTER_ADMINS, "reading the duty roster")
    with _node(request).sessions() as session:
        return [RosterView.of(e) for e in service.roster(session)]


@router.put("/roster/{user}")
def put_roster(request: Request, who: AuthCaller, user: str, entry: RosterInput) -> RosterView:
    require_any(who.roles, ROSTER_ADMINS, "changing the duty roster")
    with transaction(_node(request).sessions) as session:
        return RosterView.of(service.put_entry(session, who.user, user, **entry.model_dump()))


@router.get("/assignments")
def get_assignments(
    request: Request, who: AuthCaller, case_id: str | None = None
) -> list[AssignmentView]:
    require_any(who.roles, OFFICIALS | ROSTER_ADMINS, "reading duty assignments")
    with _node(request).sessions() as session:
        return [AssignmentView.of(a) for a in service.assignments(session, case_id)]
