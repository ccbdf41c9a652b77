"""No unverified rule blocks (issue 13): a rule checked against a primary text in the
repository blocks; one that is not warns, says it is unverified and lets the drafter (or the
requested party's act) through."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from comity.directory.document import Directory
from comity.law import NoSuchRule, RefusalGroundNotAllowed, check_request
from comity.law.acts import check_grounds, preservation_shortfall
from comity.law.grounds import Refusing

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "requests"
ON = date(2026, 9, 1)


def _example(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))
    return loaded


def test_missing_element_of_a_verified_rule_blocks(directory: Directory) -> None:
    """Budapest 29(2)(c), verified against ETS 185: the data to preserve must be specified."""
    request = _example("preservation")
    del request["data_to_preserve"]
    (finding,) = [
        f for f in check_request(directory, request, ON) if f.element == "data_to_preserve"
    ]
    assert (finding.severity, finding.citation, finding.verified) == (
        "blocking",
        "budapest 29(2)(c)",
        True,
    )
    assert "blocks_when_verified" not in finding.params


def test_missing_element_of_an_unverified_rule_warns_and_says_so(directory: Directory) -> None:
    """CETS 224 7(3)(c) (the provider's name and address): the Protocol text is not in the
    repository, so the finding warns, is marked unverified and names the rule."""
    request = _example("subscriber-information")
    del request["provider"]
    findings = check_request(directory, request, ON)
    (finding,) = [f for f in findings if f.element == "provider"]
    assert (finding.severity, finding.verified) == ("warning", False)
    assert finding.params["verified"] is False
    assert "budapest-p2 7(3)(c)" in finding.message
    assert "not verified" in finding.message
    assert not [f for f in findings if f.severity == "blocking"]


def _who(directory: Directory) -> Refusing:
    """XB refusing a request of XA."""
    return Refusing(directory, "XA", "XB", ON, {})


def test_a_ground_a_verified_rule_excludes_is_refused(directory: Directory) -> None:
    """Budapest 29(5): preservation may be refused only on the grounds listed there."""
    with pytest.raises(RefusalGroundNotAllowed) as caught:
        check_grounds(
            _who(directory), "preservation", "budapest", ["domestic-law-bar"], "Reasons.", "refusal"
        )
    assert caught.value.details["article"] == "budapest 29(5)"


def test_a_ground_only_an_unverified_rule_excludes_warns(directory: Directory) -> None:
    """CETS 224 7(5)(c): the Protocol's list is unverified; a ground outside it is let
    through with a warning naming the article."""
    (warning,) = check_grounds(
        _who(directory),
        "subscriber-information",
        "budapest-p2",
        ["contrary-to-legal-system"],
        "Reasons.",
        "refusal",
    )
    assert (warning.field, warning.citation, warning.verified) == (
        "grounds",
        "budapest-p2 7(5)(c)",
        False,
    )
    assert "not verified" in warning.message


def test_an_unknown_ground_is_refused_whatever_the_rule(directory: Directory) -> None:
    with pytest.raises(RefusalGroundNotAllowed):
        check_grounds(
            _who(directory),
            "subscriber-information",
            "budapest-p2",
            ["no-such-ground"],
            "Reasons.",
            "refusal",
        )


def test_preservation_shorter_than_a_verified_minimum_is_refused() -> None:
    """Budapest 29(7): a preservation lasts not less than sixty days."""
    short = preservation_shortfall("budapest", ON + timedelta(days=30), ON)
    assert short is not None
    assert (short.citation, short.verified) == ("budapest 29(7)", True)
    assert preservation_shortfall("budapest", ON + timedelta(days=60), ON) is None


def test_preservation_shorter_than_an_unverified_minimum_warns() -> None:
    """The UN convention's 90 days come from a 2022 draft (seed 004), not from an adopted
    text in the repository: a shorter preservation warns instead of being refused."""
    short = preservation_shortfall("uncc", ON + timedelta(days=60), ON)
    assert short is not None
    assert short.verified is False
    assert "90 days" in short.message
    assert "not verified" in short.message


def test_dual_criminality_for_a_listed_offence_warns_while_the_exception_is_unverified(
    directory: Directory,
) -> None:
    """eu-eevidence 12(1)(d): dual criminality may not be raised for an offence listed in the
    order; the exception's text is not fully in the repository, so a refusal on that ground is
    let through with a warning naming the article — and without the listed offence, nothing."""
    listed = Refusing(directory, "XA", "XB", ON, {"listed_offence": True})
    (warning,) = check_grounds(
        listed, "emergency-disclosure", "eu-eevidence", ["dual-criminality"], "Reasons.", "refusal"
    )
    assert warning.citation == "eu-eevidence 12(1)(d)"
    assert "not verified" in warning.message
    assert not check_grounds(
        _who(directory),
        "emergency-disclosure",
        "eu-eevidence",
        ["dual-criminality"],
        "Reasons.",
        "refusal",
    )


def test_no_preservation_period_under_reciprocity_is_no_shortfall() -> None:
    """Reciprocity (seed 000 A(2)) sets no preservation period: the requested party's law
    governs and there is no minimum to cite, so any date the officer gives is no shortfall -
    no number is invented and no error raised."""
    assert preservation_shortfall("reciprocity", ON + timedelta(days=1), ON) is None
    assert preservation_shortfall("reciprocity", ON + timedelta(days=365), ON) is None


def test_an_instrument_with_no_preservation_at_all_still_says_so() -> None:
    """UNTOC provides no preservation request: asking for its period is an error, not None."""
    with pytest.raises(NoSuchRule):
        preservation_shortfall("untoc", ON + timedelta(days=60), ON)
