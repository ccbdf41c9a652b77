"""Verified means verified (issue 13): a rule may be `verified: true` only if the passage it
rests on is quoted in `source_text` and appears verbatim in a primary text the repository
ships (src/comity/law/texts/)."""

from __future__ import annotations

import pytest

from comity.law import get_law
from comity.law.sources import (
    appears_verbatim,
    normalise,
    passage,
    primary_texts,
    rules,
    unverified,
)


def test_every_shipped_text_names_its_source_and_how_it_is_cited() -> None:
    texts = primary_texts()
    assert set(texts) >= {"budapest", "untoc", "eu-eevidence"}
    for text in texts.values():
        assert text.source, text.file
        assert text.articles, f"{text.file}: no '## Article N' headings"


def test_every_verified_rule_quotes_a_shipped_text_verbatim() -> None:
    bad = []
    for ref in rules(get_law()):
        if not ref.rule.verified:
            continue
        if not ref.rule.source_text:
            bad.append(f"{ref.where} ({ref.rule.citation}): verified but no source_text")
        elif not appears_verbatim(ref.rule.source_text):
            bad.append(f"{ref.where} ({ref.rule.citation}): source_text not in law/texts")
    assert not bad, "\n".join(bad)


def test_every_verified_quote_comes_from_the_article_it_cites() -> None:
    """The quote must be in the cited article, paragraph and point, not anywhere in the text:
    e.g. budapest 29(2)(c) quotes 'the stored computer data to be preserved'."""
    bad = []
    for ref in rules(get_law()):
        if ref.rule.verified and ref.rule.source_text:
            cited = passage(ref.rule.citation)
            if cited is None or normalise(ref.rule.source_text) not in normalise(cited):
                bad.append(f"{ref.where}: quote not in {ref.rule.citation.split(';')[0]}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    ("citation", "words"),
    [
        ("budapest 29(2)(c)", "the stored computer data to be preserved and its relationship"),
        ("budapest 29(7)", "not less than sixty days"),
        ("untoc 18(8)", "on the ground of bank secrecy"),
        ("untoc 18(21)(d)", "contrary to the legal system of the requested State Party"),
        ("eu-eevidence 11(1)", "The obligation to preserve the data shall cease after 60 days"),
    ],
)
def test_passage_reads_the_cited_article_paragraph_and_point(citation: str, words: str) -> None:
    found = passage(citation)
    assert found is not None
    assert words in normalise(found)


@pytest.mark.parametrize(
    "citation", ["budapest-p2 9(3)(e)", "uncc 42(7)", "eu-eevidence 10(4)", "budapest 99"]
)
def test_a_text_or_paragraph_not_shipped_has_no_passage(citation: str) -> None:
    """CETS 224 and the UN convention are not in the repository; EU 2023/1543 10(4) was not
    read: nothing can be verified against them."""
    assert passage(citation) is None


def test_a_quote_not_in_the_texts_is_not_verbatim() -> None:
    assert appears_verbatim("the requested Party shall take all appropriate measures")
    assert not appears_verbatim("保存期不得少于 90 天")  # seed 004, a 2022 UN proposal
    assert not appears_verbatim("   ")


def test_second_protocol_rules_quote_no_seed_text() -> None:
    """Seed 004 is a 2022 proposal for the UN convention, not CETS 224: no Protocol rule may
    quote it as its source."""
    protocol = [r for r in rules(get_law()) if r.where.startswith("instruments.budapest-p2")]
    assert protocol
    assert all(r.rule.source_text is None and not r.rule.verified for r in protocol)


def test_unverified_lists_only_unverified_rules() -> None:
    listed = unverified(get_law())
    assert listed
    assert all(not r.rule.verified for r in listed)
    assert any(r.where.startswith("instruments.uncc") for r in listed)
