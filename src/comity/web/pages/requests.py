"""The request page: facts, content, the timeline of acts, receipts and timers, and the acts
open now (for this node's party and the user's roles), each with the form its content needs.

    GET  /requests/{case_id}        the request (opening it is audited; the first opening of a
                                    received request sends the `retrieved` receipt)
    POST /requests/{case_id}/acts   perform an act (the same checks as the API) → 303 back
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from comity.audit import service as audit
from comity.cases import inbox, permissions, timeline, workflow
from comity.cases import service as cases
from comity.documents.messages import CHANNELS, INSTRUMENT_TITLES, KIND_TITLES
from comity.evidence import offers, queries
from comity.kit.db import transaction
from comity.kit.errors import ComityError, Forbidden
from comity.protocol.acts import Act
from comity.protocol.errors import InvalidActBody
from comity.web.core import CheckedForm, PageUser, flash_query, flash_value, node_of, render
from comity.web.i18n import N_

log = logging.getLogger("comity.web")

router = APIRouter(include_in_schema=False)

STATE_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "submitted": N_("Sent"),
    "delivered": N_("Delivered"),
    "acknowledged": N_("Acknowledged"),
    "information-requested": N_("Information requested"),
    "consulting": N_("Consultation"),
    "conditions-proposed": N_("Conditions proposed"),
    "conditions-declined": N_("Conditions declined"),
    "postponed": N_("Postponed"),
    "accepted": N_("Accepted"),
    "partially-executed": N_("Partially executed"),
    "executed": N_("Executed"),
    "refused": N_("Refused"),
    "withdrawn": N_("Withdrawn"),
    "closed": N_("Closed"),
}

ACT_LABELS: dict[str, str] = {
    "submit": N_("Send the request"),
    "deliver": N_("Delivered"),
    "acknowledge": N_("Acknowledge receipt"),
    "request-information": N_("Request information"),
    "provide-information": N_("Provide information"),
    "accept": N_("Accept"),
    "propose-conditions": N_("Propose conditions"),
    "accept-conditions": N_("Accept the conditions"),
    "decline-conditions": N_("Decline the conditions"),
    "consult": N_("Consult the requesting party"),
    "postpone": N_("Postpone"),
    "refuse": N_("Refuse"),
    "execute-partially": N_("Execute in part"),
    "execute": N_("Execute"),
    "status-query": N_("Ask for the status"),
    "status-report": N_("Report the status"),
    "extend": N_("Extend the preservation"),
    "confirm-formally": N_("Confirm formally"),
    "withdraw": N_("Withdraw the request"),
    "notify-disclosure": N_("Notify a disclosure"),
    "request-consent": N_("Ask for consent"),
    "consent": N_("Give consent"),
    "close": N_("Close the request"),
}

DIRECTION_LABELS: dict[str, str] = {
    "incoming": N_("Incoming"),
    "outgoing": N_("Outgoing"),
}

SIDE_LABELS: dict[str, str] = {
    "requesting": N_("Requesting party"),
    "requested": N_("Requested party"),
}

RECEIPT_LABELS: dict[str, str] = {
    "delivered": N_("Delivered (signed receipt)"),
    "retrieved": N_("Opened by the requested party (signed receipt)"),
    "not-delivered": N_("Not delivered in time (evidence)"),
    "not-retrieved": N_("Not opened in time (evidence)"),
}

TIMER_LABELS: dict[str, str] = {
    "acknowledgement-expected": N_("Acknowledgement expected"),
    "request-deadline": N_("Deadline given by the requesting party"),
    "law-deadline": N_("Time limit under the instrument"),
    "status-reminder": N_("Status reminder"),
    "status-answer-due": N_("Answer to the status query due"),
    "preservation-warning": N_("Preservation expiry warning"),
    "preservation-expiry": N_("Preservation expires"),
    "duty-ack-deadline": N_("Duty officer must act"),
    "receipt-deadline": N_("Delivery receipt expected"),
    "retrieval-deadline": N_("Opening by the requested party expected"),
    "deadline": N_("Deadline given by the requesting party"),
}

TIMER_STATUS_LABELS: dict[str, str] = {
    "pending": N_("Pending"),
    "fired": N_("Reached"),
    "cancelled": N_("Stopped"),
}


def ground_titles() -> dict[str, str]:
    """Ground code → its title in the law data (translated in the documents' catalog, like
    every law-data text: `comity.documents.messages.law_texts`)."""
    from comity.law import get_law

    return {code: ground.title for code, ground in get_law().grounds.items()}


CONSIDERING_LABELS: dict[str, str] = {
    "partial": N_("Partial execution"),
    "conditional": N_("Execution on conditions"),
}


@dataclass(frozen=True)
class FormField:
    """One input of an act's form. `type`: text, textarea, date, lines (one item a line, sent
    as a list), check (a box, sent as a boolean), grounds, considering, packages."""

    name: str
    type: str
    label: str
    required: bool = False
    hint: str = ""
    #: The label of the value on the timeline, where it differs from the form's label.
    shown: str = ""

    @property
    def title(self) -> str:
        return self.shown or self.label


NOTE = FormField("note", "textarea", N_("Note (optional)"), shown=N_("Note"))
REASONS = FormField("reasons", "textarea", N_("Reasons"), required=True)

ACT_FORMS: dict[str, list[FormField]] = {
    "submit": [],
    "acknowledge": [NOTE],
    "request-information": [
        FormField("questions", "textarea", N_("Questions to the requesting party"), True)
    ],
    "provide-information": [FormField("information", "textarea", N_("Information"), True)],
    "accept": [
        FormField(
            "preserved_until",
            "date",
            N_("Data preserved until"),
            hint=N_("Required for a preservation request; at least the instrument's minimum."),
        ),
        NOTE,
    ],
    "propose-conditions": [
        FormField(
            "conditions", "lines", N_("Conditions (one per line)"), True, shown=N_("Conditions")
        ),
        FormField(
            "permitted_proceedings",
            "lines",
            N_("Permitted proceedings (one per line)"),
            shown=N_("Permitted proceedings"),
        ),
        FormField("confidential", "check", N_("Keep the request and its execution confidential")),
    ],
    "accept-conditions": [NOTE],
    "decline-conditions": [REASONS],
    "consult": [
        FormField("subject", "textarea", N_("Subject of the consultation"), True),
        FormField("considering", "considering", N_("Considering")),
    ],
    "postpone": [
        FormField("grounds", "grounds", N_("Grounds"), True),
        REASONS,
        FormField("until", "date", N_("Postponed until (optional)"), shown=N_("Postponed until")),
    ],
    "refuse": [FormField("grounds", "grounds", N_("Grounds"), True), REASONS],
    "execute-partially": [
        FormField("summary", "textarea", N_("Summary of what is provided")),
        FormField("packages", "packages", N_("Evidence packages to send")),
    ],
    "execute": [
        FormField("summary", "textarea", N_("Summary of what is provided")),
        FormField("packages", "packages", N_("Evidence packages to send")),
    ],
    "status-query": [NOTE],
    "status-report": [FormField("status", "textarea", N_("Status"), True)],
    "extend": [
        FormField(
            "preserved_until",
            "date",
            N_("New date: preserved until"),
            True,
            shown=N_("Preserved until"),
        ),
        NOTE,
    ],
    "confirm-formally": [
        FormField("reference", "text", N_("Reference of the formal request"), True),
        NOTE,
    ],
    "withdraw": [REASONS],
    "notify-disclosure": [
        FormField("description", "textarea", N_("What will be disclosed, and why"), True),
        FormField("prior", "check", N_("Notified before the disclosure")),
    ],
    "request-consent": [
        FormField("to", "text", N_("Party to pass the material to"), True),
        FormField("purpose", "textarea", N_("Purpose"), True),
    ],
    "consent": [FormField("to", "text", N_("Party the material may be passed to"), True), NOTE],
    "close": [NOTE],
}

#: Acts whose grounds come from the law data, and which part of it.
GROUND_PARTS = {"refuse": "refusal", "postpone": "postponement"}
#: Acts that send evidence packages with them.
WITH_PACKAGES = {"execute", "execute-partially"}
#: Acts shown as a danger button (they end or refuse the request).
DANGER_ACTS = {"refuse", "withdraw", "decline-conditions", "close"}

FIELD_REQUIRED = N_("This field is required.")
FIELD_DATE = N_("Enter a date as YYYY-MM-DD.")


def _act_of(value: str) -> Act:
    try:
        act = Act(value)
    except ValueError:
        raise InvalidActBody(f"unknown act {value!r}", field="act") from None
    if act is Act.DELIVER or act.value not in ACT_FORMS:
        raise InvalidActBody(f"the act {value!r} cannot be performed from this page", field="act")
    return act


class FormErrors(ComityError):
    """Fields of an act's form are missing or malformed: the page is shown again."""

    status_code = 422
    code = "invalid_form"


