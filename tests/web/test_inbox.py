"""The inbox page over real HTTP: requests sorted by what is due next, with the emergency,
near-expiry and overdue badges; filters; audited listing; every language, Arabic right-to-left."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from comity.audit.models import AuditEntry
from comity.transport.app import create_app
from comity.web.i18n import LANGUAGES
from tests.accounts.conftest import add_person
from tests.cases.conversation import act, create, days, frozen, pump
from tests.support import LiveServer, World
from tests.web.conftest import Browser

ROW = re.compile(r'<tr data-test="inbox-row" data-case="([^"]+)">(.*?)</tr>', re.S)


@pytest.fixture
def xb(world: World) -> Iterator[Browser]:
    """A browser on XB's node, served over real HTTP."""
    with LiveServer(create_app(world.nodes["XB"])) as live:
        made = Browser(live.url)
        yield made
        made.close()


def submitted(world: World, kind: str, request: dict) -> str:
    case_id = create(world, "XA", "XB", kind, request)
    act(world, "XA", case_id, "submit")
    pump(world)
    return case_id


def rows(html: str) -> list[tuple[str, str]]:
    return ROW.findall(html)


def test_inbox_sorts_by_due_next_and_shows_the_badges(world: World, xb: Browser) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0)
    with frozen(t0) as clock:
        soon = submitted(
            world,
            "mla",
            {
                "instrument": "budapest",
                "deadline": (t0 + days(10)).isoformat(),
                "deadline_reasons": "trial date",
            },
        )
        preservation = submitted(world, "preservation", {"instrument": "budapest"})
        later = submitted(
            world,
            "mla",
            {
                "instrument": "budapest",
                "deadline": (t0 + days(100)).isoformat(),
                "deadline_reasons": "limitation period",
            },
        )
        emergency = submitted(world, "emergency-disclosure", {"instrument": "budapest-p2"})
        act(world, "XB", preservation, "acknowledge")
        act(
            world,
            "XB",
            preservation,
            "accept",
            preserved_until=(t0 + days(61)).date().isoformat(),
        )
        clock.advance(days(55))
        officer = add_person(world.nodes["XB"], "amira", "central-authority-officer")
        assert xb.sign_in(officer).status_code == 303
        page = xb.get("/inbox")
        assert page.status_code == 200, page.text
        found = rows(page.text)
        # The emergency was never acknowledged (nobody on XB's roster): it is owed since the
        # day after it arrived, so it comes first and is overdue (it used to come last, no
        # Due, no badge: the defect of issue 18).
        assert [case_id for case_id, _ in found] == [emergency, soon, preservation, later]
        cells = dict(found)
        assert 'data-test="badge-overdue"' in cells[soon]
        assert "Overdue" in cells[soon]
        assert 'data-test="badge-expiring"' in cells[preservation]
        assert "Preservation near expiry" in cells[preservation]
        assert 'data-test="badge-emergency"' in cells[emergency]
        assert "Emergency" in cells[emergency]
        assert 'data-test="badge-overdue"' in cells[emergency]
        assert "Acknowledgement owed" in cells[emergency]
        assert "badge-" not in cells[later]
        assert f'href="/requests/{soon}"' in cells[soon]
        assert "Incoming" in cells[soon]
        assert "<code>XA</code>" in cells[soon]
        assert "4 requests" in page.text
        assert " style=" not in page.text
        assert "<script>" not in page.text

        filtered = xb.get("/inbox?kind=preservation&direction=incoming")
        assert [case_id for case_id, _ in rows(filtered.text)] == [preservation]
        assert "1 request matches the filters." in filtered.text
        assert rows(xb.get("/inbox?direction=outgoing").text) == []

    with world.nodes["XB"].sessions() as session:
        listed = session.execute(
            select(AuditEntry).where(AuditEntry.tag == "cases:request:listed")
        ).scalars()
        assert any(e.actor == "amira" for e in listed)


def test_inbox_needs_sign_in_and_a_reading_role(web_node, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    from comity.cases.permissions import READ_ROLES

    assert browser.get("/inbox").status_code == 303
    # An auditor reads the audit and the statistics, not requests: the API's reading roles
    # leave them out, and the inbox follows. (Where sign-in lands them is not this test's.)
    assert "auditor" not in READ_ROLES
    auditor = add_person(web_node, "audrey", "auditor")
    assert browser.sign_in(auditor).status_code == 303
    refused = browser.get("/inbox")
    assert refused.status_code == 403


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_inbox_is_translated(world: World, xb: Browser, lang: str) -> None:
    with frozen(datetime.now(UTC)):
        submitted(world, "emergency-disclosure", {"instrument": "budapest-p2"})
        officer = add_person(world.nodes["XB"], "amira", "duty-officer")
        xb.sign_in(officer)
        page = xb.get(f"/inbox?lang={lang}")
    assert page.status_code == 200, page.text[:500]
    assert f'<html lang="{lang}" dir="{LANGUAGES[lang].direction}">' in page.text
    assert ('dir="rtl"' in page.text) == (lang == "ar")
    assert ">Emergency<" not in page.text
    assert 'data-test="badge-emergency"' in page.text


def test_the_receiving_side_sees_the_acknowledgement_it_owes(world: World, xb: Browser) -> None:
    """An urgent request through the 24/7 channel on XB, nobody on XB's roster: XA counts 24 h
    for the acknowledgement; XB's inbox shows the same deadline as owed, until it acknowledges."""
    t0 = datetime.now(UTC).replace(microsecond=0)
    with frozen(t0):
        case_id = submitted(world, "preservation", {"instrument": "budapest"})
        officer = add_person(world.nodes["XB"], "amira", "duty-officer")
        assert xb.sign_in(officer).status_code == 303
        cells = dict(rows(xb.get("/inbox").text))
        due = re.search(r'<td data-test="due">(.*?)</td>', cells[case_id], re.S)
        assert due
        assert "—" not in due.group(1)
        assert "Acknowledgement owed" in due.group(1)
        owed = t0 + timedelta(seconds=world.nodes["XB"].settings.acknowledgement_expected_seconds)
        assert f'datetime="{owed.isoformat()}"' in due.group(1)
        assert "badge-overdue" not in cells[case_id]
        act(world, "XB", case_id, "acknowledge")
        cells = dict(rows(xb.get("/inbox").text))
        assert "Acknowledgement owed" not in cells[case_id]
