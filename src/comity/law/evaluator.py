"""The law evaluator: pure functions that answer a practitioner's questions from the law data
and the directory - which instrument, which channel, what a request must contain, whether a
refusal ground is allowed. No I/O beyond the cached law data; no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from comity.directory.document import Contact, Directory, Participant, Role
from comity.kit.errors import ComityError
from comity.law.errors import LawError, UnknownParty
from comity.law.loader import get_law
from comity.law.model import Element, Instrument, KindRule, Law, Severity
from comity.law.parties import (
    Target,
    contact,
    declarations_in_force,
    participant,
    target,
)
from comity.law.routing import (
    ApplicableInstrument,
    Notification,
    Route,
    applicable_instruments,
    instrument_of,
    kind_of,
    no_instrument_error,
    route,
)
from comity.law.scope import check_scope
from comity.law.unverified import soften

__all__ = [
    "FINDING_CODES",
    "ApplicableInstrument",
    "DeclarationView",
    "Finding",
    "Notification",
    "PartyProfile",
    "Route",
    "applicable_instruments",
    "check_request",
    "error_finding",
    "party_profile",
    "required_elements",
    "route",
]


#: The stable codes of findings. `message` is the evaluator's English sentence (API, CLI);
#: a page in another language picks its own sentence by `code` and fills it from `params`.
FINDING_CODES: frozenset[str] = frozenset(
    {
        "missing-element",  # an element not given; params: field, label, condition
        "must-be-true",  # an undertaking not confirmed; params: field, label, condition
        "mistyped",  # a field of the wrong JSON type; params: field, expected
        "language-missing",  # params: party, party_name, languages (accepted)
        "no-languages-notified",  # params: party, party_name
        "language-not-accepted",  # params: party, party_name, languages, language
        "unknown-conduct",  # params: conduct (the unknown codes)
        "conduct-missing",  # dual criminality needs the conduct; no params
        "conduct-not-declared",  # the party declared no offence coverage; party, party_name
        "dual-criminality",  # params: party, party_name, conduct (codes), titles
        "declaration-not-modelled",  # params: party, party_name, type, instrument, article,
        #                              effect
        "declaration-effect",  # params: party, party_name, type, effect (code), effect_text
        "treaty-displaces",  # params: treaty, instrument
        "law-error",  # the law cannot answer as asked; params: error (its code), field
    }
)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the drafter must fix (`blocking`), should look at (`warning`) or may want to
    know (`note`), about one field of the request, with the article it comes from.

    `code` (one of `FINDING_CODES`) and `params` (the values in the sentence: field and label,
    party, languages, conduct codes, ...) let a page say the same in the reader's language;
    `message` is the English sentence."""

    severity: Severity
    element: str
    message: str
    citation: str
    verified: bool = False
    code: str = "law-error"
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)


def error_finding(exc: ComityError, element: str = "request") -> Finding:
    """A blocking finding for an error the law raises about the request as a whole (an
    instrument not in force, an unknown party), so that a draft can still be saved."""
    where = str(exc.details.get("field") or element)
    details = {k: v for k, v in exc.details.items() if isinstance(v, str | int | None)}
    return Finding(
        "blocking",
        where,
        exc.message,
        str(exc.details.get("article") or ""),
        False,
        "law-error",
        {**details, "error": exc.code, "field": where},
    )


def _rule(law: Law, kind: str, instrument: str) -> tuple[Instrument, KindRule]:
    kind_of(law, kind)
    inst = instrument_of(law, instrument)
    rule = inst.kinds.get(kind)
    if rule is None:
        raise LawError(
            f"instrument: {instrument} provides no {kind} request; it covers "
            f"{', '.join(sorted(inst.kinds))}",
            field="instrument",
            article=inst.citation,
        )
    return inst, rule


def required_elements(kind: str, instrument: str) -> list[Element]:
    """The contents a request of `kind` must have under `instrument`, in the article's order."""
    return _rule(get_law(), kind, instrument)[1].all_elements


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict | tuple):
        return not value
    return False


def _name(party: Participant) -> str:
    return f"{party.name} ({party.id})"


