"""The statistics page and its CSV: the figures of a known set of requests (built between
in-process nodes with a frozen clock), charts as SVG with the same figures in tables, no case
content, audited reads, refused to roles without access, in every language."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from comity.audit.service import entries
from comity.transport.app import create_app
from comity.web.i18n import LANGUAGES
from tests.accounts.conftest import add_person
from tests.stats.test_service import known_cases
from tests.support import LiveServer, World
from tests.web.conftest import Browser


@pytest.fixture
def made(world: World) -> dict[str, str]:
    return known_cases(world)


@pytest.fixture
def auditor(world: World, made: dict[str, str]) -> Iterator[Browser]:
    node = world.nodes["XA"]
    with LiveServer(create_app(node)) as live:
        browser = Browser(live.url)
        browser.sign_in(add_person(node, "audrey", "auditor"))
        yield browser
        browser.close()


def period(made: dict[str, str]) -> str:
    day = datetime.fromisoformat(made["start"]).date()
    return f"from={day.isoformat()}&to={(day + timedelta(days=1)).isoformat()}"


def test_stats_page_shows_the_known_figures_in_charts_and_tables(
    world: World, made: dict[str, str], auditor: Browser
) -> None:
    page = auditor.get(f"/stats?{period(made)}")
    assert page.status_code == 200, page.text[:500]
    text = page.text
    assert "SECRET" not in text
    assert all(made[name] not in text for name in ("executed", "refused", "incoming"))
    outgoing = re.search(r'data-test="chart-kind-outgoing".*?</figure>', text, re.S)
    assert outgoing
    assert re.findall(r'data-key="([^"]+)" data-value="(\d+)"', outgoing.group(0)) == [
        ("mla", "3"),
        ("preservation", "1"),
    ]
    assert '<title id="chart-kind-outgoing-title">' in text
    # Bars are labelled with the titles the tables use, not the codes.
    labels = re.findall(r'<text class="bar-label"[^>]*>([^<]+)<', outgoing.group(0))
    assert [label[:20] for label in labels] == ["Request for mutual l", "Request for expedite"]
    party = re.search(r'data-test="stats-party".*?</table>', text, re.S)
    assert party
    assert re.findall(r'data-key="(X[BC])"', party.group(0)) == ["XB", "XC"]
    times = re.search(r'data-key="first-answer-outgoing">(.*?)</tr>', text, re.S)
    assert times
    assert 'data-seconds="7200.0"' in times.group(1)
    assert 'data-seconds="10800.0"' in times.group(1)
    assert "2 hours" in times.group(1)
    grounds = re.search(r'data-test="stats-grounds".*?</table>', text, re.S)
    assert grounds
    assert 'data-key="essential-interests"' in grounds.group(0)
    assert "budapest 27(4)(b)" in grounds.group(0)
    preservation = re.search(r'data-test="stats-preservation".*?</table>', text, re.S)
    assert preservation
    assert re.search(r'data-key="extended"><th scope="row">Extended</th><td>1</td>', text)
    with world.nodes["XA"].sessions() as session:
        assert [e.actor for e in entries(session, "stats:")] == ["audrey"]


def test_csv_holds_the_same_figures_as_an_attachment(
    world: World, made: dict[str, str], auditor: Browser
) -> None:
    response = auditor.get(f"/stats.csv?{period(made)}")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["section", "key", "value"]
    figures = {(section, key): value for section, key, value in rows[1:]}
    assert figures[("requests", "outgoing")] == "4"
    assert figures[("requests", "incoming")] == "1"
    assert figures[("outgoing-by-kind", "mla")] == "3"
    assert figures[("outgoing-by-party", "XC")] == "2"
    assert figures[("first-answer-seconds", "outgoing-median")] == "7200"
    assert figures[("first-answer-seconds", "outgoing-p90")] == "10800"
    assert figures[("execution-seconds", "incoming-median")] == "36000"
    assert figures[("refusal-grounds", "essential-interests")] == "1"
    assert figures[("preservation-outcomes", "followed-by-request")] == "1"
    assert "SECRET" not in response.text


def test_a_bad_period_is_explained(made: dict[str, str], auditor: Browser) -> None:
    assert auditor.get("/stats?from=yesterday").status_code == 400
    assert auditor.get("/stats?from=2030-01-02&to=2030-01-01").status_code == 422


def test_stats_are_refused_without_a_reviewing_role(world: World, made: dict[str, str]) -> None:
    node = world.nodes["XA"]
    with LiveServer(create_app(node)) as live:
        browser = Browser(live.url)
        browser.sign_in(add_person(node, "dmitri", "duty-officer"))
        assert browser.get("/stats").status_code == 403
        assert browser.get("/stats.csv").status_code == 403
        browser.close()


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_stats_page_in_every_language(made: dict[str, str], auditor: Browser, lang: str) -> None:
    page = auditor.get(f"/stats?{period(made)}&lang={lang}")
    assert page.status_code == 200, page.text[:300]
    assert f'lang="{lang}" dir="{LANGUAGES[lang].direction}"' in page.text
    assert " style=" not in page.text
