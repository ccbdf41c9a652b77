"""Drafting a request and approving it: the list of drafts, the two-step wizard (requested
party and kind, then the party's profile and only the fields the kind needs, with live
findings), the draft with its formal document, and the approval screen (four eyes, then
dispatch).

Every read and write goes through `comity.requests.service`, which checks the roles and
audits; the law's findings come from the same check as the API's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from comity.audit import service as audit
from comity.documents.content import LANGUAGES as DOCUMENT_LANGUAGES
from comity.documents.messages import CHANNELS, INSTRUMENT_TITLES, KIND_TITLES
from comity.documents.render import render_request
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.law import Finding, LawError, applicable_instruments, error_finding, get_law, route
from comity.law.routing import Route
from comity.nodes.runtime import Node
from comity.requests import permissions, service
from comity.requests.form import GROUPS, FormField, document_from_form, form_fields, form_values
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

MAX_TEXT = 20_000

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


def _officer(user: WebUser) -> service.Officer:
    return service.Officer(user=user.username, roles=user.roles)


def _participants(session: Session, us: str) -> list[tuple[str, str, str]]:
    """(id, name, type) of every party or provider one may write to."""
    directory = service.current_directory(session)
    return [
        (p.id, p.name, p.type)
        for p in directory.participants
        if p.id != us and p.type in ("state", "provider")
    ]


@dataclass
class Wizard:
    """The form for one (requested party, kind, instrument): profile, route and fields."""

    party: str
    kind: str
    instrument: str
    explicit: bool
    profile: Any
    route: Route | None
    unavailable: ShownFinding | None
    instruments: list[str]
    fields: list[FormField]
    accepted: list[str]


def _wizard(session: Session, us: str, party: str, kind: str, instrument: str | None) -> Wizard:
    law = get_law()
    if kind not in law.kinds:
        raise ComityError(f"kind: {kind!r} is not a request kind", field="kind")
    on = service.today()
    profile = service.profile(session, us, party, on)
    directory = service.current_directory(session)
    try:
        usable = [
            a.instrument
            for a in applicable_instruments(directory, us, party, on, kind)
            if a.usable and kind in law.instruments[a.instrument].kinds
        ]
    except LawError:
        usable = []
    explicit = instrument if instrument in usable else None
    chosen: Route | None = None
    unavailable: ShownFinding | None = None
    try:
        chosen = route(directory, us, party, kind, on, explicit)
    except LawError as exc:
        unavailable = shown([error_finding(exc)], {})[0]
    name = explicit or (chosen.instrument if chosen else "")
    fields = form_fields(kind, name) if name else []
    accepted = list(profile.languages)
    if chosen is not None and chosen.channel == "provider-direct":
        addressee = next((p for p in directory.participants if p.id == chosen.to), None)
        if addressee is not None and addressee.languages:
            accepted = list(addressee.languages)
    return Wizard(
        party=party,
        kind=kind,
        instrument=name,
        explicit=explicit is not None,
        profile=profile,
        route=chosen,
        unavailable=unavailable,
        instruments=usable,
        fields=fields,
        accepted=accepted,
    )


def _grouped(fields: list[FormField]) -> list[tuple[str, list[FormField]]]:
    return [
        (g, [f for f in fields if f.group == g])
        for g in GROUPS
        if any(f.group == g for f in fields)
    ]


def _language_options(accepted: list[str]) -> list[tuple[str, str]]:
    """(code, name) of the languages offered for the request: those the party accepts, else
    the six UN languages."""
    codes = accepted or list(i18n.LANGUAGES)
    return [(c, i18n.LANGUAGES[c].name if c in i18n.LANGUAGES else c) for c in codes]


def _document_languages(accepted: list[str]) -> list[str]:
    """The languages the formal document can be rendered in for this addressee."""
    if not accepted:
        return list(DOCUMENT_LANGUAGES)
    return [lang for lang in DOCUMENT_LANGUAGES if lang in accepted]


def _form_document(
    form: FormData, us: str, wizard: Wizard, base: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The request document a form describes, and an error per field that cannot be taken."""
    errors: dict[str, str] = {}
    for field in wizard.fields:
        for value in form.getlist(field.name):
            if isinstance(value, str) and len(value) > MAX_TEXT:
                errors[field.name] = "too-long"
    document = document_from_form(
        wizard.kind,
        us,
        wizard.party,
        wizard.instrument if wizard.explicit else None,
        wizard.fields,
        lambda name: [v for v in form.getlist(name) if isinstance(v, str)],
    )
    if base is not None:
        # Keep what the form does not show (e.g. written through the API), drop what it
        # shows and the drafter emptied.
        shown_names = {f.name for f in wizard.fields} | {"instrument"}
        kept = {k: v for k, v in base.items() if k not in shown_names}
        document = {**kept, **document}
    return document, errors