def _party(party: Participant) -> dict[str, str]:
    return {"party": party.id, "party_name": party.name}


def _effects_in_force(law: Law, state: Participant, inst: str, kind: str, on: date) -> list[str]:
    codes = []
    for declaration in declarations_in_force(state, on):
        effect = law.declaration_effects.get(declaration.effect)
        if effect is not None and effect.instrument == inst and kind in effect.kinds:
            codes.append(effect.code)
    return codes


def _check_elements(
    rule: KindRule, request: dict[str, Any], effects: list[str], findings: list[Finding]
) -> None:
    only_service = request.get("measures") == ["service-of-documents"]
    for element in rule.all_elements:
        if element.condition == "except-service-of-documents" and only_service:
            continue
        if (
            element.condition == "if-host-requires-notification"
            and "simultaneous-notification" not in effects
        ):
            continue
        value = request.get(element.field)
        where = f" ({element.condition_text})" if element.condition_text else ""
        params = {
            "field": element.field,
            "label": element.label,
            "condition": element.condition_text or "",
        }
        if _missing(value):
            verb = {"blocking": "Missing", "warning": "Should be given", "note": "Not given"}
            findings.append(
                Finding(
                    element.severity,
                    element.field,
                    f"{verb[element.severity]}: {element.label}{where}. Fill in '{element.field}'.",
                    element.citation,
                    element.verified,
                    "missing-element",
                    params,
                )
            )
        elif element.condition in {"must-be-true", "if-host-requires-notification"} and (
            value is not True
        ):
            findings.append(
                Finding(
                    "blocking",
                    element.field,
                    f"{element.label}{where}: '{element.field}' must be true.",
                    element.citation,
                    element.verified,
                    "must-be-true",
                    params,
                )
            )


def _check_language(
    inst: Instrument, rule: KindRule, where: Target, request: dict[str, Any], out: list[Finding]
) -> None:
    addressee = where.addressee if rule.route.primary == "provider-direct" else where.state
    language = request.get("language")
    cite, verified = inst.language_rule.citation, inst.language_rule.verified
    accepted = ", ".join(addressee.languages)
    if _missing(language):
        hint = f" {_name(addressee)} accepts: {accepted}." if accepted else ""
        out.append(
            Finding(
                "blocking",
                "language",
                f"Missing: the language of the request.{hint} Fill in 'language'.",
                cite,
                verified,
                "language-missing",
                {**_party(addressee), "languages": list(addressee.languages)},
            )
        )
    elif not addressee.languages:
        out.append(
            Finding(
                "note",
                "language",
                f"{_name(addressee)} has notified no accepted languages; check before sending.",
                cite,
                verified,
                "no-languages-notified",
                _party(addressee),
            )
        )
    elif language not in addressee.languages:
        out.append(
            Finding(
                "blocking",
                "language",
                f"{_name(addressee)} accepts requests in {accepted}, not {language!r}: "
                "translate the request.",
                cite,
                verified,
                "language-not-accepted",
                {
                    **_party(addressee),
                    "languages": list(addressee.languages),
                    "language": str(language),
                },
            )
        )


