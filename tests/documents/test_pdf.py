"""Every example request renders to PDF in each of the six languages, with translated
structure and the free text kept as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from comity.directory.document import Directory
from comity.documents import LANGUAGES, build_document, render_request
from comity.documents.catalogs import translations
from comity.documents.messages import KIND_TITLES, LEGAL_BASIS, TRANSLATION_REQUIRED
from tests.documents.conftest import KINDS, ON, example, pdf_text, squeeze


def _first_free_text(request: dict[str, object], polyglot: Directory, lang: str) -> str:
    doc = build_document(request, polyglot, lang, ON)
    for entry in doc.elements:
        if entry.value is not None and entry.value.lang == "en" and " " in entry.value.value:
            return entry.value.value
    raise AssertionError(f"{request['kind']} example has no free text")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_translated_with_free_text_as_written(
    kind: str, lang: str, polyglot: Directory, tmp_path: Path
) -> None:
    request = example(kind)
    text = squeeze(pdf_text(render_request(request, polyglot, lang, "pdf", ON), tmp_path))
    gettext = translations(lang).gettext
    assert squeeze(gettext(KIND_TITLES[kind])) in text
    assert squeeze(gettext(LEGAL_BASIS)) in text
    facts = _first_free_text(request, polyglot, lang)
    assert squeeze(" ".join(facts.split()[:8])) in text
    marker = squeeze(gettext(TRANSLATION_REQUIRED))
    assert (marker in text) is (lang != "en")


def test_facts_in_the_document_language_need_no_translation(
    polyglot: Directory, tmp_path: Path
) -> None:
    request = {**example("preservation"), "language_of_facts": "fr"}
    french = pdf_text(render_request(request, polyglot, "fr", "pdf", ON), tmp_path, "fr")
    english = pdf_text(render_request(request, polyglot, "en", "pdf", ON), tmp_path, "en")
    assert "Traduction requise" not in french
    assert "Translation required" in english
    assert "Original language: French" in english
