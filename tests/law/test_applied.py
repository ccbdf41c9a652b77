"""A check names the instrument it applied, why, and the route (issue: "the check output names
the instrument applied, why — treaty priority, fallback, date — and the route"): an officer
must see what the findings were measured against, never a silent default."""

from __future__ import annotations

from datetime import date

from comity.directory.document import Directory
from comity.law.applied import FALLBACK, NAMED, ONLY, PREFERRED, applied
from comity.law.checking import check

ON = date(2026, 12, 8)


def _doc(kind: str, requesting: str, requested: str, **more: str) -> dict[str, str]:
    return {"kind": kind, "requesting_party": requesting, "requested_party": requested, **more}


def test_the_preferred_instrument_is_named_with_those_it_comes_before(
    directory: Directory,
) -> None:
    """XA and XB are both parties to Budapest and UNTOC: Budapest comes first by the priority
    of the law data; the UN convention is not in force for XB, and the check says so."""
    found = applied(directory, _doc("mla", "XA", "XB"), ON)
    assert found is not None
    assert (found.instrument, found.why) == ("budapest", PREFERRED)
    assert found.also_binding == ["untoc"]
    assert "untoc" in found.explanation
    assert ON.isoformat() in found.explanation
    reasons = {n.instrument: n.reason for n in found.not_applied}
    assert reasons["uncc"].endswith("not on 2026-12-08 (no ratification in force)")


def test_a_binding_mla_treaty_displaces_the_general_procedure_and_says_so(
    directory: Directory,
) -> None:
    """UNTOC 18(7): where a mutual legal assistance treaty binds the parties, its procedure
    applies instead of paragraphs 9 to 29; XA and XE have a bilateral treaty."""
    found = applied(directory, _doc("mla", "XA", "XE"), ON)
    assert found is not None
    assert (found.instrument, found.why) == ("bilateral", ONLY)
    reasons = {n.instrument: n.reason for n in found.not_applied}
    assert "displaced by treaty" in reasons["untoc"]


def test_reciprocity_is_a_fallback_and_the_check_says_why(directory: Directory) -> None:
    """No instrument with a preservation request binds XB and XC: reciprocity applies, and the
    check says it fell back, on which date, rather than passing it off as a treaty."""
    found = applied(directory, _doc("preservation", "XB", "XC"), ON)
    assert found is not None
    assert (found.instrument, found.why) == ("reciprocity", FALLBACK)
    assert "fallback" in found.explanation
    assert ON.isoformat() in found.explanation


def test_an_instrument_the_request_names_is_applied_as_named_with_its_route(
    directory: Directory,
) -> None:
    """Budapest 35(1)(b): a preservation request may go to the 24/7 point of contact."""
    checked = check(directory, _doc("preservation", "XA", "XB", instrument="budapest"), ON)
    assert checked.applied is not None
    assert (checked.applied.instrument, checked.applied.why) == ("budapest", NAMED)
    assert checked.applied.route.channel == "24/7-contact"
    assert checked.applied.route.citation == "budapest 35(1)(b)"
    shown = checked.to_dict()["applied"]
    assert shown["instrument"] == "budapest"
    assert shown["route"]["to"] == "XB"
