"""Every mandatory element of every kind under every instrument is enforced with its citation,
and every example request is complete."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from comity.directory.document import Directory
from comity.law import check_request, get_law, request_schema, required_elements

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "requests"
ON = date(2026, 9, 1)


def _example(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))
    return loaded


def _cases() -> list[Any]:
    cases = []
    for kind in sorted(get_law().kinds):
        instrument = _example(kind)["instrument"]
        for element in required_elements(kind, instrument):
            cases.append(pytest.param(kind, element.field, id=f"{kind}-{element.field}"))
    return cases


@pytest.mark.parametrize("kind", sorted(get_law().kinds))
def test_example_request_has_no_blocking_finding(directory: Directory, kind: str) -> None:
    findings = check_request(directory, _example(kind), ON)
    assert [f for f in findings if f.severity == "blocking"] == []


@pytest.mark.parametrize("kind", sorted(get_law().kinds))
def test_example_request_matches_its_schema(kind: str) -> None:
    jsonschema.validate(_example(kind), request_schema(kind))


@pytest.mark.parametrize(("kind", "field"), _cases())
def test_missing_element_is_reported_with_its_citation(
    directory: Directory, kind: str, field: str
) -> None:
    request = _example(kind)
    element = next(e for e in required_elements(kind, request["instrument"]) if e.field == field)
    request.pop(field, None)
    findings = [f for f in check_request(directory, request, ON) if f.element == field]
    assert findings, f"no finding for missing {field}"
    assert findings[0].citation == element.citation
    # No unverified rule blocks (issue 13): it warns and says so.
    blocks = element.severity == "blocking" and element.verified
    expected = "warning" if element.severity == "blocking" and not blocks else element.severity
    assert findings[0].severity == expected
    assert findings[0].verified == element.verified


def test_facts_summary_not_needed_for_service_of_documents(directory: Directory) -> None:
    request = _example("mla")
    del request["facts_summary"]
    request["measures"] = ["service-of-documents"]
    assert not [f for f in check_request(directory, request, ON) if f.element == "facts_summary"]


def test_preservation_without_intention_to_follow_up_is_blocked(directory: Directory) -> None:
    request = _example("preservation") | {"intends_mla": False}
    findings = [f for f in check_request(directory, request, ON) if f.element == "intends_mla"]
    assert [(f.severity, f.citation) for f in findings] == [("blocking", "budapest 29(2)(f)")]


def test_request_schema_requires_the_mandatory_fields() -> None:
    schema = request_schema("preservation")
    assert {"offence", "data_to_preserve", "necessity", "intends_mla"} <= set(schema["required"])
    assert "custodian_or_location" not in schema["required"]
