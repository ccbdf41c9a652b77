"""Time rules of the instruments: preservation periods and execution deadlines, computed
from the data (a period is a parameter of the instrument, never a constant in code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from comity.law.errors import LawError, NoSuchRule
from comity.law.loader import get_law
from comity.law.model import TimeRule
from comity.law.routing import instrument_of, kind_of


@dataclass(frozen=True, slots=True)
class Deadline:
    """A due time: `bound` minimum means "not before" (e.g. keep data at least until)."""

    code: str
    due: datetime
    bound: str
    description: str
    citation: str
    verified: bool
    data_type: str | None = None


def preservation_minimum_days(instrument: str) -> int:
    """The least number of days data must stay preserved under `instrument`."""
    return preservation_minimum(instrument).days


def preservation_minimum(instrument: str) -> TimeRule:
    """The rule setting the least period data stays preserved under `instrument`."""
    rule = preservation_period(instrument)
    if rule is None:
        inst = instrument_of(get_law(), instrument)
        raise NoSuchRule(
            f"instrument: {instrument} sets no preservation period",
            field="instrument",
            article=inst.kinds["preservation"].citation,
        )
    return rule


def preservation_period(instrument: str) -> TimeRule | None:
    """The rule setting the least preservation period under `instrument`, or None where the
    instrument provides preservation but sets no period (reciprocity: the requested party's
    law governs, and there is no minimum to cite). Raises `NoSuchRule` where the instrument
    provides no preservation at all."""
    inst = instrument_of(get_law(), instrument)
    rule = inst.kinds.get("preservation")
    if rule is None:
        raise NoSuchRule(
            f"instrument: {instrument} provides no preservation request",
            field="instrument",
            article=inst.citation,
        )
    for time_rule in rule.time_rules:
        if time_rule.code == "preservation-minimum":
            return time_rule
    return None


def deadlines(kind: str, instrument: str, start: datetime) -> list[Deadline]:
    """The deadlines of a request of `kind` under `instrument` received (or issued) at `start`."""
    if start.tzinfo is None:
        raise LawError("start: a deadline needs a time-zone-aware datetime", field="start")
    law = get_law()
    kind_of(law, kind)
    rule = instrument_of(law, instrument).kinds.get(kind)
    if rule is None:
        raise NoSuchRule(f"instrument: {instrument} provides no {kind} request", field="kind")
    due: dict[str, datetime] = {"start": start}
    result: list[Deadline] = []
    for time_rule in rule.time_rules:
        at = due[time_rule.relative_to] + timedelta(days=time_rule.days, hours=time_rule.hours)
        due[time_rule.code] = at
        result.append(
            Deadline(
                code=time_rule.code,
                due=at,
                bound=time_rule.bound,
                description=time_rule.description,
                citation=time_rule.citation,
                verified=time_rule.verified,
                data_type=time_rule.data_type,
            )
        )
    return result
