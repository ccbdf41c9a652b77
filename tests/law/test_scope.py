"""UNTOC applies only to a serious crime, transnational in nature, involving an organized
criminal group (untoc 18(1), 3(1)(b), 2(b)); the four-year threshold is in the data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from comity.directory.document import Directory, parse_directory
from comity.law import check_request, get_law, request_schema

from .conftest import scenario_directory_document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "requests"
ON = date(2026, 9, 1)


def _untoc(kind: str = "mla", **fields: Any) -> dict[str, Any]:
    request: dict[str, Any] = json.loads((EXAMPLES / "interception.json").read_text("utf-8"))
    request |= {"kind": kind, "requesting_party": "XB", "requested_party": "XC"}
    request |= {"instrument": "untoc", "language": "es"}
    return request | fields


def _blocking(directory: Directory, request: dict[str, Any]) -> list[tuple[str, str]]:
    found = check_request(directory, request, ON)
    return [(f.element, f.citation) for f in found if f.severity == "blocking"]


def test_the_serious_crime_threshold_is_four_years_in_the_data_untoc_2_b() -> None:
    serious = get_law().instruments["untoc"].kinds["mla"].scope.serious_crime  # type: ignore[union-attr]
    assert serious is not None
    assert (serious.minimum_years, serious.citation, serious.verified) == (4, "untoc 2(b)", True)
    assert "at least four years" in (serious.source_text or "")


@pytest.mark.parametrize("kind", ["mla", "stored-data-access", "real-time-traffic", "interception"])
def test_untoc_3_1_b_blocks_an_offence_punishable_by_less_than_four_years(
    directory: Directory, kind: str
) -> None:
    """A 3-year maximum is not a serious crime (untoc 2(b)): UNTOC does not cover it."""
    found = check_request(directory, _untoc(kind, maximum_penalty_years=3), ON)
    out = [f for f in found if f.params.get("error") == "outside_scope"]
    assert len(out) == 1
    assert out[0].severity == "blocking"
    assert out[0].verified
    assert out[0].element == "maximum_penalty_years"
    assert out[0].citation == "untoc 3(1)(b); untoc 2(b)"


@pytest.mark.parametrize("years", [4, 10])
def test_untoc_2_b_four_years_or_more_is_a_serious_crime(directory: Directory, years: int) -> None:
    assert _blocking(directory, _untoc(maximum_penalty_years=years)) == []


def test_untoc_2_b_life_imprisonment_is_a_more_serious_penalty(directory: Directory) -> None:
    request = _untoc(maximum_penalty_years=0, maximum_penalty_life=True)
    assert _blocking(directory, request) == []


def test_untoc_3_1_a_laundering_needs_no_threshold(directory: Directory) -> None:
    """Laundering (untoc 6) is covered by 3(1)(a) whatever its penalty."""
    request = _untoc(maximum_penalty_years=2, conduct=["money-laundering"])
    assert _blocking(directory, request) == []


def test_untoc_2_b_a_missing_penalty_warns_without_blocking(directory: Directory) -> None:
    request = _untoc()
    del request["maximum_penalty_years"]
    found = check_request(directory, request, ON)
    assert [(f.severity, f.code) for f in found if f.element == "maximum_penalty_years"] == [
        ("warning", "missing-element")
    ]


@pytest.mark.parametrize("field", ["transnational_nature", "organized_criminal_group"])
def test_untoc_18_1_transnational_nature_and_organized_group_must_be_confirmed(
    directory: Directory, field: str
) -> None:
    assert _blocking(directory, _untoc(**{field: False})) == [(field, "untoc 18(1)")]
    missing = _untoc()
    del missing[field]
    assert _blocking(directory, missing) == [(field, "untoc 18(1)")]


def test_budapest_requests_need_no_untoc_scope(directory: Directory) -> None:
    request = _untoc(instrument="budapest", maximum_penalty_years=1, language="es")
    request["requested_party"], request["requesting_party"] = "XB", "XA"
    request["language"] = "fr"
    found = check_request(directory, request, ON)
    assert not [f for f in found if f.params.get("error") == "outside_scope"]


def test_the_requested_partys_own_maximum_from_the_directory_is_shown() -> None:
    """The directory's `penalties` of the requested party are information in the finding."""
    document = scenario_directory_document()
    xc = next(p for p in document["participants"] if p["id"] == "XC")
    xc["penalties"] = [{"conduct": "extortion", "maximum_years": 6, "basis": "XC Penal Code 210"}]
    directory = parse_directory(document, source="test")
    found = check_request(directory, _untoc(maximum_penalty_years=3), ON)
    out = next(f for f in found if f.params.get("error") == "outside_scope")
    assert out.params["requested_party_penalties"] == "extortion: 6 years (XC Penal Code 210)"
    assert "XC Penal Code 210" in out.message


def test_the_request_schema_takes_the_scope_fields() -> None:
    properties = request_schema("mla")["properties"]
    assert properties["maximum_penalty_years"]["type"] == "number"
    assert properties["maximum_penalty_life"]["type"] == "boolean"
    assert properties["transnational_nature"]["type"] == "boolean"
    assert properties["organized_criminal_group"]["type"] == "boolean"


def test_a_penalty_in_words_is_mistyped_not_silently_in_scope() -> None:
    from comity.law.checking import check

    directory = parse_directory(scenario_directory_document(), source="test")
    result = check(directory, _untoc(maximum_penalty_years="three"), ON)
    assert [(f.code, f.element) for f in result.findings if f.code == "mistyped"] == [
        ("mistyped", "maximum_penalty_years")
    ]