def _check_dual_criminality(
    law: Law,
    rule: KindRule,
    state: Participant,
    effects: list[str],
    request: dict[str, Any],
    out: list[Finding],
) -> None:
    dual = rule.dual_criminality
    if dual is None:
        return
    conduct = request.get("conduct") or []
    if not isinstance(conduct, list):
        conduct = [conduct]
    unknown = [c for c in conduct if c not in law.conduct_categories]
    if unknown:
        out.append(
            Finding(
                "blocking",
                "conduct",
                f"Unknown conduct categories {unknown}; use the codes of the offence taxonomy "
                "(dual criminality compares conduct, not offence names).",
                "budapest 25(5)",
                True,
                "unknown-conduct",
                {"conduct": [str(c) for c in unknown]},
            )
        )
    if dual.rule == "not-required":
        return
    if dual.rule == "not-required-unless-reservation":
        if dual.reservation is None or dual.reservation not in effects:
            return
        reserved = law.declaration_effects[dual.reservation]  # offences outside its own
        own = {c for c, cat in law.conduct_categories.items() if reserved.instrument in cat.laws}
        conduct = [c for c in conduct if c in law.conduct_categories and c not in own]
        if not conduct:
            return
        cite = reserved.citation
    else:
        cite = dual.citation
    if not conduct:
        out.append(
            Finding(
                "note",
                "conduct",
                "Give the conduct categories ('conduct') so dual criminality can be checked.",
                dual.citation,
                dual.verified,
                "conduct-missing",
                {},
            )
        )
        return
    if not state.offence_coverage:
        out.append(
            Finding(
                "note",
                "conduct",
                f"{_name(state)} has not declared which conduct its law covers; "
                "dual criminality cannot be checked.",
                dual.citation,
                dual.verified,
                "conduct-not-declared",
                _party(state),
            )
        )
        return
    uncovered = [
        c for c in conduct if c in law.conduct_categories and c not in state.offence_coverage
    ]
    if uncovered:
        titles = "; ".join(law.conduct_categories[c].title for c in uncovered)
        out.append(
            Finding(
                dual.severity,
                "conduct",
                f"The law of {_name(state)} does not cover this conduct: {titles}. It may refuse "
                "for absence of dual criminality.",
                cite,
                dual.verified,
                "dual-criminality",
                {
                    **_party(state),
                    "conduct": uncovered,
                    "titles": [law.conduct_categories[c].title for c in uncovered],
                },
            )
        )


def _check_declarations(
    law: Law,
    kind: str,
    inst: Instrument,
    state: Participant,
    on: date,
    request: dict[str, Any],
    out: list[Finding],
) -> None:
    blocked_fields = {f.element for f in out if f.severity == "blocking"}
    for declaration in declarations_in_force(state, on):
        effect = law.declaration_effects.get(declaration.effect)
        if effect is None:
            if declaration.instrument == inst.id:
                out.append(
                    Finding(
                        "warning",
                        "requested_party",
                        f"{_name(state)} made a {declaration.type} under {declaration.instrument}"
                        f" {declaration.article} ('{declaration.effect}') that comity does not "
                        "know how to apply; check it by hand.",
                        f"{declaration.instrument} {declaration.article}",
                        False,
                        "declaration-not-modelled",
                        {
                            **_party(state),
                            "type": declaration.type,
                            "instrument": declaration.instrument,
                            "article": declaration.article,
                            "effect": declaration.effect,
                        },
                    )
                )
            continue
        if effect.instrument != inst.id or kind not in effect.kinds:
            continue
        action = effect.action
        value = request.get(action.field) if action.field else None
        values = set(value) if isinstance(value, list) else ({value} if value else set())
        text = f"{_name(state)}, {effect.type} under {effect.citation}: {effect.effect_text}"
        element = action.field or "requested_party"
        if action.type == "note":
            hit = True
        elif action.type == "require-true":
            hit = value is not True and element not in blocked_fields
        elif action.type == "block-if-only":
            hit = bool(values) and values <= set(action.values)
        elif action.type == "block-if-contains":
            hit = bool(values & set(action.values))
        elif action.type == "block":
            hit = True
        else:
            hit = False
        if hit:
            params = {
                **_party(state),
                "type": effect.type,
                "effect": effect.code,
                "effect_text": effect.effect_text,
            }
            out.append(
                Finding(
                    action.severity,
                    element,
                    text,
                    effect.citation,
                    effect.verified,
                    "declaration-effect",
                    params,
                )
            )


