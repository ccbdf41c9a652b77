"""Which instruments bind a pair for a kind of request, and which channel the request takes.

Rules (legal-rules.md, "Instruments"): an instrument applies when both parties are bound on
the date (ratifications in the directory, or a treaty between them); where an MLA treaty binds
the pair, the general procedures of Budapest 27-28, UNTOC 18(9)-(29) and UNCC 40 give way to
it (budapest 27(1), untoc 18(7)); reciprocity is the fallback when nothing else binds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from comity.directory.document import Contact, Directory, Role
from comity.law.errors import (
    InstrumentNotInForce,
    NoApplicableInstrument,
    UnknownInstrument,
    UnknownKind,
)
from comity.law.loader import get_law
from comity.law.model import Instrument, Kind, Law
from comity.law.parties import (
    contact,
    declarations_in_force,
    participant,
    ratified,
    ratified_later,
    target,
    treaties_between,
)

_CHANNEL_ROLE = {
    "central-authority": Role.CENTRAL_AUTHORITY,
    "24/7-contact": Role.CONTACT_POINT_24_7,
    "designated-authority": Role.DESIGNATED_AUTHORITY,
    "provider-direct": Role.LEGAL_REPRESENTATIVE,
}


@dataclass(frozen=True, slots=True)
class ApplicableInstrument:
    """An instrument binding the pair for a kind; `displaced_by` names an MLA treaty whose
    procedure applies instead of this instrument's general procedure."""

    instrument: str
    title: str
    citation: str
    verified: bool
    treaty: str | None = None
    displaced_by: str | None = None
    displacement_citation: str | None = None

    @property
    def usable(self) -> bool:
        return self.displaced_by is None


@dataclass(frozen=True, slots=True)
class Notification:
    """A copy or simultaneous notification the request must carry to another authority."""

    to: str
    role: str
    reason: str
    citation: str
    verified: bool


@dataclass(frozen=True, slots=True)
class Route:
    """Where a request goes: the channel, the addressee, its contact and any copies."""

    kind: str
    instrument: str
    channel: str
    to: str
    state: str
    contact: Contact | None
    citation: str
    verified: bool
    alternatives: tuple[str, ...] = ()
    copies: tuple[Notification, ...] = field(default_factory=tuple)


def kind_of(law: Law, kind: str) -> Kind:
    """The request kind `kind`, or `UnknownKind` listing the known ones."""
    found = law.kinds.get(kind)
    if found is None:
        raise UnknownKind(
            f"kind: {kind!r} is not a request kind; known kinds: {', '.join(sorted(law.kinds))}",
            field="kind",
            kind=kind,
        )
    return found


def instrument_of(law: Law, instrument: str) -> Instrument:
    """The instrument `instrument`, or `UnknownInstrument` listing the known ones."""
    found = law.instruments.get(instrument)
    if found is None:
        raise UnknownInstrument(
            f"instrument: {instrument!r} is not known; known instruments: "
            f"{', '.join(sorted(law.instruments))}",
            field="instrument",
            instrument=instrument,
        )
    return found


def _binding_treaty(
    directory: Directory, requesting: str, host: str, instrument: Instrument, on: date
) -> tuple[bool, str | None]:
    """Whether `instrument` binds the pair on the date, and the treaty id if by treaty."""
    if instrument.applies_from is not None and on < instrument.applies_from:
        return False, None
    if instrument.binds_by == "always":
        return True, None
    if instrument.binds_by == "treaty":
        treaties = treaties_between(directory, requesting, host, on, instrument.id)
        return (True, treaties[0].id) if treaties else (False, None)
    first = participant(directory, requesting, "requesting_party")
    second = participant(directory, host, "requested_party")
    return ratified(first, instrument.id, on) and ratified(second, instrument.id, on), None


