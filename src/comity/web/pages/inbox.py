"""The inbox: every request of this node, incoming and outgoing, with what is due next first.

GET /inbox?direction=&state=&kind=    filters as a plain GET form
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from comity.audit import service as audit
from comity.cases import inbox, permissions
from comity.documents.messages import KIND_TITLES
from comity.kit.db import transaction
from comity.web.core import PageUser, node_of, render
from comity.web.i18n import N_
from comity.web.pages.requests import DIRECTION_LABELS, STATE_LABELS, TIMER_LABELS

router = APIRouter(include_in_schema=False)

DUE_LABELS: dict[str, str] = {
    **TIMER_LABELS,
    inbox.DUE_EXPIRY: N_("Preservation expires"),
    inbox.DUE_ACK_OWED: N_("Acknowledgement owed"),
}


def _choice(value: str | None, allowed: list[str] | tuple[str, ...]) -> str:
    return value if value and value in allowed else ""


@router.get("/inbox")
def show_inbox(
    request: Request,
    user: PageUser,
    direction: str | None = None,
    state: str | None = None,
    kind: str | None = None,
) -> Response:
    permissions.require_any(set(user.roles), permissions.READ_ROLES, "listing requests")
    node = node_of(request)
    direction = _choice(direction, inbox.DIRECTIONS)
    with transaction(node.sessions) as session:
        state = (state or "")[:40]
        kind = (kind or "")[:64]
        found = inbox.inbox(session, node.settings, direction, state, kind)
        audit.record(
            session,
            "cases:request:listed",
            user.username,
            direction=direction,
            state=state,
            kind=kind,
            count=found.total,
        )
        return render(
            request,
            "inbox/index.html",
            user,
            inbox=found,
            direction=direction,
            state=state,
            kind=kind,
            filtered=bool(direction or state or kind),
            KIND_TITLES=KIND_TITLES,
            STATE_LABELS=STATE_LABELS,
            DIRECTION_LABELS=DIRECTION_LABELS,
            DUE_LABELS=DUE_LABELS,
        )
