"""Every finding carries a stable code and the values of its sentence, so a page can say it
in the reader's language; the English message stays as it was for the API and CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from comity.directory.document import Directory
from comity.law import FINDING_CODES, Finding, check_request

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "requests"
ON = date(2026, 9, 1)


def _example(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))
    return loaded


def _one(findings: list[Finding], code: str) -> Finding:
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, [(f.code, f.message) for f in findings]
    return found[0]


def test_a_missing_element_names_its_field_label_and_condition(directory: Directory) -> None:
    request = _example("mla")
    del request["facts_summary"]
    finding = _one(check_request(directory, request, ON), "missing-element")
    assert finding.element == "facts_summary"
    assert finding.params["field"] == "facts_summary"
    assert finding.params["label"] in finding.message
    assert set(finding.params) - {"verified", "blocks_when_verified"} == {
        "field",
        "label",
        "condition",
    }


def test_an_unconfirmed_undertaking_must_be_true(directory: Directory) -> None:
    request = _example("subscriber-information") | {"simultaneous_notification_made": False}
    finding = _one(check_request(directory, request, ON), "must-be-true")
    assert finding.params["field"] == "simultaneous_notification_made"
    assert "must be true." in finding.message


def test_a_language_not_accepted_lists_the_accepted_ones(directory: Directory) -> None:
    request = _example("mla") | {"language": "en"}
    finding = _one(check_request(directory, request, ON), "language-not-accepted")
    assert finding.params["party"] == "XB"
    assert finding.params["language"] == "en"
    assert "fr" in finding.params["languages"]
    assert "fr" in finding.message


def test_a_missing_language_lists_the_accepted_ones(directory: Directory) -> None:
    request = _example("mla") | {"language": ""}
    finding = _one(check_request(directory, request, ON), "language-missing")
    assert "fr" in finding.params["languages"]


def test_uncovered_conduct_gives_the_conduct_codes_and_titles(directory: Directory) -> None:
    request = _example("mla") | {"conduct": ["money-laundering"]}
    finding = _one(check_request(directory, request, ON), "dual-criminality")
    assert finding.params["conduct"] == ["money-laundering"]
    assert finding.params["titles"] == ["Laundering of proceeds of crime"]
    assert finding.params["party"] == "XB"


def test_unknown_conduct_names_the_codes(directory: Directory) -> None:
    request = _example("mla") | {"conduct": ["hacking"]}
    finding = _one(check_request(directory, request, ON), "unknown-conduct")
    assert finding.params["conduct"] == ["hacking"]


def test_a_declaration_in_force_gives_its_effect_code(directory: Directory) -> None:
    request = _example("emergency-disclosure") | {"data_categories": ["subscriber"]}
    finding = _one(check_request(directory, request, ON), "declaration-effect")
    assert finding.params["effect"] == "no-emergency-subscriber-only"
    assert finding.params["type"] == "declaration"
    assert finding.params["party"] == "XD"
    assert finding.params["effect_text"] in finding.message


def test_a_displaced_general_procedure_names_the_treaty(directory: Directory) -> None:
    request = _example("mla") | {"requesting_party": "XE", "requested_party": "XA"}
    request |= {"instrument": "untoc", "language": "en"}
    finding = _one(check_request(directory, request, ON), "treaty-displaces")
    assert finding.params == {"treaty": "XA-XE-mla-2010", "instrument": "untoc"}


def test_no_applicable_instrument_is_a_law_error_with_its_code(directory: Directory) -> None:
    request = _example("subscriber-information") | {"requesting_party": "XE", "instrument": None}
    finding = _one(check_request(directory, request, ON), "law-error")
    assert finding.params["error"] == "no_applicable_instrument"
    assert finding.params["fallback_kind"] == "mla"
    assert finding.element == "instrument"


@pytest.mark.parametrize("kind", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_every_finding_on_an_emptied_example_has_a_known_code(
    directory: Directory, kind: str
) -> None:
    example = _example(kind)
    keep = {"kind", "requesting_party", "requested_party", "instrument"}
    emptied = {k: v for k, v in example.items() if k in keep} | {"conduct": ["extortion"]}
    for request in (example, emptied):
        for finding in check_request(directory, request, ON):
            assert finding.code in FINDING_CODES, finding
            json.dumps(dict(finding.params))