def _check(session: Session, document: dict[str, Any], wizard: Wizard) -> list[ShownFinding]:
    try:
        found = service.check_document(session, document).findings
    except ComityError as exc:
        found = [error_finding(exc)]
    return shown(found, {f.name: f for f in wizard.fields})


def _by_field(
    found: list[ShownFinding], fields: list[FormField]
) -> tuple[dict[str, list[ShownFinding]], list[ShownFinding]]:
    names = {f.name for f in fields}
    per: dict[str, list[ShownFinding]] = {n: [] for n in names}
    general = []
    for finding in found:
        if finding.element in names:
            per[finding.element].append(finding)
        else:
            general.append(finding)
    return per, general


def _context(
    wizard: Wizard, found: list[ShownFinding], values: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    per_field, general = _by_field(found, wizard.fields)
    return dict(
        wizard=wizard,
        groups=_grouped(wizard.fields),
        values=values,
        findings=found,
        per_field=per_field,
        general=general,
        blocking=sum(1 for f in found if f.severity == "blocking"),
        language_options=_language_options(wizard.accepted),
        field_errors=extra.pop("field_errors", {}),
        checked=extra.pop("checked", False),
        **_labels(),
        **extra,
    )


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


def _display_status(draft: RequestDraft, blocking: int) -> str:
    if draft.status == DraftStatus.DRAFT.value and blocking == 0:
        return "awaiting"
    return draft.status


# --- the list ------------------------------------------------------------------------------


@router.get("/drafts")
def drafts_page(request: Request, user: PageUser) -> Response:
    node = node_of(request)
    officer = _officer(user)
    with transaction(node.sessions) as session:
        drafts = service.list_drafts(session, officer)
        rows = []
        for draft in drafts:
            blocking = 0
            if draft.status == DraftStatus.DRAFT.value:
                found = service.findings(session, draft)
                blocking = sum(1 for f in found if f.severity == "blocking")
            rows.append(
                {
                    "draft": draft,
                    "status": _display_status(draft, blocking),
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
    law = get_law()
    with transaction(node.sessions) as session:
        parties = _participants(session, node.participant_id)
        known = {p[0] for p in parties}
        step_errors = {}
        if party and party not in known:
            step_errors["party"] = "unknown"
        if kind and kind not in law.kinds:
            step_errors["kind"] = "unknown"
        if not party or not kind or step_errors:
            return render(
                request,
                "drafts/new.html",
                user,
                status_code=400 if step_errors else 200,
                parties=parties,
                kinds=list(law.kinds),
                party=party,
                kind=kind,
                step_errors=step_errors,
                **_labels(),
            )
        wizard = _wizard(session, node.participant_id, party, kind, instrument or None)
        values = form_values({}, wizard.fields)
        if wizard.accepted and len(wizard.accepted) == 1:
            values["language"] = wizard.accepted[0]
    return render(request, "drafts/form.html", user, **_context(wizard, [], values, draft=None))


def _wizard_of_form(session: Session, node: Node, form: FormData) -> Wizard:
    party = str(form.get("requested_party", ""))
    kind = str(form.get("kind", ""))
    instrument = str(form.get("instrument", "")) or None
    known = {p[0] for p in _participants(session, node.participant_id)}
    if party not in known:
        raise ComityError(
            f"requested_party: {party!r} is not in the directory", field="requested_party"
        )
    return _wizard(session, node.participant_id, party, kind, instrument)


@router.post("/drafts/check")
def check_fragment(request: Request, user: PageUser, form: CheckedForm) -> Response:
    """The findings on the form as it stands (htmx, on change): a summary, and the findings
    beside each field swapped in out of band."""
    require_roles(user, permissions.READ_ROLES, "checking a request")
    node = node_of(request)
    with transaction(node.sessions) as session:
        wizard = _wizard_of_form(session, node, form)
        document, _errors = _form_document(form, node.participant_id, wizard)
        found = _check(session, document, wizard)
    return render(
        request, "drafts/_findings.html", user, **_context(wizard, found, {}, checked=True)
    )


@router.post("/drafts")
def create_draft(request: Request, user: PageUser, form: CheckedForm) -> Response:
    """`act=check` shows the findings (without JavaScript); `act=save` creates the draft."""
    require_roles(user, permissions.DRAFT_ROLES, "drafting a request")
    node = node_of(request)
    act = str(form.get("act", "save"))
    with transaction(node.sessions) as session:
        wizard = _wizard_of_form(session, node, form)
        document, errors = _form_document(form, node.participant_id, wizard)
        if act != "save" or errors:
            found = _check(session, document, wizard)
            values = form_values(document, wizard.fields)
            return render(
                request,
                "drafts/form.html",
                user,
                status_code=422 if errors else 200,
                **_context(wizard, found, values, draft=None, field_errors=errors, checked=True),
            )
        draft, _found = service.create_draft(
            session, node, wizard.kind, wizard.party, document, _officer(user)
        )
        draft_id = draft.id
    return RedirectResponse(
        f"/drafts/{draft_id}?" + flash_query(user, "saved", "draft"), status_code=303
    )


# --- one draft -----------------------------------------------------------------------------


def _draft_wizard(session: Session, draft: RequestDraft) -> Wizard:
    instrument = draft.document.get("instrument")
    return _wizard(
        session,
        draft.requesting,
        draft.requested,
        draft.kind,
        instrument if isinstance(instrument, str) else None,
    )


def _draft_context(
    session: Session, user: WebUser, draft: RequestDraft, wizard: Wizard, **extra: Any
) -> dict[str, Any]:
    found = shown(service.findings(session, draft), {f.name: f for f in wizard.fields})
    blocking = sum(1 for f in found if f.severity == "blocking")
    values = extra.pop("values", None) or form_values(draft.document, wizard.fields)
    checked_findings = extra.pop("findings", None)
    extra.setdefault("checked", True)
    editable = draft.status == DraftStatus.DRAFT.value and user.has(*permissions.DRAFT_ROLES)
    return _context(
        wizard,
        found if checked_findings is None else checked_findings,
        values,
        draft=draft,
        status=_display_status(draft, blocking),
        editable=editable,
        document_languages=_document_languages(wizard.accepted),
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
        draft = service.get_draft(session, draft_id, _officer(user))
        wizard = _draft_wizard(session, draft)
        saved = bool(flash_value(request, user, "saved"))
        context = _draft_context(session, user, draft, wizard, saved=saved)
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
        draft = service.get_draft(session, draft_id, _officer(user))
        wizard = _draft_wizard(session, draft)
        document, errors = _form_document(form, node.participant_id, wizard, base=draft.document)
        if act != "save" or errors:
            found = _check(session, document, wizard)
            context = _draft_context(
                session,
                user,
                draft,
                wizard,
                values=form_values(document, wizard.fields),
                findings=found,
                field_errors=errors,
                checked=True,
            )
            return render(
                request, "drafts/draft.html", user, status_code=422 if errors else 200, **context
            )
        service.edit_draft(session, draft_id, version, document, _officer(user))
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
        draft = service.get_draft(session, draft_id, _officer(user))
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


# --- approval ------------------------------------------------------------------------------


@router.get("/drafts/{draft_id}/approve")
def approval_page(request: Request, user: PageUser, draft_id: str) -> Response:
    require_roles(
        user, permissions.APPROVE_ROLES | permissions.DISPATCH_ROLES, "approving a request"
    )
    node = node_of(request)
    with transaction(node.sessions) as session:
        draft = service.get_draft(session, draft_id, _officer(user))
        wizard = _draft_wizard(session, draft)
        done = flash_value(request, user, "done")
        context = _draft_context(
            session, user, draft, wizard, refusal=None, done=done if done in DONE else ""
        )
        return render(request, "drafts/approve.html", user, **context)


def _refusal_page(
    request: Request, node: Node, user: WebUser, draft_id: str, exc: ComityError
) -> Response:
    with transaction(node.sessions) as session:
        draft = service.get_draft(session, draft_id, _officer(user))
        wizard = _draft_wizard(session, draft)
        context = _draft_context(session, user, draft, wizard, refusal=exc, done="")
        return render(request, "drafts/approve.html", user, status_code=exc.status_code, **context)


def _act(request: Request, user: WebUser, draft_id: str, action: str, form: FormData) -> Response:
    """Approve, reopen or dispatch; a refusal is audited and shown on the approval page."""
    node = node_of(request)
    case_id: str | None = None
    try:
        with transaction(node.sessions) as session:
            officer = _officer(user)
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
