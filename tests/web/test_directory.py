"""The directory pages: the current signed version and its participants with a filter, one
participant's contacts, languages, declarations, keys and the instruments in force between
us and them, and the versions kept — in every language, Arabic right-to-left."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from comity.nodes.runtime import Node
from comity.web.i18n import LANGUAGES
from tests.accounts.conftest import add_person
from tests.support import import_into, make_node, participant_entry, publish
from tests.web.conftest import Browser


@pytest.fixture
def registry(tmp_path: Path, database_factory: Callable[[], str]) -> Iterator[Node]:
    made = make_node(tmp_path / "registry", "REGISTRY", database_factory())
    yield made
    made.close()


def publish_directory(registry: Node, web_node: Node, version_note: str = "") -> str:
    """XA (this node), the state XB with contacts, a declaration and the instruments both
    ratified, and a provider established in XB."""
    xa = participant_entry(
        web_node,
        instruments=[
            {"instrument": "budapest", "in_force_from": "2015-03-01"},
            {"instrument": "untoc", "in_force_from": "2004-01-01"},
        ],
    )
    xb = {
        "id": "XB",
        "name": "State XB" + version_note,
        "type": "state",
        "endpoint": "https://xb.example/",
        "keys": participant_entry(registry)["keys"],
        "languages": ["en", "fr"],
        "contacts": [
            {
                "role": "24/7-contact",
                "name": "XB 24/7 desk",
                "email": "desk@xb.example",
                "phone": "+1 555 0100",
                "hours": "24/7",
                "timezone": "Europe/Paris",
            },
            {"role": "central-authority", "name": "XB Ministry of Justice"},
        ],
        "declarations": [
            {
                "instrument": "budapest-p2",
                "article": "7(5)(a)",
                "type": "declaration",
                "effect": "simultaneous-notification",
            }
        ],
        "instruments": [
            {"instrument": "budapest", "in_force_from": "2016-07-01"},
            {"instrument": "untoc", "in_force_from": "2003-09-29"},
        ],
    }
    provider = {
        "id": "PROV",
        "name": "Example Mail",
        "type": "provider",
        "established_in": "XB",
        "languages": ["en"],
    }
    return publish(registry, [xa, xb, provider])


@pytest.fixture
def with_directory(registry: Node, web_node: Node) -> Node:
    import_into(web_node, publish_directory(registry, web_node), registry)
    web_node.settings.registry_key = dict(registry.keyring.signing_key().as_dict(private=False))
    return registry


@pytest.fixture
def officer(web_node: Node, browser: Browser) -> Browser:
    browser.sign_in(add_person(web_node, "olga", "central-authority-officer"))
    return browser


def test_directory_lists_the_signed_version_and_its_participants(
    with_directory: Node, officer: Browser
) -> None:
    page = officer.get("/directory")
    assert page.status_code == 200, page.text
    assert 'data-test="signature-verified"' in page.text
    assert with_directory.keyring.signing_key().kid in page.text
    rows = re.findall(r'data-test="participant-row" data-participant="([^"]+)"', page.text)
    assert rows == ["XA", "XB", "PROV"]
    assert "XB 24/7 desk" not in page.text  # names of contacts only on the participant page
    assert "24/7 point of contact" in page.text
    filtered = officer.get("/directory?q=mail")
    assert re.findall(r'data-participant="([^"]+)"', filtered.text) == ["PROV"]
    providers = officer.get("/directory?type=state")
    assert re.findall(r'data-participant="([^"]+)"', providers.text) == ["XA", "XB"]


def test_participant_page_shows_contacts_declarations_instruments_and_keys(
    with_directory: Node, officer: Browser
) -> None:
    page = officer.get("/directory/XB")
    assert page.status_code == 200, page.text
    text = page.text
    assert "XB 24/7 desk" in text
    assert "desk@xb.example" in text
    assert 'data-role="24/7-contact"' in text
    instruments = re.findall(r'data-test="instrument-row" data-instrument="([^"]+)"', text)
    assert instruments == ["budapest", "untoc"]
    assert "Jul 1, 2016" in text  # budapest between XA and XB: from the later ratification
    # The declaration row says what the declaration means, in words the law data gives for its
    # effect (the directory entry carries only the code), under its translated type.
    row = re.search(r'data-test="declaration-row">(.*?)</tr>', text, re.S)
    assert row, text
    assert '<th scope="row">Declaration</th>' in row.group(1)
    assert "<code>simultaneous-notification</code>" in row.group(1)
    assert "notified at the same time to its designated authority" in row.group(1)
    assert with_directory.keyring.signing_key().kid in text
    assert officer.get("/directory/NOPE").status_code == 404


def test_history_lists_every_version_kept(
    with_directory: Node, web_node: Node, officer: Browser
) -> None:
    import_into(web_node, publish_directory(with_directory, web_node, " (renamed)"), with_directory)
    page = officer.get("/directory/history")
    assert page.status_code == 200
    assert re.findall(r'data-test="version-row" data-version="(\d+)"', page.text) == ["2", "1"]
    assert "State XB (renamed)" in officer.get("/directory").text


def test_without_a_directory_the_page_says_so(officer: Browser) -> None:
    page = officer.get("/directory")
    assert page.status_code == 200
    assert 'data-test="no-directory"' in page.text


def test_the_directory_needs_a_session(browser: Browser) -> None:
    assert browser.get("/directory").status_code == 303


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_directory_pages_in_every_language(
    with_directory: Node, officer: Browser, lang: str
) -> None:
    for path in ("/directory", "/directory/XB", "/directory/PROV", "/directory/history"):
        page = officer.get(f"{path}?lang={lang}")
        assert page.status_code == 200, f"{path}: {page.text[:300]}"
        assert f'lang="{lang}" dir="{LANGUAGES[lang].direction}"' in page.text
        assert " style=" not in page.text
        assert "<script>" not in page.text
