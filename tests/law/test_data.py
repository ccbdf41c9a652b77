"""The law data loads, matches its schema, and a bad file fails naming file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from comity.law import LawDataInvalid, emergency_kinds, get_law, load_law, request_schema
from comity.law.loader import DATA_DIR, SCHEMA_PATH, generate_schema

EXPECTED_INSTRUMENTS = {
    "untoc",
    "budapest",
    "budapest-p2",
    "uncc",
    "eu-eevidence",
    "bilateral",
    "reciprocity",
}
EXPECTED_KINDS = {
    "mla",
    "preservation",
    "traffic-data-disclosure",
    "stored-data-access",
    "real-time-traffic",
    "interception",
    "contact-point-assistance",
    "subscriber-information",
    "domain-registration",
    "giving-effect-to-order",
    "emergency-disclosure",
    "emergency-mla",
    "spontaneous-information",
}


def test_law_data_loads_every_instrument_and_kind() -> None:
    law = get_law()
    assert set(law.instruments) == EXPECTED_INSTRUMENTS
    assert set(law.kinds) == EXPECTED_KINDS


def test_every_kind_is_provided_by_some_instrument() -> None:
    law = get_law()
    provided = {k for i in law.instruments.values() for k in i.kinds}
    assert provided == EXPECTED_KINDS


def test_stored_schema_matches_the_model() -> None:
    stored = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert stored == generate_schema(), "regenerate law-data.schema.json (see README)"


def test_only_untoc_and_budapest_text_is_marked_verified() -> None:
    law = get_law()
    for inst in law.instruments.values():
        for rule in inst.kinds.values():
            for element in rule.all_elements:
                if element.verified:
                    assert element.citation.startswith(
                        ("untoc 18(15)", "untoc 18(1)", "untoc 2(b)", "budapest 29(2)")
                    )


def test_draft_uncc_preservation_period_is_unverified_and_quotes_the_seed() -> None:
    rule = get_law().instruments["uncc"].kinds["preservation"].time_rules[0]
    assert (rule.days, rule.verified) == (90, False)
    assert rule.source_text is not None
    assert "90" in rule.source_text


def test_emergency_kinds_are_marked_in_the_data_with_their_article() -> None:
    law = get_law()
    assert emergency_kinds() == {"emergency-disclosure", "emergency-mla"}
    for kind in emergency_kinds():
        basis = law.kinds[kind].emergency_basis
        assert basis is not None
        assert basis.citation.startswith("budapest-p2 ")


def test_every_kind_whose_request_must_state_the_emergency_is_marked_emergency() -> None:
    """The instruments require the facts showing the emergency (budapest-p2 9(3)(e), 10(2)):
    such a kind must be marked, or the inbox and the 24/7 desk would treat it as ordinary."""
    law = get_law()
    stating = {
        kind
        for instrument in law.instruments.values()
        for kind, rule in instrument.kinds.items()
        if "emergency_facts" in {e.field for e in rule.all_elements}
    }
    assert stating == emergency_kinds()


def test_the_request_schema_says_whether_a_kind_is_an_emergency() -> None:
    urgent = request_schema("emergency-mla")
    assert urgent["x-emergency"] is True
    assert urgent["x-emergency-citation"].startswith("budapest-p2 10(1)")
    assert request_schema("mla")["x-emergency"] is False


def _copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_a_schema_violation_names_file_and_line(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    path = data / "budapest.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if "days: 60" in line)
    lines[index] = lines[index].replace("days: 60", "days: sixty")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LawDataInvalid) as caught:
        load_law(sorted(data.glob("*.yaml")))
    assert caught.value.details["file"].endswith("budapest.yaml")
    assert caught.value.details["line"] == index + 1
    assert f"budapest.yaml:{index + 1}:" in caught.value.message


def test_a_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    (data / "grounds.yaml").write_text("grounds:\n  - code: x\n   title: [broken\n")
    with pytest.raises(LawDataInvalid, match=r"grounds\.yaml:\d+"):
        load_law(sorted(data.glob("*.yaml")))


def test_an_unknown_ground_reference_names_file_and_line(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    path = data / "untoc.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("ground: domestic-law-bar", "ground: no-such-ground"), "utf-8")
    with pytest.raises(LawDataInvalid) as caught:
        load_law(sorted(data.glob("*.yaml")))
    line = caught.value.details["line"]
    assert (
        "no-such-ground"
        in text.replace("ground: domestic-law-bar", "ground: no-such-ground").splitlines()[line - 1]
    )


def test_an_emergency_kind_without_its_article_names_file_and_line(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    path = data / "kinds.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if "emergency_basis:" not in line]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(LawDataInvalid) as caught:
        load_law(sorted(data.glob("*.yaml")))
    line = caught.value.details["line"]
    assert "emergency: true" in kept[line - 1]
    assert "emergency_basis" in caught.value.message
