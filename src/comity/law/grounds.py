"""Refusal and postponement grounds, checked with the parties: which grounds the instrument
lists for the kind, which exist only through the requested party's reservation, which the
requested party's own law or treaties add (declared in the directory), which the instrument
bars and when, and the reasons every refusal or postponement must carry. Pure: the directory
and the law data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from comity.directory.document import Directory, Participant
from comity.law.errors import ReasonsRequired, RefusalGroundNotAllowed
from comity.law.loader import get_law
from comity.law.model import GroundBar, GroundsRule, Instrument, Law
from comity.law.parties import declarations_in_force, target, treaties_between
from comity.law.routing import instrument_of, kind_of

Part = Literal["refusal", "postponement"]

__all__ = [
    "AllowedGround",
    "Refusing",
    "allowed_grounds",
    "check_postponement_grounds",
    "check_refusal_grounds",
]


@dataclass(frozen=True, slots=True)
class Refusing:
    """Who refuses (or postpones) what: the request's parties, the date, the request itself
    (its `conduct` decides whether a bar tied to Budapest arts 2-11 holds)."""

    directory: Directory
    requesting: str
    requested: str
    on: date
    request: Mapping[str, Any] = field(default_factory=dict)

    def state(self) -> Participant:
        """The requested state: the party itself, or the host of a requested provider."""
        return target(self.directory, self.requested).state


def _rule(law: Law, kind: str, instrument: str, part: str) -> tuple[Instrument, GroundsRule | None]:
    kind_of(law, kind)
    inst = instrument_of(law, instrument)
    rule = inst.kinds.get(kind)
    if rule is None:
        raise RefusalGroundNotAllowed(
            f"instrument: {instrument} provides no {kind} request",
            field="instrument",
            article=inst.citation,
        )
    return inst, getattr(rule, part)


def _has_declaration(state: Participant, effect: str, on: date) -> bool:
    return any(d.effect == effect for d in declarations_in_force(state, on))


def _declared(state: Participant, ground: str, part: str, instrument: str) -> str | None:
    """The provision of the state's law or treaty on which it declared `ground`, if any."""
    for declared in state.grounds:
        if (
            declared.ground == ground
            and declared.type == part
            and (not declared.instruments or instrument in declared.instruments)
        ):
            return declared.basis
    return None


def _bar_holds(bar: GroundBar, law: Law, inst: Instrument, who: Refusing) -> bool:
    """Whether the bar applies to this request (its `when`, read from the directory and the
    request); only a verified bar may block."""
    if not bar.verified:
        return False
    if bar.when == "no-mla-treaty":
        host = who.state().id
        return not any(
            law.instruments.get(t.instrument) is not None
            and law.instruments[t.instrument].is_mla_treaty
            for t in treaties_between(who.directory, who.requesting, host, who.on)
            if t.instrument != inst.id
        )
    if bar.when in {"budapest-2-to-11", "only-budapest-2-to-11"}:
        conduct = who.request.get("conduct") or []
        codes = conduct if isinstance(conduct, list) else [conduct]
        in_2_to_11 = [
            c in law.conduct_categories and law.conduct_categories[c].budapest_2_to_11
            for c in codes
        ]
        if bar.when == "budapest-2-to-11":
            return any(in_2_to_11)
        return bool(in_2_to_11) and all(in_2_to_11)
    return True


@dataclass(frozen=True, slots=True)
class AllowedGround:
    """A ground the requested party may invoke, with the article that allows it and, for a
    ground of its own law, the provision it declared (`basis`)."""

    ground: str
    citation: str
    verified: bool
    basis: str = ""


def allowed_grounds(
    who: Refusing, kind: str, instrument: str, part: str
) -> dict[str, AllowedGround]:
    """The grounds the requested party may invoke for `part` of a `kind` request under
    `instrument`: the instrument's own (those resting on a reservation only when the party
    made it), then the party's declared ones where the instrument refers to its law. `part`
    is `refusal` or `postponement`."""
    law = get_law()
    _, rule = _rule(law, kind, instrument, part)
    state = who.state()
    allowed: dict[str, AllowedGround] = {}
    for cited in rule.grounds if rule else []:
        needed = cited.requires_declaration
        if needed is None or _has_declaration(state, needed, who.on):
            allowed[cited.ground] = AllowedGround(cited.ground, cited.citation, cited.verified)
    opened = rule.declared_grounds if rule is not None else None
    if opened is not None:
        for declared in state.grounds:
            basis = _declared(state, declared.ground, part, instrument)
            if basis is not None and declared.ground in law.grounds:
                allowed.setdefault(
                    declared.ground,
                    AllowedGround(declared.ground, opened.citation, opened.verified, basis),
                )
    return allowed