def applicable_instruments(
    directory: Directory,
    requesting: str,
    requested: str,
    on: date,
    kind: str,
    instrument: str | None = None,
) -> list[ApplicableInstrument]:
    """Instruments under which `requesting` may send `requested` a request of `kind` on `on`,
    preferred first; displaced general procedures come last. With `instrument`, check that
    one only and explain why it does not apply."""
    law = get_law()
    kind_of(law, kind)
    chosen = instrument_of(law, instrument) if instrument is not None else None
    participant(directory, requesting, "requesting_party")
    where = target(directory, requested)
    host = where.state.id
    if host == requesting:
        raise NoApplicableInstrument(
            f"requested_party: {requested} is established in {requesting} itself; "
            "use a domestic order, not international cooperation",
            field="requested_party",
        )
    found: list[ApplicableInstrument] = []
    # (treaty id, instrument id) of an MLA treaty binding the pair, which displaces the
    # general procedures even when the caller asked for another instrument explicitly.
    mla_treaty: tuple[str, str] | None = None
    candidates = [chosen] if chosen else sorted(law.instruments.values(), key=lambda i: i.priority)
    for inst in candidates:
        rule = inst.kinds.get(kind)
        if rule is None:
            if chosen:
                raise NoApplicableInstrument(
                    f"instrument: {inst.id} provides no {kind} request; it covers "
                    f"{', '.join(sorted(inst.kinds))}",
                    field="instrument",
                    article=inst.citation,
                )
            continue
        if rule.route.primary == "provider-direct" and not where.is_provider:
            if chosen:
                raise NoApplicableInstrument(
                    f"requested_party: under {rule.route.citation} a {kind} request goes "
                    f"directly to a provider; name the provider, not the state {host}",
                    field="requested_party",
                    article=rule.route.citation,
                )
            continue
        binds, treaty = _binding_treaty(directory, requesting, host, inst, on)
        if not binds:
            if chosen:
                _raise_not_in_force(directory, requesting, host, inst, on)
            continue
        if inst.is_mla_treaty and treaty and mla_treaty is None:
            mla_treaty = (treaty, inst.id)
        found.append(
            ApplicableInstrument(inst.id, inst.title, rule.citation, rule.verified, treaty)
        )
    if mla_treaty is None:
        for inst_id in ("bilateral",):
            treaties = treaties_between(directory, requesting, host, on, inst_id)
            if treaties:
                mla_treaty = (treaties[0].id, inst_id)
    result: list[ApplicableInstrument] = []
    displaced: list[ApplicableInstrument] = []
    for item in found:
        rule = law.instruments[item.instrument].kinds[kind]
        if mla_treaty and rule.displaced_by_mla_treaty and item.instrument != mla_treaty[1]:
            displaced.append(
                ApplicableInstrument(
                    item.instrument,
                    item.title,
                    item.citation,
                    item.verified,
                    item.treaty,
                    displaced_by=mla_treaty[0],
                    displacement_citation=rule.displaced_by_mla_treaty.citation,
                )
            )
        else:
            result.append(item)
    fallback = [i for i in result if law.instruments[i.instrument].fallback_only]
    if fallback and len(fallback) < len(result) and not chosen:
        result = [i for i in result if not law.instruments[i.instrument].fallback_only]
    return result + displaced


def _raise_not_in_force(
    directory: Directory, requesting: str, host: str, inst: Instrument, on: date
) -> None:
    if inst.applies_from is not None and on < inst.applies_from:
        raise InstrumentNotInForce(
            f"instrument: {inst.id} applies only from {inst.applies_from.isoformat()}",
            field="instrument",
            article=inst.entry_into_force.citation if inst.entry_into_force else inst.citation,
        )
    if inst.binds_by == "treaty":
        raise InstrumentNotInForce(
            f"instrument: no {inst.id} treaty binds {requesting} and {host} on {on.isoformat()}",
            field="instrument",
            article=inst.citation,
        )
    for party_id, field_name in ((requesting, "requesting_party"), (host, "requested_party")):
        party = participant(directory, party_id, field_name)
        if ratified(party, inst.id, on):
            continue
        later = ratified_later(party, inst.id, on)
        when = (
            f"only from {later.isoformat()}"
            if later
            else f"not on {on.isoformat()} (no ratification in force)"
        )
        raise InstrumentNotInForce(
            f"instrument: {party_id} is bound by {inst.id} {when}",
            field="instrument",
            party=party_id,
            article=inst.entry_into_force.citation if inst.entry_into_force else inst.citation,
        )


def route(
    directory: Directory,
    requesting: str,
    requested: str,
    kind: str,
    on: date,
    instrument: str | None = None,
) -> Route:
    """The channel for a request of `kind` from `requesting` to `requested` on `on`: central
    authority, 24/7 contact, designated authority or directly to a provider, with the copies
    the host state's declarations require."""
    law = get_law()
    usable = [
        i
        for i in applicable_instruments(directory, requesting, requested, on, kind, instrument)
        if i.usable or instrument is not None
    ]
    if not usable:
        raise no_instrument_error(law, kind, requesting, requested)
    inst = law.instruments[usable[0].instrument]
    rule = inst.kinds[kind]
    where = target(directory, requested)
    channel = rule.route.primary
    addressee = where.addressee if channel == "provider-direct" else where.state
    alternatives = list(rule.route.alternatives)
    copies: list[Notification] = []
    for declaration in declarations_in_force(where.state, on):
        effect = law.declaration_effects.get(declaration.effect)
        if effect is None or effect.instrument != inst.id or kind not in effect.kinds:
            continue
        alternatives.extend(a for a in effect.adds_alternatives if a not in alternatives)
        if effect.copy_to is not None:
            copies.append(
                Notification(
                    to=where.state.id,
                    role=effect.copy_to,
                    reason=effect.effect_text,
                    citation=effect.citation,
                    verified=effect.verified,
                )
            )
    return Route(
        kind=kind,
        instrument=inst.id,
        channel=channel,
        to=addressee.id,
        state=where.state.id,
        contact=contact(addressee, _CHANNEL_ROLE[channel]),
        citation=rule.route.citation,
        verified=rule.route.verified,
        alternatives=tuple(alternatives),
        copies=tuple(copies),
    )


def no_instrument_error(
    law: Law, kind: str, requesting: str, requested: str
) -> NoApplicableInstrument:
    """The error for a pair that no instrument binds for `kind`, with the fallback kind."""
    fallback = law.kinds[kind].fallback_kind
    hint = f"; send a request of kind '{fallback}' to the state instead" if fallback else ""
    return NoApplicableInstrument(
        f"instrument: no instrument lets {requesting} send {requested} a {kind} request{hint}",
        field="instrument",
        fallback_kind=fallback,
    )
