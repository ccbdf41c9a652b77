"""The duty desk API: roster (read by officials, changed by administrators and the central
authority) and assignments."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from comity.cases.permissions import require_any
from comity.duty import service
from comity.duty.permissions import READ_ROLES, ROSTER_ADMINS
from comity.edges.http import AuthCaller, NodeDep
from comity.kit.db import transaction

router = APIRouter(prefix="/v1/duty", tags=["duty"])


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
    model_config = ConfigDict(from_attributes=True)

    user: str


class AssignmentView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: str
    user: str
    level: int
    status: str
    assigned_at: datetime
    ack_due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@router.get("/roster")
def get_roster(node: NodeDep, who: AuthCaller) -> list[RosterView]:
    require_any(who.roles, READ_ROLES, "reading the duty roster")
    with node.sessions() as session:
        return [RosterView.model_validate(e) for e in service.roster(session)]


@router.put("/roster/{user}")
def put_roster(node: NodeDep, who: AuthCaller, user: str, entry: RosterInput) -> RosterView:
    require_any(who.roles, ROSTER_ADMINS, "changing the duty roster")
    with transaction(node.sessions) as session:
        return RosterView.model_validate(
            service.put_entry(session, who.user, user, **entry.model_dump())
        )


@router.get("/assignments")
def get_assignments(
    node: NodeDep, who: AuthCaller, case_id: str | None = None
) -> list[AssignmentView]:
    require_any(who.roles, READ_ROLES, "reading duty assignments")
    with node.sessions() as session:
        return [AssignmentView.model_validate(a) for a in service.assignments(session, case_id)]
