"""Statistics over a period: requests by kind and by counterpart (incoming and outgoing), time
to the first answer and to execution (median and 90th percentile), refusal grounds with the
articles that allow them, and what became of preservation requests.

A request belongs to the period in which it was submitted. Only identifiers, kinds, states,
act names, times and refusal ground codes are read: never the request document nor the
reasons or notes of an act. The figures are computed in Python over a narrow query so that
they are the same on SQLite and PostgreSQL. Reading them is audited.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.cases.models import Case, CaseEvent
from comity.kit.clock import ensure_utc
from comity.kit.errors import ComityError
from comity.law import get_law

INCOMING = "incoming"
OUTGOING = "outgoing"
DIRECTIONS = (INCOMING, OUTGOING)
ANSWER_ACTS = {"execute", "execute-partially"}
# Acts that are not an answer of the requested party: the submission and its delivery.
NOT_ANSWERS = {"submit", "deliver"}
PRESERVATION_KINDS = {"preservation"}
# What became of a preservation request (one request may count under several).
PRESERVATION_OUTCOMES = (
    "accepted",
    "extended",
    "followed-by-request",
    "executed",
    "refused",
    "withdrawn",
    "expired",
    "pending",
)
MAX_PERIOD_DAYS = 3700


class InvalidPeriod(ComityError):
    status_code = 422
    code = "invalid_period"


@dataclass(frozen=True)
class Timing:
    """Durations in seconds: how many, their median and 90th percentile (nearest rank)."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float]) -> Timing:
        if not values:
            return cls(0, None, None)
        ordered = sorted(values)
        rank = max(1, math.ceil(0.9 * len(ordered)))
        return cls(len(ordered), float(statistics.median(ordered)), float(ordered[rank - 1]))


@dataclass(frozen=True)
class GroundCount:
    ground: str
    count: int
    citations: tuple[str, ...]


@dataclass
class Statistics:
    start: date
    end: date
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    by_party: dict[str, dict[str, int]] = field(default_factory=dict)
    first_answer: dict[str, Timing] = field(default_factory=dict)
    execution: dict[str, Timing] = field(default_factory=dict)
    refusal_grounds: list[GroundCount] = field(default_factory=list)
    preservation: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> dict[str, int]:
        return {d: sum(row.get(d, 0) for row in self.by_kind.values()) for d in DIRECTIONS}

    def figures(self) -> list[tuple[str, str, float | int | str]]:
        """Every figure as (section, key, value): what the CSV export holds."""
        rows: list[tuple[str, str, float | int | str]] = [
            ("period", "from", self.start.isoformat()),
            ("period", "to", self.end.isoformat()),
        ]
        for direction in DIRECTIONS:
            rows.append(("requests", direction, self.total[direction]))
        for direction in DIRECTIONS:
            for kind, counts in self.by_kind.items():
                if counts.get(direction):
                    rows.append((f"{direction}-by-kind", kind, counts[direction]))
        for direction in DIRECTIONS:
            for party, counts in self.by_party.items():
                if counts.get(direction):
                    rows.append((f"{direction}-by-party", party, counts[direction]))
        for name, timings in (("first-answer", self.first_answer), ("execution", self.execution)):
            for direction in DIRECTIONS:
                timing = timings[direction]
                rows.append((f"{name}-seconds", f"{direction}-count", timing.count))
                if timing.median is not None and timing.p90 is not None:
                    rows.append((f"{name}-seconds", f"{direction}-median", round(timing.median)))
                    rows.append((f"{name}-seconds", f"{direction}-p90", round(timing.p90)))
        for item in self.refusal_grounds:
            rows.append(("refusal-grounds", item.ground, item.count))
        for outcome in PRESERVATION_OUTCOMES:
            rows.append(("preservation-outcomes", outcome, self.preservation.get(outcome, 0)))
        return rows


def check_period(start: date, end: date) -> None:
    if end < start:
        raise InvalidPeriod("the end of the period is before its start", field="to")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidPeriod("a period is at most ten years", field="from")


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(), tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC),
    )


def _ground_citations(instrument: str, kind: str) -> dict[str, str]:
    law = get_law()
    inst = law.instruments.get(instrument)
    rule = inst.kinds.get(kind) if inst else None
    found: dict[str, str] = {}
    for grounds in (rule.refusal, rule.postponement) if rule else ():
        if grounds is not None:
            for item in grounds.grounds:
                found.setdefault(item.ground, item.citation)
    return found


