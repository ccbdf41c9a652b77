"""The law's checks on an act of the requested party (refusal and postponement grounds, the
preservation period), with no unverified rule blocking (issue 13): where the rule that would
refuse the act is `verified: false`, the act passes with an `ActWarning` saying so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from comity.law.errors import RefusalGroundNotAllowed
from comity.law.grounds import Refusing, check_postponement_grounds, check_refusal_grounds
from comity.law.grounds_exceptions import excepted_grounds
from comity.law.loader import get_law
from comity.law.model import Cited
from comity.law.routing import instrument_of
from comity.law.timing import preservation_period
from comity.law.unverified import unverified_note


@dataclass(frozen=True, slots=True)
class ActWarning:
    """What an unverified rule would have refused, let through (`verified: false`)."""

    field: str
    message: str
    citation: str
    verified: bool = False


def _rules_against(kind: str, instrument: str, ground: str, part: str) -> list[Cited]:
    """The rules that exclude `ground`: a `never` rule, and the list if it lacks the ground."""
    law = get_law()
    inst = instrument_of(law, instrument)
    never = {n.ground: n for n in inst.never_grounds}
    known = law.grounds.get(ground)
    forbidden = never.get(ground) or (known.never if known else None)
    rule = inst.kinds[kind]
    listed = rule.refusal if part == "refusal" else rule.postponement
    against: list[Cited] = [forbidden] if forbidden else []
    if listed is None:
        against.append(rule)
    elif ground not in {g.ground for g in listed.grounds}:
        against.append(listed)
    return against


def check_grounds(
    who: Refusing,
    kind: str,
    instrument: str,
    grounds: list[str],
    reasons: str,
    part: Literal["refusal", "postponement"],
) -> list[ActWarning]:
    """Check the grounds with the parties (`law.grounds`): raise `RefusalGroundNotAllowed` for
    a ground a verified rule excludes (or an unknown ground, none at all, one resting on a
    reservation the party did not make) and `ReasonsRequired` for blank reasons; warn for a
    ground only an unverified rule excludes."""
    check = check_refusal_grounds if part == "refusal" else check_postponement_grounds
    if not grounds:
        check(who, kind, instrument, grounds, reasons)
    warnings = []
    for ground in grounds:
        try:
            check(who, kind, instrument, [ground], reasons)
        except RefusalGroundNotAllowed as exc:
            if ground not in get_law().grounds:
                raise
            against = _rules_against(kind, instrument, ground, part)
            if not against or any(rule.verified for rule in against):
                raise
            cited = "; ".join(rule.citation for rule in against)
            warnings.append(
                ActWarning("grounds", f"{exc.message}. {unverified_note(cited)}", cited)
            )
    if part == "refusal":
        warnings += _exceptions(who, kind, instrument, grounds)
    return warnings


def _exceptions(who: Refusing, kind: str, instrument: str, grounds: list[str]) -> list[ActWarning]:
    """A ground the request takes away by an exception in the data (eu-eevidence 12(1)(d):
    not for an offence listed in the order): refused when the exception is verified, else let
    through with a warning saying so."""
    warnings = []
    for cited in excepted_grounds(kind, instrument, grounds, dict(who.request)):
        exception = cited.unless
        if exception is None:  # excepted_grounds returns only grounds with one
            continue
        message = (
            f"grounds: {cited.ground!r} is not available for this request: "
            f"{exception.description} ({exception.citation})"
        )
        if exception.verified:
            raise RefusalGroundNotAllowed(
                message, field="grounds", ground=cited.ground, article=exception.citation
            )
        warnings.append(
            ActWarning(
                "grounds", f"{message}. {unverified_note(exception.citation)}", exception.citation
            )
        )
    return warnings


def preservation_shortfall(instrument: str, until: date, today: date) -> ActWarning | None:
    """None if data preserved until `until` meets the instrument's minimum period, or if the
    instrument sets none (reciprocity: no minimum to cite, so none is invented); else the
    shortfall, `verified` when the rule is (the caller then refuses the act) and otherwise a
    warning that says the rule is unverified."""
    rule = preservation_period(instrument)
    if rule is None:
        return None
    earliest = today + timedelta(days=rule.days)
    if until >= earliest:
        return None
    message = (
        f"data must be preserved for at least {rule.days} days under {instrument}"
        f" (until {earliest.isoformat()} or later)"
    )
    if rule.verified:
        return ActWarning("preserved_until", message, rule.citation, verified=True)
    return ActWarning(
        "preserved_until", f"{message}. {unverified_note(rule.citation)}", rule.citation
    )
