"""Texts of the law data shown in the pages (element labels and conditions, conduct and
ground titles, declaration effects) are translated in one place, the documents' catalog,
and nowhere else; the pages take their wording from the law data itself."""

from __future__ import annotations

import pytest

from comity.documents.messages import law_texts
from comity.web import i18n
from comity.web.pages.drafts import conduct_titles
from comity.web.pages.requests import ground_titles
from comity.web.pages.stats import ground_labels

OTHER_LANGUAGES = [code for code in i18n.LANGUAGES if code != i18n.SOURCE_LANGUAGE]


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_law_text_is_translated_for_the_web(lang: str) -> None:
    translations = i18n.WebTranslations(lang, strict=True)
    missing = []
    for text in law_texts():
        try:
            translations.gettext(text)
        except i18n.MissingTranslation:
            missing.append(text)
    assert not missing


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_no_web_catalog_translates_a_law_text_again(lang: str) -> None:
    texts = set(law_texts())
    again = {
        (path.stem, message.id)
        for path in i18n.area_files(lang)
        for message in i18n.read_catalog(path, lang)
        if message.id in texts
    }
    assert not again


def test_the_pages_label_conduct_and_grounds_with_law_texts() -> None:
    texts = set(law_texts())
    assert set(conduct_titles().values()) <= texts
    assert set(ground_titles().values()) <= texts
    assert set(ground_labels().values()) <= texts
