"""The drafting wizard's rules, for the web page (and any other edge): whom one may write to,
which legal bases are usable and which route the law gives, which fields the request of a kind
needs under that basis, which languages are offered, the request document a submitted form
describes, the findings on it grouped beside their fields, and the status a draft shows.

Pure where it can be: `plan`, `document_of_form` and the helpers below them take the
directory, the date and the submitted values, never a request or a template. `for_party`,
`for_form`, `for_draft` and `check` read this node's current directory through
`comity.requests.service`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from comity.directory.document import Directory
from comity.documents.content import LANGUAGES as DOCUMENT_LANGUAGES
from comity.kit.errors import ComityError
from comity.law import (
    Finding,
    LawError,
    applicable_instruments,
    error_finding,
    get_law,
    party_profile,
    route,
)
from comity.law.applied import Applied, applied
from comity.law.routing import Route
from comity.requests import service
from comity.requests.form import GROUPS, FormField, document_from_form, form_fields, form_values
from comity.requests.models import DraftStatus, RequestDraft
from comity.requests.schemas import ProfileView

#: The longest text a form field may carry (characters); longer is refused, not cut.
MAX_TEXT = 20_000

#: Who may be written to: the directory's participants of these types, ourselves excepted.
ADDRESSEE_TYPES = ("state", "provider")


@dataclass
class Wizard:
    """The form for one (requested party, kind, instrument): the party's profile, the route the
    law gives (or the finding saying why there is none), the usable legal bases, the fields
    of the kind under the chosen basis and the languages the addressee accepts.

    `instrument` is the basis the fields follow: the one asked for when it is usable
    (`explicit`), else the route's. `accepted` is the requested party's languages, or the
    provider's when the request goes to a provider directly."""

    party: str
    kind: str
    instrument: str
    explicit: bool
    profile: ProfileView
    route: Route | None
    unavailable: Finding | None
    instruments: list[str]
    fields: list[FormField]
    accepted: list[str]
    #: Why the basis is the one the law applies (named, preferred, the only one, fallback).
    basis: Applied | None = None
    on: date | None = None


# --- step one: whom to write to, and what ------------------------------------------------


def addressees(directory: Directory, us: str) -> list[tuple[str, str, str]]:
    """(id, name, type) of every party or provider one may write to."""
    return [
        (p.id, p.name, p.type)
        for p in directory.participants
        if p.id != us and p.type in ADDRESSEE_TYPES
    ]


def step_errors(known: Iterable[str], party: str, kind: str) -> dict[str, str]:
    """What is wrong with the first step's choice, per input: "unknown" for a party not among
    `known` addressees or a kind the law does not know. Empty inputs are not errors (the
    step is not finished)."""
    errors: dict[str, str] = {}
    if party and party not in set(known):
        errors["party"] = "unknown"
    if kind and kind not in get_law().kinds:
        errors["kind"] = "unknown"
    return errors


# --- step two: the form for a party and a kind ----------------------------------------------


def _basis(
    directory: Directory, us: str, party: str, kind: str, explicit: str | None, on: date
) -> Applied | None:
    document = {"kind": kind, "requesting_party": us, "requested_party": party}
    if explicit:
        document["instrument"] = explicit
    return applied(directory, document, on)


def plan(
    directory: Directory, us: str, party: str, kind: str, instrument: str | None, on: date
) -> Wizard:
    """The form for writing from `us` to `party` a request of `kind`, on `on`. An `instrument`
    that is not usable between the two for that kind is ignored (the route's is used)."""
    law = get_law()
    if kind not in law.kinds:
        raise ComityError(f"kind: {kind!r} is not a request kind", field="kind")
    profile = ProfileView.of(party_profile(directory, us, party, on), us, on)
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
    unavailable: Finding | None = None
    try:
        chosen = route(directory, us, party, kind, on, explicit)
    except LawError as exc:
        unavailable = error_finding(exc)
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
        basis=applied(
            directory,
            {
                "kind": kind,
                "requesting_party": us,
                "requested_party": party,
                "instrument": explicit,
            },
            on,
        )
        if chosen is not None
        else None,
        on=on,
        accepted=accepted,
    )


def for_party(session: Session, us: str, party: str, kind: str, instrument: str | None) -> Wizard:
    """`plan` on this node's current directory, today."""
    return plan(service.current_directory(session), us, party, kind, instrument, service.today())


