"""Statistics over a known set of requests between in-process nodes, on both databases:
counts by kind and counterpart, times to the first answer and to execution, refusal grounds
with their articles, preservation outcomes — and no case content in any figure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from comity.audit.service import entries
from comity.kit.db import transaction
from comity.stats import service as stats
from tests.cases.conversation import act, create, frozen, pump
from tests.support import World, in_days

MLA = {"instrument": "budapest", "facts_summary": "SECRET-FACTS ransomware"}
PRESERVATION = {"instrument": "budapest", "facts_summary": "SECRET-FACTS botnet"}
HOUR = timedelta(hours=1)


def known_cases(world: World) -> dict[str, str]:
    """On XA: one request before the period, then in the period three MLA requests and one
    preservation out, one MLA request in, and a draft never submitted."""
    made: dict[str, str] = {}
    with frozen(datetime.now(UTC).replace(microsecond=0)) as clock:
        made["before"] = create(world, "XA", "XB", "mla", MLA)
        act(world, "XA", made["before"], "submit")
        pump(world)
        clock.advance(timedelta(days=2))
        made["start"] = clock.now().isoformat()
        for name, to, kind, request in (
            ("executed", "XB", "mla", MLA),
            ("refused", "XB", "mla", MLA),
            ("preservation", "XC", "preservation", PRESERVATION),
        ):
            made[name] = create(world, "XA", to, kind, request)
            act(world, "XA", made[name], "submit")
        made["incoming"] = create(world, "XB", "XA", "mla", MLA)
        act(world, "XB", made["incoming"], "submit")
        create(world, "XA", "XB", "mla", MLA)  # a draft: not counted
        pump(world)
        clock.advance(HOUR / 2)
        act(world, "XA", made["incoming"], "acknowledge")
        clock.advance(HOUR / 2)
        act(world, "XB", made["executed"], "acknowledge")  # first answer after 1 h
        pump(world)
        clock.advance(HOUR)
        act(world, "XC", made["preservation"], "acknowledge")  # after 2 h
        act(world, "XC", made["preservation"], "accept", preserved_until=in_days(62))
        pump(world)
        clock.advance(HOUR)
        act(
            world,
            "XB",
            made["refused"],
            "refuse",
            grounds=["essential-interests"],
            reasons="SECRET-REASONS",
        )  # after 3 h
        pump(world)
        clock.advance(2 * HOUR)
        act(world, "XB", made["executed"], "execute", summary="SECRET-SUMMARY")  # after 5 h
        act(world, "XC", made["preservation"], "extend", preserved_until=in_days(120))
        pump(world)
        made["follow-up"] = create(
            world,
            "XA",
            "XC",
            "mla",
            {"instrument": "budapest", "follows_preservation": made["preservation"]},
        )
        act(world, "XA", made["follow-up"], "submit")
        pump(world)
        clock.advance(5 * HOUR)
        act(world, "XA", made["incoming"], "execute", summary="SECRET-SUMMARY")  # after 10 h
        pump(world)
    return made


@pytest.fixture
def figures(world: World) -> tuple[stats.Statistics, dict[str, str]]:
    made = known_cases(world)
    day = datetime.fromisoformat(made["start"]).date()
    with transaction(world.nodes["XA"].sessions) as session:
        return stats.compute(session, day, day + timedelta(days=1), "auditor"), made


def test_counts_by_kind_and_counterpart(figures: tuple[stats.Statistics, dict[str, str]]) -> None:
    result, _ = figures
    assert result.total == {"incoming": 1, "outgoing": 4}
    assert result.by_kind == {
        "mla": {"outgoing": 3, "incoming": 1},
        "preservation": {"outgoing": 1},
    }
    assert result.by_party == {"XB": {"outgoing": 2, "incoming": 1}, "XC": {"outgoing": 2}}


def test_times_to_first_answer_and_to_execution(
    figures: tuple[stats.Statistics, dict[str, str]],
) -> None:
    result, _ = figures
    hour = 3600.0
    assert result.first_answer["outgoing"] == stats.Timing(3, 2 * hour, 3 * hour)
    assert result.first_answer["incoming"] == stats.Timing(1, hour / 2, hour / 2)
    assert result.execution["outgoing"] == stats.Timing(1, 5 * hour, 5 * hour)
    assert result.execution["incoming"] == stats.Timing(1, 10 * hour, 10 * hour)


def test_refusal_grounds_with_citations_and_preservation_outcomes(
    figures: tuple[stats.Statistics, dict[str, str]],
) -> None:
    result, _ = figures
    assert result.refusal_grounds == [
        stats.GroundCount("essential-interests", 1, ("budapest 27(4)(b)",))
    ]
    assert result.preservation == {
        "accepted": 1,
        "extended": 1,
        "followed-by-request": 1,
        "executed": 0,
        "refused": 0,
        "withdrawn": 0,
        "expired": 0,
        "pending": 0,
    }


def test_figures_hold_no_case_content_and_reading_is_audited(
    world: World, figures: tuple[stats.Statistics, dict[str, str]]
) -> None:
    result, made = figures
    text = repr(result.figures())
    assert "SECRET" not in text
    assert ("refusal-grounds", "essential-interests", 1) in result.figures()
    assert ("first-answer-seconds", "outgoing-median", 7200) in result.figures()
    assert all(made[name] not in text for name in ("executed", "refused", "incoming"))
    with world.nodes["XA"].sessions() as session:
        read = [e for e in entries(session) if e.tag == "stats:figures:read"]
    assert len(read) == 1
    assert read[0].actor == "auditor"


def test_an_inverted_period_is_refused(world: World) -> None:
    today = datetime.now(UTC).date()
    with transaction(world.nodes["XA"].sessions) as session, pytest.raises(stats.InvalidPeriod):
        stats.compute(session, today, today - timedelta(days=1), "auditor")
