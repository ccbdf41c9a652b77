"""Approving a request draft: the approval screen (the draft, its findings, the route), then
approve (four eyes: not by anyone who wrote it), send back to drafting, or dispatch as a
request. A refusal is audited and shown on the approval screen with the reason in the
reader's language (`REFUSALS` in pages/drafts.py, where the drafting pages' messages live).

Every write goes through `comity.requests.service`, which checks the roles and audits.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from comity.audit import service as audit
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.nodes.runtime import Node
from comity.requests import permissions, service, wizard
from comity.web.core import (
    CheckedForm,
    PageUser,
    WebUser,
    flash_query,
    flash_value,
    node_of,
    render,
    require_roles,
)
from comity.web.pages.drafts import DONE, draft_context, officer_of

router = APIRouter(include_in_schema=False)


@router.get("/drafts/{draft_id}/approve")
def approval_page(request: Request, user: PageUser, draft_id: str) -> Response:
    require_roles(
        user, permissions.APPROVE_ROLES | permissions.DISPATCH_ROLES, "approving a request"
    )
    node = node_of(request)
    with transaction(node.sessions) as session:
        draft = service.get_draft(session, draft_id, officer_of(user))
        plan = wizard.for_draft(session, draft)
        done = flash_value(request, user, "done")
        context = draft_context(
            session, user, draft, plan, refusal=None, done=done if done in DONE else ""
        )
        return render(request, "drafts/approve.html", user, **context)


def _refusal_page(
    request: Request, node: Node, user: WebUser, draft_id: str, exc: ComityError
) -> Response:
    with transaction(node.sessions) as session:
        draft = service.get_draft(session, draft_id, officer_of(user))
        plan = wizard.for_draft(session, draft)
        context = draft_context(session, user, draft, plan, refusal=exc, done="")
        return render(request, "drafts/approve.html", user, status_code=exc.status_code, **context)


def _act(request: Request, user: WebUser, draft_id: str, action: str, form: FormData) -> Response:
    """Approve, reopen or dispatch; a refusal is audited and shown on the approval page."""
    node = node_of(request)
    case_id: str | None = None
    try:
        with transaction(node.sessions) as session:
            officer = officer_of(user)
            if action == "approve":
                try:
                    version = int(str(form.get("version", "")))
                except ValueError:
                    raise ComityError("version: missing or not a number", field="version") from None
                service.approve(session, draft_id, version, officer)
            elif action == "reopen":
                service.reopen(session, draft_id, officer)
            else:
                case_id = service.dispatch(session, node, draft_id, officer).case_id
    except ComityError as exc:
        audit.record_refusal(
            node.sessions, f"requests:draft:{action}-refused", user.username, draft_id, exc
        )
        return _refusal_page(request, node, user, draft_id, exc)
    if case_id is not None:
        return RedirectResponse(f"/requests/{case_id}", status_code=303)
    return RedirectResponse(
        f"/drafts/{draft_id}/approve?" + flash_query(user, "done", action), status_code=303
    )


@router.post("/drafts/{draft_id}/approve")
def approve(request: Request, user: PageUser, draft_id: str, form: CheckedForm) -> Response:
    return _act(request, user, draft_id, "approve", form)


@router.post("/drafts/{draft_id}/reopen")
def reopen(request: Request, user: PageUser, draft_id: str, form: CheckedForm) -> Response:
    return _act(request, user, draft_id, "reopen", form)


@router.post("/drafts/{draft_id}/dispatch")
def dispatch(request: Request, user: PageUser, draft_id: str, form: CheckedForm) -> Response:
    return _act(request, user, draft_id, "dispatch", form)
