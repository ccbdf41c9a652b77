"""The 24/7 desk: who is on duty now (each in their own time zone), the urgent requests waiting
for an acknowledgement with the time left, escalations highlighted, an Acknowledge button (the
workflow's `acknowledge` act, which closes the assignment and stops the escalation), and the
recent assignments and hand-offs. The live part refreshes itself with htmx every 15 seconds;
that refresh does not count as the user's activity, so an unattended desk still signs out.

Every urgent request we received and have not acted on stays in the list, in red once it is
escalated, handed off to the central authority or late, saying where it went and how late it is
(`duty.queries`): the desk never reads "nothing waiting" while one is unanswered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from comity.audit import service as audit
from comity.cases import permissions
from comity.cases import service as cases
from comity.documents.messages import KIND_TITLES
from comity.duty import queries
from comity.duty.models import RosterEntry
from comity.duty.permissions import READ_ROLES
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.protocol.acts import Act
from comity.web.core import (
    CheckedForm,
    PageUser,
    WebUser,
    flash_query,
    flash_value,
    node_of,
    polling_user,
    render,
    require_roles,
)
from comity.web.i18n import N_
from comity.web.labels import ROSTER_ROLE_LABELS

router = APIRouter(include_in_schema=False)

ASSIGNMENT_LABELS = {
    "open": N_("Waiting for acknowledgement"),
    "acknowledged": N_("Acknowledged"),
    "escalated": N_("Escalated"),
    "handed-off": N_("Handed off to the central authority"),
}
ASSIGNMENT_BADGES = {
    "open": "expiring",
    "acknowledged": "ok",
    "escalated": "overdue",
    "handed-off": "emergency",
}


def _local(entry: RosterEntry, now: datetime) -> str:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(entry.timezone)).strftime("%H:%M")


def _render(request: Request, user: WebUser, template: str) -> Response:
    node = node_of(request)
    now = utc_now()
    with transaction(node.sessions) as session:
        desk = queries.desk(session, now, node.settings.duty_ack_seconds)
        audit.record(session, "web:duty:read", user.username, waiting=len(desk.waiting))
        return render(
            request,
            template,
            user,
            **desk.as_context(),
            local_time=lambda entry: _local(entry, now),
            can_acknowledge=user.has(*permissions.ACT_ROLES[Act.ACKNOWLEDGE]),
            KIND_TITLES=KIND_TITLES,
            ROLE_LABELS=ROSTER_ROLE_LABELS,
            ASSIGNMENT_LABELS=ASSIGNMENT_LABELS,
            ASSIGNMENT_BADGES=ASSIGNMENT_BADGES,
            acknowledged=flash_value(request, user, "acknowledged"),
        )


@router.get("/duty")
def desk(request: Request, user: PageUser) -> Response:
    require_roles(user, READ_ROLES, "the 24/7 desk")
    return _render(request, user, "duty/desk.html")


@router.get("/duty/live")
def live(request: Request, user: Annotated[WebUser, Depends(polling_user)]) -> Response:
    """The waiting requests alone, for the desk's htmx refresh every 15 seconds."""
    require_roles(user, READ_ROLES, "the 24/7 desk")
    return _render(request, user, "duty/live.html")


@router.post("/duty/acknowledge")
def acknowledge(request: Request, user: PageUser, form: CheckedForm) -> Response:
    """Acknowledge an urgent request: the `acknowledge` act on it, sent to the requesting
    party; the duty assignment closes and its escalation stops."""
    require_roles(user, permissions.ACT_ROLES[Act.ACKNOWLEDGE], "acknowledging a request")
    case_id = str(form.get("case_id", "")).strip()
    note = str(form.get("note", "")).strip()[:4000]
    if not case_id:
        raise ComityError("name the request to acknowledge", field="case_id")
    node = node_of(request)
    try:
        with transaction(node.sessions) as session:
            cases.perform(session, node, case_id, Act.ACKNOWLEDGE, {"note": note}, user.username)
    except ComityError as exc:
        audit.record_refusal(
            node.sessions,
            "cases:act:refused",
            user.username,
            case_id,
            exc,
            act=Act.ACKNOWLEDGE.value,
        )
        raise
    return RedirectResponse(f"/duty?{flash_query(user, 'acknowledged', case_id)}", status_code=303)
