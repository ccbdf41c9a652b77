"""A language the requested party does not accept, or outside the six, is refused with a
message that names the accepted ones."""

from __future__ import annotations

import pytest

from comity.directory.document import Directory
from comity.documents import LanguageNotAccepted, UnsupportedFormat, render_request
from tests.documents.conftest import ON, example


def test_language_the_party_does_not_accept_is_refused(scenario: Directory) -> None:
    with pytest.raises(LanguageNotAccepted) as caught:
        render_request(example("preservation"), scenario, "en", "pdf", ON)
    assert caught.value.status_code == 422
    assert caught.value.details["field"] == "lang"
    assert caught.value.details["accepted"] == ["fr"]
    assert "Borduria (XB) accepts requests in fr, not 'en'" in caught.value.message


def test_provider_languages_govern_a_direct_order(scenario: Directory) -> None:
    # PD (Dorado Messaging) accepts ar and en; the order goes to it directly.
    with pytest.raises(LanguageNotAccepted, match="accepts requests in ar, en"):
        render_request(example("domain-registration"), scenario, "fr", "pdf", ON)


def test_language_outside_the_six_is_refused(scenario: Directory) -> None:
    with pytest.raises(LanguageNotAccepted, match="ar, zh, en, fr, ru, es") as caught:
        render_request(example("preservation"), scenario, "de", "pdf", ON)
    assert caught.value.details["field"] == "lang"


def test_unknown_format_is_refused(scenario: Directory) -> None:
    with pytest.raises(UnsupportedFormat, match="pdf, docx"):
        render_request(example("preservation"), scenario, "fr", "odt", ON)
