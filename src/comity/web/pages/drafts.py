"""Drafting a request: the list of drafts, the two-step wizard (requested party and kind,
then the party's profile and only the fields the kind needs, with live findings), the draft
with its formal document; the messages of these pages and of the approval screen
(`pages/approvals.py`), and each finding's sentence in the reader's language.

The page parses the form, calls `comity.requests.wizard` (which fields, which route, which
languages, the document a form describes) and `comity.requests.service` (which checks the
roles and audits), and renders; the law's findings come from the same check as the API's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from comity.audit import service as audit
from comity.documents.messages import CHANNELS, INSTRUMENT_TITLES, KIND_TITLES
from comity.documents.render import render_request
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.law import Finding, get_law
from comity.nodes.runtime import Node
from comity.requests import permissions, service, wizard
from comity.requests.form import FormField, form_values
from comity.requests.models import DraftStatus, RequestDraft
from comity.web import i18n
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
from comity.web.i18n import N_

router = APIRouter(include_in_schema=False)

STATUS_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "awaiting": N_("Awaiting approval"),
    "approved": N_("Approved"),
    "dispatched": N_("Dispatched"),
}
STATUS_BADGES = {"draft": "info", "awaiting": "expiring", "approved": "ok", "dispatched": "ok"}

SEVERITY_LABELS: dict[str, str] = {
    "blocking": N_("Blocking"),
    "warning": N_("Warning"),
    "note": N_("Note"),
}

GROUP_TITLES: dict[str, str] = {
    "request": N_("The request"),
    "authorities": N_("Authorities"),
    "facts": N_("The case"),
    "sought": N_("What is sought"),
    "undertakings": N_("Undertakings"),
}

# Fields the form adds to the law's elements; the elements' own labels are translated in the
# formal documents' catalog.
EXTRA_LABELS: dict[str, str] = {
    "language": N_("The language of the request"),
    "conduct": N_("The conduct concerned"),
    "measures": N_("The measures requested"),
}

INPUT_HINTS: dict[str, str] = {
    "lines": N_("One item per line."),
    "conduct": N_(
        "Tick every category that applies: dual criminality compares conduct, not the names "
        "of offences."
    ),
    "language": N_("Only the languages the requested party accepts are offered."),
}


def conduct_titles() -> dict[str, str]:
    """Conduct category → its title in the law data (translated in the documents' catalog,
    like every law-data text: `comity.documents.messages.law_texts`)."""
    return {code: item.title for code, item in get_law().conduct_categories.items()}


DECLARATION_TYPES: dict[str, str] = {
    "declaration": N_("Declaration"),
    "reservation": N_("Reservation"),
}

CONTACT_ROLES: dict[str, str] = {
    "central-authority": N_("Central authority"),
    "24/7-contact": N_("24/7 point of contact"),
    "designated-authority": N_("Designated authority"),
    "legal-representative": N_("Legal representative"),
    "extradition-authority": N_("Extradition authority"),
}

# Refusals of approve, reopen and dispatch, by error code, in the reader's language; the
# system's own wording is shown beside them.
REFUSALS: dict[str, str] = {
    "four_eyes": N_(
        "Four eyes: you wrote or edited this request, so you cannot approve it. Another "
        "authorising officer must approve it."
    ),
    "blocking_findings": N_(
        "The request cannot go ahead while a blocking finding remains. Send it back to the "
        "drafter to fix it."
    ),
    "stale_draft": N_(
        "Someone changed this draft after you opened it. Read the current version and try again."
    ),
    "draft_status": N_("The draft's status does not allow this action any more."),
    "forbidden": N_("Your roles do not allow this action."),
}

DONE: dict[str, str] = {
    "approve": N_("Approved. The request can now be dispatched."),
    "reopen": N_("Sent back to drafting; the approval is withdrawn."),
}


# --- findings, in the reader's language --------------------------------------------------

#: The sentence(s) shown for each finding code (`comity.law.FINDING_CODES`), chosen by
#: `_text_keys`; `%(name)s` are filled from the finding's params, law-data texts translated.
FINDING_TEXTS: dict[str, str] = {
    "missing-element:blocking": N_("Missing: %(label)s"),
    "missing-element:warning": N_("Should be given: %(label)s"),
    "missing-element:note": N_("Not given: %(label)s"),
    "must-be-true": N_("Must be confirmed: %(label)s"),
    "mistyped": N_("Not in the expected form: %(label)s"),
    "language-missing": N_("Missing: the language of the request."),
    "language-accepted": N_("The requested party accepts: %(languages)s."),
    "no-languages-notified": N_(
        "The requested party has notified no accepted languages; check before sending."
    ),
    "language-not-accepted": N_(
        "The requested party does not accept this language; it accepts: %(languages)s. "
        "Translate the request."
    ),
    "unknown-conduct": N_(
        "Unknown conduct categories: %(conduct)s. Choose them from the list: dual criminality "
        "compares conduct, not the names of offences."
    ),
    "conduct-missing": N_("Give the conduct concerned so that dual criminality can be checked."),
    "conduct-not-declared": N_(
        "The requested party has not declared which conduct its law covers; dual criminality "
        "cannot be checked."
    ),
    "dual-criminality": N_(
        "The requested party's law does not cover this conduct: %(conduct)s. It may refuse for "
        "lack of dual criminality."
    ),
    "declaration-not-modelled:declaration": N_(
        "The requested party made a declaration under %(provision)s that comity cannot apply; "
        "check it by hand."
    ),
    "declaration-not-modelled:reservation": N_(
        "The requested party made a reservation under %(provision)s that comity cannot apply; "
        "check it by hand."
    ),
    "declaration-effect:declaration": N_("Declaration of the requested party: %(effect)s"),
    "declaration-effect:reservation": N_("Reservation of the requested party: %(effect)s"),
    "treaty-displaces": N_(
        "Treaty %(treaty)s binds the two parties: its procedure applies instead of the general "
        "procedure of the %(instrument)s."
    ),
    "law-error:no_applicable_instrument": N_("No instrument allows this request to this party."),
    "law-error:fallback": N_("Send instead: %(kind)s."),
    "law-error:instrument_not_in_force": N_(
        "The chosen legal basis does not bind both parties on this date."
    ),
    "law-error:unknown_party": N_("A party named in the request is not in the directory."),
    "law-error:unknown_instrument": N_("The chosen legal basis is not known."),
    "law-error": N_(
        "The law cannot be applied to this request as it stands; check the field concerned."
    ),
}


@dataclass(frozen=True, slots=True)
class Arg:
    """A value put into a finding's sentence: `text` as it is (names, codes), `msgid` to
    translate, `msgids` to translate each and join with `sep`."""

    how: str
    value: Any
    sep: str = "; "


@dataclass(frozen=True, slots=True)
class ShownFinding:
    """A finding ready for a page: `texts` are the message ids of its sentence(s) in order,
    `args` fill their placeholders, each translated as it says."""

    severity: str
    element: str
    citation: str
    verified: bool
    code: str
    texts: tuple[str, ...]
    args: dict[str, Arg]


def _text_keys(finding: Finding) -> list[str]:
    params = finding.params
    code = finding.code
    if code == "missing-element":
        return [f"{code}:{finding.severity}"]
    if code == "language-missing":
        return [code, "language-accepted"] if params.get("languages") else [code]
    if code in ("declaration-effect", "declaration-not-modelled"):
        kind = "reservation" if params.get("type") == "reservation" else "declaration"
        return [f"{code}:{kind}"]
    if code == "law-error":
        error = f"law-error:{params.get('error')}"
        keys = [error if error in FINDING_TEXTS else code]
        if params.get("fallback_kind") in KIND_TITLES:
            keys.append("law-error:fallback")
        return keys
    return [code if code in FINDING_TEXTS else "law-error"]


def _label(name: str, params: Mapping[str, Any], fields: dict[str, FormField]) -> Arg:
    if name in EXTRA_LABELS:
        return Arg("msgid", EXTRA_LABELS[name])
    if name in fields:
        return Arg("msgid", fields[name].label)
    if params.get("label"):
        return Arg("msgid", str(params["label"]))
    return Arg("text", name)


def _args(finding: Finding, fields: dict[str, FormField]) -> dict[str, Arg]:
    params = finding.params
    law = get_law()
    args: dict[str, Arg] = {}
    if "field" in params:
        args["label"] = _label(str(params["field"]), params, fields)
    if "languages" in params:
        names = [i18n.LANGUAGES[c].name if c in i18n.LANGUAGES else c for c in params["languages"]]
        args["languages"] = Arg("text", ", ".join(names))
    if "conduct" in params:
        codes = [str(c) for c in params["conduct"]]
        if all(c in law.conduct_categories for c in codes):
            titles = [law.conduct_categories[c].title for c in codes]
            args["conduct"] = Arg("msgids", titles)
        else:
            args["conduct"] = Arg("text", ", ".join(codes))
    if finding.code == "declaration-effect" and params.get("effect") in law.declaration_effects:
        args["effect"] = Arg("msgid", law.declaration_effects[params["effect"]].effect_text)
    if "article" in params:
        args["provision"] = Arg("text", f"{params.get('instrument', '')} {params['article']}")
    if "treaty" in params:
        args["treaty"] = Arg("text", str(params["treaty"]))
    if "instrument" in params:
        instrument = str(params["instrument"])
        known = instrument in INSTRUMENT_TITLES
        args["instrument"] = Arg(
            *(("msgid", INSTRUMENT_TITLES[instrument]) if known else ("text", instrument))
        )
    if params.get("fallback_kind") in KIND_TITLES:
        args["kind"] = Arg("msgid", KIND_TITLES[params["fallback_kind"]])
    return args


def shown(found: list[Finding], fields: dict[str, FormField]) -> list[ShownFinding]:
    """Each finding with the sentence the page shows for it, in the reader's language."""
    result = [
        ShownFinding(
            finding.severity,
            finding.element,
            finding.citation,
            finding.verified,
            finding.code,
            tuple(FINDING_TEXTS[key] for key in _text_keys(finding)),
            _args(finding, fields),
        )
        for finding in found
    ]
    order = {"blocking": 0, "warning": 1, "note": 2}
    return sorted(result, key=lambda f: order.get(f.severity, 3))


