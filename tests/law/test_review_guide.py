"""The legal reviewer's guide lists exactly the rules the data still marks unverified, so a
reviewer reading it knows what is left (docs/guide-law-review.md)."""

from __future__ import annotations

from pathlib import Path

from comity.law import get_law
from comity.law.sources import UNVERIFIED_END, UNVERIFIED_START, unverified, unverified_table

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide-law-review.md"


def test_the_guide_lists_the_unverified_rules_of_the_data() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    listed = text.split(UNVERIFIED_START, 1)[1].split(UNVERIFIED_END, 1)[0].strip()
    assert listed == unverified_table(get_law()), (
        "the list is stale: regenerate it with `python -m comity.law.sources`"
    )


def test_the_list_names_every_unverified_citation() -> None:
    table = unverified_table(get_law())
    for ref in unverified(get_law()):
        assert f"| {ref.rule.citation} |" in table
