"""What a request must concern for its instrument to apply at all (the `scope` of a kind in
the data): under UNTOC a serious crime, an offence punishable by at least four years of
deprivation of liberty or a more serious penalty (untoc 2(b), 3(1)(b)), unless every offence
is one the Convention establishes (untoc 3(1)(a)). The threshold is data; this module applies
it. Transnational nature and an organized criminal group are `must-be-true` elements (untoc
18(1)). The parties' `penalties` in the directory are shown as information."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from comity.directory.document import Participant
from comity.law.model import KindRule, Law, SeriousCrime


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """A request outside the instrument's scope: the evaluator's `Finding` (code `law-error`,
    error `outside_scope`), blocking only when the rule is verified."""

    element: str
    message: str
    citation: str
    verified: bool
    params: dict[str, Any] = field(default_factory=dict)


def _years(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _conduct(request: dict[str, Any]) -> list[str]:
    conduct = request.get("conduct") or []
    return [str(c) for c in (conduct if isinstance(conduct, list) else [conduct])]


def _without_threshold(law: Law, rule: SeriousCrime, conduct: list[str]) -> bool:
    """Every offence is one the instrument establishes itself (untoc 3(1)(a))."""
    exempt = set(rule.offences_without_threshold)
    categories = [law.conduct_categories.get(c) for c in conduct]
    return bool(categories) and all(c is not None and exempt & set(c.articles) for c in categories)


def _penalties(party: Participant, conduct: list[str]) -> str:
    found = [p for p in party.penalties if p.conduct in conduct]
    return "; ".join(
        f"{p.conduct}: {'life' if p.life else f'{p.maximum_years:g} years'} ({p.basis})"
        for p in found
    )


def check_scope(
    law: Law,
    rule: KindRule,
    requested: Participant,
    request: dict[str, Any],
) -> OutOfScope | None:
    """What is wrong with the scope of `rule` for `request`: blocking when the maximum penalty given
    is under the data's threshold (a verified rule), with the requested party's own maximum
    for the conduct, from the directory, as information."""
    serious = rule.scope.serious_crime if rule.scope else None
    if rule.scope is None or serious is None:
        return None
    conduct = _conduct(request)
    if _without_threshold(law, serious, conduct):
        return None
    if serious.life_field and request.get(serious.life_field) is True:
        return None
    years = _years(request.get(serious.field))
    if years is None or years >= serious.minimum_years:
        return None
    theirs = _penalties(requested, conduct)
    also = f" Under the law of {requested.name} ({requested.id}): {theirs}." if theirs else ""
    return OutOfScope(
        serious.field,
        f"Not a serious crime: the maximum penalty given, {years:g} years, is under the "
        f"{serious.minimum_years:g} years of {serious.citation}; {rule.scope.citation} "
        f"covers a serious crime only.{also}",
        f"{rule.scope.citation}; {serious.citation}",
        rule.scope.verified and serious.verified,
        {
            "error": "outside_scope",
            "field": serious.field,
            "maximum_penalty_years": years,
            "minimum_years": serious.minimum_years,
            "requested_party_penalties": theirs,
        },
    )