def for_form(session: Session, us: str, party: str, kind: str, instrument: str | None) -> Wizard:
    """The wizard a submitted form names, refusing a requested party one may not write to."""
    if party not in {p[0] for p in addressees(service.current_directory(session), us)}:
        raise ComityError(
            f"requested_party: {party!r} is not in the directory", field="requested_party"
        )
    return for_party(session, us, party, kind, instrument)


def for_draft(session: Session, draft: RequestDraft) -> Wizard:
    """The wizard of a saved draft: its parties and kind, and the basis its document names."""
    instrument = draft.document.get("instrument")
    return for_party(
        session,
        draft.requesting,
        draft.requested,
        draft.kind,
        instrument if isinstance(instrument, str) else None,
    )


def initial_values(wizard: Wizard) -> dict[str, Any]:
    """What a new form shows: every field empty, the language chosen when the addressee
    accepts only one."""
    values = form_values({}, wizard.fields)
    if len(wizard.accepted) == 1:
        values["language"] = wizard.accepted[0]
    return values


def offered_languages(accepted: list[str]) -> list[str]:
    """The languages offered for the request: those the addressee accepts, else the six UN
    languages."""
    return list(accepted) or list(DOCUMENT_LANGUAGES)


def document_languages(accepted: list[str]) -> list[str]:
    """The languages the formal document can be rendered in for this addressee."""
    if not accepted:
        return list(DOCUMENT_LANGUAGES)
    return [lang for lang in DOCUMENT_LANGUAGES if lang in accepted]


def grouped(fields: list[FormField]) -> list[tuple[str, list[FormField]]]:
    """The fields by group, in the groups' order, leaving out empty groups."""
    return [
        (g, [f for f in fields if f.group == g])
        for g in GROUPS
        if any(f.group == g for f in fields)
    ]


# --- the submitted form and its findings ---------------------------------------------------


def document_of_form(
    wizard: Wizard,
    us: str,
    getlist: Callable[[str], list[str]],
    base: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The request document a submitted form describes (`getlist(name)`: the values posted
    for an input), and an error per field that cannot be taken ("too-long"). With `base`, a
    saved document: what the form does not show is kept (e.g. written through the API),
    what it shows and the drafter emptied is dropped."""
    errors: dict[str, str] = {}
    for field in wizard.fields:
        if any(len(value) > MAX_TEXT for value in getlist(field.name)):
            errors[field.name] = "too-long"
    document = document_from_form(
        wizard.kind,
        us,
        wizard.party,
        wizard.instrument if wizard.explicit else None,
        wizard.fields,
        getlist,
    )
    if base is not None:
        shown_names = {f.name for f in wizard.fields} | {"instrument"}
        kept = {k: v for k, v in base.items() if k not in shown_names}
        document = {**kept, **document}
    return document, errors


def check(session: Session, document: dict[str, Any]) -> list[Finding]:
    """The findings on a request document against this node's directory today; an error the
    law or the document raises is one blocking finding, as for a saved draft."""
    try:
        return service.check_document(session, document).findings
    except ComityError as exc:
        return [error_finding(exc)]


class _OnElement(Protocol):
    @property
    def element(self) -> str: ...


class _OnSeverity(Protocol):
    @property
    def severity(self) -> str: ...


F = TypeVar("F", bound=_OnElement)


def by_field(found: list[F], fields: list[FormField]) -> tuple[dict[str, list[F]], list[F]]:
    """The findings beside each field of the form (every field has a list, maybe empty), and
    those about no field of the form, in their order."""
    names = {f.name for f in fields}
    per: dict[str, list[F]] = {n: [] for n in names}
    general: list[F] = []
    for finding in found:
        if finding.element in names:
            per[finding.element].append(finding)
        else:
            general.append(finding)
    return per, general


def blocking(found: Iterable[_OnSeverity]) -> int:
    """How many of the findings block sending."""
    return sum(1 for f in found if f.severity == "blocking")


def display_status(draft: RequestDraft, blocking_count: int) -> str:
    """The status a draft shows: "awaiting" (approval) for a draft with nothing blocking, else
    its own status."""
    if draft.status == DraftStatus.DRAFT.value and blocking_count == 0:
        return "awaiting"
    return draft.status