# --- what a page about a draft needs -------------------------------------------------------


def officer_of(user: WebUser) -> service.Officer:
    """The signed-in person as the drafting service's officer (shared with pages/approvals)."""
    return service.Officer(user=user.username, roles=user.roles)


def _getlist(form: FormData) -> Callable[[str], list[str]]:
    """The text values posted for an input (a file upload is no value of a request field)."""
    return lambda name: [v for v in form.getlist(name) if isinstance(v, str)]


def _check(session: Session, document: dict[str, Any], plan: wizard.Wizard) -> list[ShownFinding]:
    return shown(wizard.check(session, document), {f.name: f for f in plan.fields})


def _context(
    plan: wizard.Wizard, found: list[ShownFinding], values: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    per_field, general = wizard.by_field(found, plan.fields)
    unavailable = shown([plan.unavailable], {})[0] if plan.unavailable else None
    return dict(
        wizard=plan,
        unavailable=unavailable,
        groups=wizard.grouped(plan.fields),
        values=values,
        findings=found,
        per_field=per_field,
        general=general,
        blocking=wizard.blocking(found),
        language_options=_language_options(plan.accepted),
        field_errors=extra.pop("field_errors", {}),
        checked=extra.pop("checked", False),
        **_labels(),
        **extra,
    )


def _language_options(accepted: list[str]) -> list[tuple[str, str]]:
    """(code, name) of the languages offered for the request."""
    return [
        (c, i18n.LANGUAGES[c].name if c in i18n.LANGUAGES else c)
        for c in wizard.offered_languages(accepted)
    ]


def _labels() -> dict[str, Any]:
    return dict(
        KIND_TITLES=KIND_TITLES,
        INSTRUMENT_TITLES=INSTRUMENT_TITLES,
        CHANNELS=CHANNELS,
        STATUS_LABELS=STATUS_LABELS,
        STATUS_BADGES=STATUS_BADGES,
        SEVERITY_LABELS=SEVERITY_LABELS,
        GROUP_TITLES=GROUP_TITLES,
        EXTRA_LABELS=EXTRA_LABELS,
        INPUT_HINTS=INPUT_HINTS,
        CONDUCT_TITLES=conduct_titles(),
        KNOWN_EFFECTS=frozenset(get_law().declaration_effects),
        DECLARATION_TYPES=DECLARATION_TYPES,
        CONTACT_ROLES=CONTACT_ROLES,
        REFUSALS=REFUSALS,
        DONE=DONE,
        LANGUAGE_NAMES={c: item.name for c, item in i18n.LANGUAGES.items()},
    )


# --- the list ------------------------------------------------------------------------------


@router.get("/drafts")
def drafts_page(request: Request, user: PageUser) -> Response:
    node = node_of(request)
    officer = officer_of(user)
    with transaction(node.sessions) as session:
        drafts = service.list_drafts(session, officer)
        rows = []
        for draft in drafts:
            blocking = 0
            if draft.status == DraftStatus.DRAFT.value:
                blocking = wizard.blocking(service.findings(session, draft))
            rows.append(
                {
                    "draft": draft,
                    "status": wizard.display_status(draft, blocking),
                    "blocking": blocking,
                    "mine": user.username in draft.editors,
                }
            )
        audit.record(session, "web:drafts:list:read", user.username, "", count=len(rows))
    may_approve = user.has(*permissions.APPROVE_ROLES)
    waiting = [r for r in rows if may_approve and r["status"] == "awaiting" and not r["mine"]]
    return render(
        request,
        "drafts/list.html",
        user,
        rows=rows,
        waiting=waiting,
        may_draft=user.has(*permissions.DRAFT_ROLES),
        **_labels(),
    )


# --- the wizard ----------------------------------------------------------------------------


@router.get("/drafts/new")
def new_draft_page(
    request: Request,
    user: PageUser,
    party: str = "",
    kind: str = "",
    instrument: str = "",
) -> Response:
    require_roles(user, permissions.DRAFT_ROLES, "drafting a request")
    node = node_of(request)
    with transaction(node.sessions) as session:
        directory = service.current_directory(session)
        parties = wizard.addressees(directory, node.participant_id)
        step_errors = wizard.step_errors((p[0] for p in parties), party, kind)
        if not party or not kind or step_errors:
            return render(
                request,
                "drafts/new.html",
                user,
                status_code=400 if step_errors else 200,
                parties=parties,
                kinds=list(get_law().kinds),
                party=party,
                kind=kind,
                step_errors=step_errors,
                **_labels(),
            )
        plan = wizard.for_party(session, node.participant_id, party, kind, instrument or None)
        values = wizard.initial_values(plan)
    return render(request, "drafts/form.html", user, **_context(plan, [], values, draft=None))


def _plan_of_form(session: Session, node: Node, form: FormData) -> wizard.Wizard:
    return wizard.for_form(
        session,
        node.participant_id,
        str(form.get("requested_party", "")),
        str(form.get("kind", "")),
        str(form.get("instrument", "")) or None,
    )


@router.post("/drafts/check")
def check_fragment(request: Request, user: PageUser, form: CheckedForm) -> Response:
    """The findings on the form as it stands (htmx, on change): a summary, and the findings
    beside each field swapped in out of band."""
    require_roles(user, permissions.READ_ROLES, "checking a request")
    node = node_of(request)
    with transaction(node.sessions) as session:
        plan = _plan_of_form(session, node, form)
        document, _errors = wizard.document_of_form(plan, node.participant_id, _getlist(form))
        found = _check(session, document, plan)
    return render(request, "drafts/_findings.html", user, **_context(plan, found, {}, checked=True))


@router.post("/drafts")
def create_draft(request: Request, user: PageUser, form: CheckedForm) -> Response:
    """`act=check` shows the findings (without JavaScript); `act=save` creates the draft."""
    require_roles(user, permissions.DRAFT_ROLES, "drafting a request")
    node = node_of(request)
    act = str(form.get("act", "save"))
    with transaction(node.sessions) as session:
        plan = _plan_of_form(session, node, form)
        document, errors = wizard.document_of_form(plan, node.participant_id, _getlist(form))
        if act != "save" or errors:
            found = _check(session, document, plan)
            values = form_values(document, plan.fields)
            return render(
                request,
                "drafts/form.html",
                user,
                status_code=422 if errors else 200,
                **_context(plan, found, values, draft=None, field_errors=errors, checked=True),
            )
        draft, _found = service.create_draft(
            session, node, plan.kind, plan.party, document, officer_of(user)
        )
        draft_id = draft.id
    return RedirectResponse(
        f"/drafts/{draft_id}?" + flash_query(user, "saved", "draft"), status_code=303
    )


# --- one draft -----------------------------------------------------------------------------


def draft_context(
    session: Session, user: WebUser, draft: RequestDraft, plan: wizard.Wizard, **extra: Any
) -> dict[str, Any]:
    found = shown(service.findings(session, draft), {f.name: f for f in plan.fields})
    values = extra.pop("values", None) or form_values(draft.document, plan.fields)
    checked_findings = extra.pop("findings", None)
    extra.setdefault("checked", True)
    editable = draft.status == DraftStatus.DRAFT.value and user.has(*permissions.DRAFT_ROLES)
    return _context(
        plan,
        found if checked_findings is None else checked_findings,
        values,
        draft=draft,
        status=wizard.display_status(draft, wizard.blocking(found)),
        editable=editable,
        document_languages=wizard.document_languages(plan.accepted),
        may_approve=user.has(*permissions.APPROVE_ROLES),
        may_dispatch=user.has(*permissions.DISPATCH_ROLES),
        may_reopen=user.has(*permissions.REOPEN_ROLES),
        wrote_it=user.username in draft.editors,
        **extra,
    )


@router.get("/drafts/{draft_id}")
def draft_page(request: Request, user: PageUser, draft_id: str) -> Response:
    node = node_of(request)
    with transaction(node.sessions) as session:
        draft = service.get_draft(session, draft_id, officer_of(user))
        plan = wizard.for_draft(session, draft)
        saved = bool(flash_value(request, user, "saved"))
        context = draft_context(session, user, draft, plan, saved=saved)
        return render(request, "drafts/draft.html", user, **context)


@router.post("/drafts/{draft_id}")
def edit_draft(request: Request, user: PageUser, draft_id: str, form: CheckedForm) -> Response:
    """`act=check` shows the findings of the edited form; `act=save` saves it (refused when
    someone saved in between: the version is part of the form)."""
    require_roles(user, permissions.DRAFT_ROLES, "editing a request draft")
    node = node_of(request)
    act = str(form.get("act", "save"))
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        raise ComityError("version: missing or not a number", field="version") from None
    with transaction(node.sessions) as session:
        draft = service.get_draft(session, draft_id, officer_of(user))
        plan = wizard.for_draft(session, draft)
        document, errors = wizard.document_of_form(
            plan, node.participant_id, _getlist(form), base=draft.document
        )
        if act != "save" or errors:
            found = _check(session, document, plan)
            context = draft_context(
                session,
                user,
                draft,
                plan,
                values=form_values(document, plan.fields),
                findings=found,
                field_errors=errors,
                checked=True,
            )
            return render(
                request, "drafts/draft.html", user, status_code=422 if errors else 200, **context
            )
        service.edit_draft(session, draft_id, version, document, officer_of(user))
    return RedirectResponse(
        f"/drafts/{draft_id}?" + flash_query(user, "saved", "draft"), status_code=303
    )


@router.get("/drafts/{draft_id}/document.{fmt}")
def draft_document(
    request: Request, user: PageUser, draft_id: str, fmt: str, lang: str = ""
) -> Response:
    """The formal document of the draft, in a language the addressee accepts."""
    node = node_of(request)
    if fmt not in ("pdf", "docx"):
        raise ComityError(f"format: {fmt!r} is not supported; use pdf or docx", field="format")
    with transaction(node.sessions) as session:
        draft = service.get_draft(session, draft_id, officer_of(user))
        directory = service.current_directory(session)
        document = {**draft.document, "kind": draft.kind}
        audit.record(
            session, "web:drafts:document:read", user.username, draft.id, format=fmt, lang=lang
        )
    content = render_request(document, directory, lang or "en", fmt, service.today())
    media = {
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }[fmt]
    name = f"request-{draft_id[:8]}-{lang or 'en'}.{fmt}"
    return Response(
        content,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