def _check_reasons(inst: Instrument, part: Part, reasons: str) -> None:
    if reasons.strip():
        return
    rule = inst.reasons_rule
    article = rule.citation if rule is not None and part in rule.parts else ""
    cited = f" ({article})" if article else ""
    raise ReasonsRequired(
        f"reasons: a {part} must give its reasons{cited}; blank text is not a reason",
        field="reasons",
        article=article or None,
    )


def _check_grounds(
    who: Refusing, kind: str, instrument: str, grounds: list[str], reasons: str, part: Part
) -> None:
    law = get_law()
    inst, rule = _rule(law, kind, instrument, part)
    _check_reasons(inst, part, reasons)
    listed = rule.citation if rule else inst.kinds[kind].citation
    if not grounds:
        raise RefusalGroundNotAllowed(
            f"grounds: a {part} must state at least one ground, with reasons ({listed})",
            field="grounds",
            article=listed,
        )
    bars = {b.ground: b for b in inst.never_grounds if _bar_holds(b, law, inst, who)}
    allowed = allowed_grounds(who, kind, instrument, part)
    state = who.state()
    for ground in grounds:
        known = law.grounds.get(ground)
        forbidden = bars.get(ground) or (known.never if known else None)
        if forbidden is not None:
            title = known.title.lower() if known else ground
            raise RefusalGroundNotAllowed(
                f"grounds: {ground!r} ({title}) is not a ground for {part} of this request "
                f"under {instrument} ({forbidden.citation})",
                field="grounds",
                ground=ground,
                article=forbidden.citation,
            )
        if known is None:
            raise RefusalGroundNotAllowed(
                f"grounds: {ground!r} is not a known ground; "
                f"known: {', '.join(sorted(law.grounds))}",
                field="grounds",
                ground=ground,
            )
        if ground in allowed:
            continue
        reserved = next((g for g in (rule.grounds if rule else []) if g.ground == ground), None)
        if reserved is not None and reserved.requires_declaration is not None:
            raise RefusalGroundNotAllowed(
                f"grounds: {ground!r} exists only for a party that made the reservation of "
                f"{reserved.citation}; {state.name} ({state.id}) made none in force on "
                f"{who.on.isoformat()}",
                field="grounds",
                ground=ground,
                article=reserved.citation,
            )
        permitted = ", ".join(allowed) if allowed else "none"
        opened = (
            f"; {state.id}'s own declared grounds ({rule.declared_grounds.citation})"
            if rule is not None and rule.declared_grounds is not None
            else ""
        )
        raise RefusalGroundNotAllowed(
            f"grounds: {ground!r} is not a ground for {part} of a {kind} request under "
            f"{instrument}; permitted: {permitted} ({listed}{opened})",
            field="grounds",
            ground=ground,
            article=listed,
        )


def check_refusal_grounds(
    who: Refusing, kind: str, instrument: str, grounds: list[str], reasons: str
) -> None:
    """Raise `RefusalGroundNotAllowed` (422) unless every ground may justify refusing a request
    of `kind` under `instrument` by the requested party of `who`, and `ReasonsRequired` for
    blank reasons (budapest 27(7), untoc 18(23)); the error names the ground and the article."""
    _check_grounds(who, kind, instrument, grounds, reasons, "refusal")


def check_postponement_grounds(
    who: Refusing, kind: str, instrument: str, grounds: list[str], reasons: str
) -> None:
    """Raise `RefusalGroundNotAllowed` unless every ground may justify postponing execution,
    and `ReasonsRequired` for blank reasons."""
    _check_grounds(who, kind, instrument, grounds, reasons, "postponement")