def check_request(directory: Directory, request: dict[str, Any], on: date) -> list[Finding]:
    """Check a drafted request against the law that binds the pair on `on`: mandatory
    contents, language, dual criminality and the requested party's declarations.

    `request` has `kind`, `requesting_party`, `requested_party`, optionally `instrument`
    (otherwise the preferred applicable one is used) and the element fields. Raises for an
    unknown kind or party, or an explicit instrument that does not bind the pair."""
    law = get_law()
    kind = str(request.get("kind") or "")
    kind_of(law, kind)
    for name in ("requesting_party", "requested_party"):
        if _missing(request.get(name)):
            raise UnknownParty(f"{name}: missing", field=name)
    requesting = str(request["requesting_party"])
    requested = str(request["requested_party"])
    explicit = request.get("instrument") or None
    candidates = applicable_instruments(directory, requesting, requested, on, kind, explicit)
    findings: list[Finding] = []
    if explicit is None:
        candidates = [c for c in candidates if c.usable]
        if not candidates:
            return [error_finding(no_instrument_error(law, kind, requesting, requested))]
    chosen = candidates[0]
    if chosen.displaced_by:
        findings.append(
            Finding(
                "warning",
                "instrument",
                f"Treaty {chosen.displaced_by} binds the pair: its procedure applies instead of "
                f"the general procedure of {chosen.instrument}.",
                chosen.displacement_citation or "",
                law.instruments[chosen.instrument].kinds[kind].verified,
                "treaty-displaces",
                {"treaty": chosen.displaced_by, "instrument": chosen.instrument},
            )
        )
    inst, rule = _rule(law, kind, chosen.instrument)
    where = target(directory, requested)
    effects = _effects_in_force(law, where.state, inst.id, kind, on)
    _check_elements(rule, request, effects, findings)
    out = check_scope(law, rule, where.state, request)
    if out is not None:
        severity: Severity = "blocking" if out.verified else "warning"
        findings.append(
            Finding(
                severity,
                out.element,
                out.message,
                out.citation,
                out.verified,
                "law-error",
                out.params,
            )
        )
    _check_language(inst, rule, where, request, findings)
    _check_dual_criminality(law, rule, where.state, effects, request, findings)
    _check_declarations(law, kind, inst, where.state, on, request, findings)
    return [soften(f) for f in findings]


@dataclass(frozen=True, slots=True)
class DeclarationView:
    """A declaration or reservation in force, with what it changes in plain words."""

    instrument: str
    article: str
    type: str
    effect: str
    effect_text: str
    citation: str
    verified: bool


@dataclass(frozen=True, slots=True)
class PartyProfile:
    """What a practitioner in `us` needs to know before writing to `party` on a date."""

    party: str
    name: str
    instruments: list[str]
    languages: list[str]
    declarations: list[DeclarationView]
    contact_24_7: Contact | None
    central_authority: Contact | None
    routes: dict[str, Route] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)


def party_profile(directory: Directory, us: str, party: str, on: date) -> PartyProfile:
    """Instruments in force between `us` and `party`, its languages, declarations with their
    effect, contacts, and the route for each kind of request (or why there is none)."""
    law = get_law()
    participant(directory, us, "requesting_party")
    subject = participant(directory, party, "requested_party")
    routes: dict[str, Route] = {}
    unavailable: dict[str, str] = {}
    instruments: list[str] = []
    for kind in law.kinds:
        try:
            for item in applicable_instruments(directory, us, party, on, kind):
                if item.usable and item.instrument not in instruments:
                    instruments.append(item.instrument)
            routes[kind] = route(directory, us, party, kind, on)
        except LawError as exc:
            unavailable[kind] = exc.message
    declarations = []
    for declaration in declarations_in_force(subject, on):
        effect = law.declaration_effects.get(declaration.effect)
        declarations.append(
            DeclarationView(
                instrument=declaration.instrument,
                article=declaration.article,
                type=declaration.type,
                effect=declaration.effect,
                effect_text=effect.effect_text if effect else declaration.text,
                citation=effect.citation
                if effect
                else f"{declaration.instrument} {declaration.article}",
                verified=effect.verified if effect else False,
            )
        )
    order = {i: law.instruments[i].priority for i in instruments}
    return PartyProfile(
        party=subject.id,
        name=subject.name,
        instruments=sorted(instruments, key=order.__getitem__),
        languages=list(subject.languages),
        declarations=declarations,
        contact_24_7=contact(subject, Role.CONTACT_POINT_24_7),
        central_authority=contact(subject, Role.CENTRAL_AUTHORITY),
        routes=routes,
        unavailable=unavailable,
    )