def body_from_form(act: Act, form: Any) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """The act's body from the posted form, the packages to send, and errors per field (each
    error a message id, translated where it is shown)."""
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    packages: list[str] = []
    for item in ACT_FORMS[act.value]:
        if item.type == "packages":
            packages = [str(v) for v in form.getlist("packages") if str(v)]
            continue
        if item.type in ("grounds", "considering"):
            values = [str(v) for v in form.getlist(item.name) if str(v)]
            if item.required and not values:
                errors[item.name] = FIELD_REQUIRED
            if values or not item.required:
                body[item.name] = values
            continue
        if item.type == "check":
            body[item.name] = str(form.get(item.name, "")) in ("1", "on", "true", "yes")
            continue
        raw = str(form.get(item.name, "")).strip()
        if not raw:
            if item.required:
                errors[item.name] = FIELD_REQUIRED
            continue
        if item.type == "lines":
            body[item.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif item.type == "date":
            try:
                body[item.name] = date.fromisoformat(raw).isoformat()
            except ValueError:
                errors[item.name] = FIELD_DATE
        else:
            body[item.name] = raw
    return body, packages, errors


def body_rows(act: str, body: dict[str, Any] | None) -> list[tuple[FormField, Any]]:
    """What an act's body says, field by field in the order of its form, for the timeline:
    the other side's questions, information, dates, conditions... (empty values left out)."""
    if not body:
        return []
    rows = []
    for item in ACT_FORMS.get(act, []):
        value = body.get(item.name)
        if value is None or value == "" or value == []:
            continue
        if item.type == "date" and isinstance(value, str):
            with contextlib.suppress(ValueError):  # else shown as sent
                value = date.fromisoformat(value)
        rows.append((item, value))
    return rows


def _page(
    request: Request,
    user: Any,
    case_id: str,
    *,
    status_code: int = 200,
    open_form: str = "",
    errors: dict[str, str] | None = None,
    posted: dict[str, Any] | None = None,
    refusal: ComityError | None = None,
) -> HTMLResponse:
    permissions.require_any(set(user.roles), permissions.READ_ROLES, "reading a request")
    node = node_of(request)
    with transaction(node.sessions) as session:
        case = cases.open_case(session, node, case_id, user.username)
        events = cases.events(session, case.id)
        entries = timeline.timeline(session, case, events)
        acts = [a.value for a in timeline.allowed_acts(case, user.roles)]
        grounds = {
            act: timeline.grounds(session, case, part)
            for act, part in GROUND_PARTS.items()
            if act in acts
        }
        packages = []
        if WITH_PACKAGES & set(acts):
            # A package already sent to the counterpart is not offered again.
            packages = [
                p
                for p in queries.list_packages(session, case.id)
                if queries.sent_to(session, p.id, case.counterpart) is None
            ]
            audit.record(
                session, "evidence:packages:listed", user.username, case.id, count=len(packages)
            )
        labels = timeline.field_labels(case)
        content = case.request if isinstance(case.request, dict) else {}
        pending = [e for e in entries if e.type == timeline.TIMER and e.status == "pending"]
        done, _, done_unverified = flash_value(request, user, "done").partition("|")
        page = render(
            request,
            "requests/show.html",
            user,
            status_code=status_code,
            case=case,
            content=content,
            labels=labels,
            entries=entries,
            acts=acts,
            forms=ACT_FORMS,
            grounds=grounds,
            packages=packages,
            pending=pending,
            ended=case.state in workflow.ENDED,
            done=done,
            done_unverified=done_unverified,
            body_rows=body_rows,
            open_form=open_form or request.query_params.get("act", ""),
            errors=errors or {},
            posted=posted or {},
            refusal=refusal,
            STATE_LABELS=STATE_LABELS,
            ACT_LABELS=ACT_LABELS,
            SIDE_LABELS=SIDE_LABELS,
            RECEIPT_LABELS=RECEIPT_LABELS,
            TIMER_LABELS=TIMER_LABELS,
            TIMER_STATUS_LABELS=TIMER_STATUS_LABELS,
            GROUND_TITLES=ground_titles(),
            CONSIDERING_LABELS=CONSIDERING_LABELS,
            DANGER_ACTS=DANGER_ACTS,
            KIND_TITLES=KIND_TITLES,
            INSTRUMENT_TITLES=INSTRUMENT_TITLES,
            CHANNELS=CHANNELS,
            channel=timeline.channel(case),
            emergency=case.kind in inbox.emergency_kinds(),
        )
    return page


@router.get("/requests/{case_id}")
def show_request(request: Request, user: PageUser, case_id: str) -> Response:
    return _page(request, user, case_id)


@router.post("/requests/{case_id}/acts")
def perform_act(request: Request, user: PageUser, form: CheckedForm, case_id: str) -> Response:
    node = node_of(request)
    act = _act_of(str(form.get("act", "")))
    try:
        permissions.require_act(set(user.roles), act)
    except Forbidden as exc:
        audit.record_refusal(
            node.sessions, "cases:act:refused", user.username, case_id, exc, act=act.value
        )
        raise
    body, packages, errors = body_from_form(act, form)
    posted = {k: form.getlist(k) for k in form if k != "csrf"}
    if errors:
        return _page(
            request,
            user,
            case_id,
            status_code=422,
            open_form=act.value,
            errors=errors,
            posted=posted,
        )
    if packages and act.value not in WITH_PACKAGES:
        raise InvalidActBody("only an execution sends evidence packages", field="packages")
    try:
        with transaction(node.sessions) as session:
            case = cases.perform(session, node, case_id, act, body, user.username)
            unverified = "; ".join(sorted({w.citation for w in cases.act_warnings(session)}))
            for package_id in packages:
                package = queries.get_package(session, package_id)
                if package.case_id != case.id:
                    raise InvalidActBody(
                        f"evidence package {package_id} does not belong to this request",
                        field="packages",
                    )
                offers.offer(session, node, package_id, case.counterpart, user.username)
    except ComityError as exc:
        audit.record_refusal(
            node.sessions, "cases:act:refused", user.username, case_id, exc, act=act.value
        )
        if exc.details.get("field") and exc.status_code in (400, 409, 422):
            # The law or the form refused a field: show the form again with the reason.
            return _page(
                request,
                user,
                case_id,
                status_code=exc.status_code,
                open_form=act.value,
                posted=posted,
                refusal=exc,
            )
        raise
    # The confirmation carries the articles of unverified rules that would have refused the
    # act ("refuse|uncc 40"), so the page can say it went through only because of that.
    done = f"{act.value}|{unverified}" if unverified else act.value
    return RedirectResponse(
        f"/requests/{case_id}?{flash_query(user, 'done', done)}", status_code=303
    )
