"""The catalogs translate every label the document can show, with placeholders intact."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from comity.documents import LANGUAGES
from comity.documents import messages as m
from comity.documents.catalogs import catalog_path
from comity.law import get_law


def _msgids() -> set[str]:
    ids = {*m.KIND_TITLES.values(), *m.INSTRUMENT_TITLES.values(), *m.CHANNELS.values()}
    ids |= {v for k, v in vars(m).items() if k.isupper() and isinstance(v, str)}
    return ids | set(m.law_texts())


def test_law_texts_include_every_label_title_condition_and_effect_of_the_law_data() -> None:
    law = get_law()
    texts = m.law_texts()
    for instrument in law.instruments.values():
        for rule in instrument.kinds.values():
            for element in rule.all_elements:
                assert element.label in texts
                assert element.condition_text is None or element.condition_text in texts
    assert {c.title for c in law.conduct_categories.values()} <= set(texts)
    assert {g.title for g in law.grounds.values()} <= set(texts)
    assert {g.short_title for g in law.grounds.values()} <= set(texts)
    assert {e.effect_text for e in law.declaration_effects.values()} <= set(texts)


def test_every_kind_has_a_title() -> None:
    assert set(m.KIND_TITLES) == set(get_law().kinds)


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_catalog_translates_every_message(lang: str) -> None:
    with catalog_path(lang).open("rb") as source:
        catalog = read_po(source, locale=lang)
    translated = {
        message.id: message.string
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }
    missing = sorted(_msgids() - set(translated))
    assert not missing, f"{lang}: untranslated: {missing}"
    for msgid, msgstr in translated.items():
        assert isinstance(msgid, str)
        assert isinstance(msgstr, str)
        assert set(re.findall(r"\{\w+\}", msgid)) == set(re.findall(r"\{\w+\}", msgstr)), msgid