def compute(session: Session, start: date, end: date, actor: str) -> Statistics:
    """The figures for requests submitted from `start` to `end` (both days included, UTC)."""
    check_period(start, end)
    low, high = _bounds(start, end)
    submitted = dict(
        session.execute(
            select(CaseEvent.case_id, CaseEvent.at).where(
                CaseEvent.act == "submit", CaseEvent.at >= low, CaseEvent.at < high
            )
        ).all()
    )
    result = Statistics(start=start, end=end)
    ids = list(submitted)
    cases: dict[str, tuple[str, str, str, str]] = {}
    events: dict[str, list[tuple[str, str, str, datetime]]] = defaultdict(list)
    refusals: list[tuple[str, list[str]]] = []
    followed: set[str] = set()
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for row in session.execute(
            select(Case.id, Case.kind, Case.side, Case.counterpart, Case.instrument).where(
                Case.id.in_(chunk)
            )
        ):
            cases[row.id] = (row.kind, row.side, row.counterpart, row.instrument)
        for event in session.execute(
            select(
                CaseEvent.case_id, CaseEvent.act, CaseEvent.by_side, CaseEvent.actor, CaseEvent.at
            )
            .where(CaseEvent.case_id.in_(chunk))
            .order_by(CaseEvent.case_id, CaseEvent.seq)
        ):
            events[event.case_id].append((event.act, event.by_side, event.actor, event.at))
        # Of an act's body only the refusal grounds (codes) are read, not its reasons.
        for case_id, body in session.execute(
            select(CaseEvent.case_id, CaseEvent.body).where(
                CaseEvent.case_id.in_(chunk), CaseEvent.act == "refuse"
            )
        ):
            codes = body.get("grounds") if isinstance(body, dict) else None
            refusals.append((case_id, [str(g) for g in codes or []]))
        followed.update(
            str(linked)
            for linked in session.execute(
                select(Case.linked_to).where(Case.linked_to.in_(chunk))
            ).scalars()
        )

    first_answer: dict[str, list[float]] = {d: [] for d in DIRECTIONS}
    execution: dict[str, list[float]] = {d: [] for d in DIRECTIONS}
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    by_party: dict[str, Counter[str]] = defaultdict(Counter)
    outcomes: Counter[str] = Counter()
    for case_id, (kind, side, counterpart, _instrument) in cases.items():
        direction = INCOMING if side == "requested" else OUTGOING
        by_kind[kind][direction] += 1
        by_party[counterpart][direction] += 1
        began = ensure_utc(submitted[case_id])
        acts = events.get(case_id, [])
        answers = [
            ensure_utc(at)
            for act, by, actor, at in acts
            if by == "requested" and act not in NOT_ANSWERS and actor != "system"
        ]
        if answers:
            first_answer[direction].append((answers[0] - began).total_seconds())
        executed = [ensure_utc(at) for act, _by, _actor, at in acts if act in ANSWER_ACTS]
        if executed:
            execution[direction].append((executed[0] - began).total_seconds())
        if kind in PRESERVATION_KINDS:
            names = {act for act, _by, _actor, _at in acts}
            expired = any(act == "close" and actor == "system" for act, _by, actor, _at in acts)
            seen = {
                "accepted": "accept" in names,
                "extended": "extend" in names,
                "followed-by-request": case_id in followed,
                "executed": bool(names & ANSWER_ACTS),
                "refused": "refuse" in names,
                "withdrawn": "withdraw" in names,
                "expired": expired,
            }
            seen["pending"] = not any(seen.values())
            outcomes.update(name for name, happened in seen.items() if happened)

    grounds: Counter[str] = Counter()
    citations: dict[str, set[str]] = defaultdict(set)
    for case_id, codes in refusals:
        if case_id not in cases:
            continue
        kind, _side, _counterpart, instrument = cases[case_id]
        known = _ground_citations(instrument, kind)
        for code in codes:
            grounds[code] += 1
            if code in known:
                citations[code].add(known[code])

    result.by_kind = {k: dict(v) for k, v in sorted(by_kind.items())}
    result.by_party = {p: dict(v) for p, v in sorted(by_party.items())}
    result.first_answer = {d: Timing.of(first_answer[d]) for d in DIRECTIONS}
    result.execution = {d: Timing.of(execution[d]) for d in DIRECTIONS}
    result.refusal_grounds = [
        GroundCount(code, count, tuple(sorted(citations[code])))
        for code, count in sorted(grounds.items(), key=lambda item: (-item[1], item[0]))
    ]
    result.preservation = {o: outcomes.get(o, 0) for o in PRESERVATION_OUTCOMES}
    audit.record(
        session,
        "stats:figures:read",
        actor,
        f"{start.isoformat()}..{end.isoformat()}",
        requests=len(cases),
    )
    return result
