"""The request page over real HTTP: facts and content, the timeline of acts, receipts and
timers, only the acts open now as buttons, performing an act through its form (state changed,
audited), refusals with a clear page, no case content in the logs, every language."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from comity.audit.models import AuditEntry
from comity.cases.models import Case
from comity.transport.app import create_app
from comity.web.i18n import LANGUAGES
from tests.accounts.conftest import add_person
from tests.cases.conversation import act, create, frozen, pump
from tests.support import LiveServer, World
from tests.web.conftest import Browser

SECRET = "Suspect uses the handle nightowl-7731"
BUTTON = re.compile(r'<button type="submit" name="act" value="([^"]+)"')


@pytest.fixture
def xb(world: World) -> Iterator[Browser]:
    with LiveServer(create_app(world.nodes["XB"])) as live:
        made = Browser(live.url)
        yield made
        made.close()


def received(world: World, kind: str = "mla", instrument: str = "untoc") -> str:
    request = {"instrument": instrument, "facts_summary": SECRET}
    if instrument == "untoc":  # untoc 18(1), 2(b): the convention's scope
        request |= {
            "maximum_penalty_years": 10,
            "transnational_nature": True,
            "organized_criminal_group": True,
        }
    case_id = create(world, "XA", "XB", kind, request)
    act(world, "XA", case_id, "submit")
    pump(world)
    return case_id


def tags(world: World, case_id: str) -> list[tuple[str, str]]:
    with world.nodes["XB"].sessions() as session:
        found = session.execute(
            select(AuditEntry).where(AuditEntry.subject == case_id).order_by(AuditEntry.id)
        ).scalars()
        return [(e.tag, e.actor) for e in found]


def state(world: World, case_id: str) -> str:
    with world.nodes["XB"].sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.state


def test_request_page_shows_facts_content_timeline_and_only_allowed_acts(
    world: World, xb: Browser
) -> None:
    with frozen(datetime.now(UTC)):
        case_id = received(world)
        officer = add_person(world.nodes["XB"], "amira", "central-authority-officer")
        xb.sign_in(officer)
        page = xb.get(f"/requests/{case_id}")
        assert page.status_code == 200, page.text[:800]
        pump(world)  # the retrieved receipt reaches XA
    text = page.text
    assert f'<code data-test="case-id">{case_id}</code>' in text
    assert 'data-state="delivered"' in text
    assert SECRET in text
    assert 'data-test="timeline-act" data-what="submit"' in text
    assert 'data-test="timeline-act" data-what="deliver"' in text
    assert 'data-test="timeline-receipt" data-what="retrieved"' in text
    buttons = set(BUTTON.findall(text))
    assert {"acknowledge", "consult", "refuse", "request-information"} <= buttons
    assert "withdraw" not in buttons
    assert "submit" not in buttons
    assert "execute" not in buttons
    assert 'id="act-refuse"' in text
    assert 'name="grounds" value="essential-interests"' in text
    assert 'name="grounds" value="bank-secrecy"' not in text
    assert 'data-test="ground-citation"' in text
    assert " style=" not in text
    assert "<script>" not in text
    assert ("cases:request:read", "amira") in tags(world, case_id)
    # XA's page shows the signed retrieved receipt and XA's pending timers with countdowns.
    with LiveServer(create_app(world.nodes["XA"])) as live:
        xa = Browser(live.url)
        xa.sign_in(add_person(world.nodes["XA"], "omar", "central-authority-officer"))
        theirs = xa.get(f"/requests/{case_id}").text
        xa.close()
    assert 'data-test="timeline-receipt" data-what="retrieved"' in theirs
    assert 'data-test="timeline-timer"' in theirs
    assert "data-due=" in theirs
    assert set(BUTTON.findall(theirs)) >= {"withdraw", "status-query"}
    assert "acknowledge" not in BUTTON.findall(theirs)


def test_performing_an_act_through_its_form_changes_the_state_and_is_audited(
    world: World, xb: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with frozen(datetime.now(UTC)):
        case_id = received(world)
        officer = add_person(world.nodes["XB"], "amira", "central-authority-officer")
        xb.sign_in(officer)
        xb.get(f"/requests/{case_id}")
        done = xb.post(f"/requests/{case_id}/acts", {"act": "acknowledge", "note": "Received."})
        assert done.status_code == 303
        assert done.headers["location"].startswith(f"/requests/{case_id}?done=acknowledge&sig=")
        assert state(world, case_id) == "acknowledged"
        page = xb.get(done.headers["location"])
        assert 'data-test="act-done"' in page.text
        # A crafted link cannot make the page say that an act was done.
        forged = xb.get(f"/requests/{case_id}?done=refuse")
        assert 'data-test="act-done"' not in forged.text
        forged = xb.get(f"/requests/{case_id}?done=refuse&sig=0123456789abcdef01234567")
        assert 'data-test="act-done"' not in forged.text
        assert 'data-test="timeline-act" data-what="acknowledge"' in page.text
        # Refusal under UNTOC needs consultation first: the form comes back with the reason.
        refused = xb.post(
            f"/requests/{case_id}/acts",
            {"act": "refuse", "grounds": "essential-interests", "reasons": SECRET},
        )
        assert refused.status_code == 409
        assert "untoc 18(26)" in refused.text
        assert state(world, case_id) == "acknowledged"
        consulted = xb.post(
            f"/requests/{case_id}/acts",
            {"act": "consult", "subject": "Partial execution?", "considering": "partial"},
        )
        assert consulted.status_code == 303
        missing = xb.post(f"/requests/{case_id}/acts", {"act": "refuse", "reasons": "x"})
        assert missing.status_code == 422
        assert 'data-test="form-errors"' in missing.text
        assert "This field is required." in missing.text
        final = xb.http.post(
            f"/requests/{case_id}/acts",
            data={
                "csrf": xb.csrf,
                "act": "refuse",
                "grounds": ["essential-interests"],
                "reasons": "Essential interests.",
            },
        )
        assert final.status_code == 303
        pump(world)
    assert state(world, case_id) == "refused"
    with world.nodes["XA"].sessions() as session:
        theirs = session.get(Case, case_id)
        assert theirs is not None
        assert theirs.state == "refused"
    seen = tags(world, case_id)
    assert ("cases:act:acknowledge", "amira") in seen
    assert ("cases:act:refused", "amira") in seen
    assert ("cases:act:refuse", "amira") in seen
    assert SECRET not in caplog.text


def test_an_act_not_allowed_now_or_by_the_role_is_refused_with_a_clear_page(
    world: World, xb: Browser
) -> None:
    with frozen(datetime.now(UTC)):
        case_id = received(world)
        responder = add_person(world.nodes["XB"], "pat", "provider-responder")
        xb.sign_in(responder)
        page = xb.get(f"/requests/{case_id}")
        assert "consult" not in BUTTON.findall(page.text)
        forbidden = xb.post(f"/requests/{case_id}/acts", {"act": "consult", "subject": "s"})
        assert forbidden.status_code == 403
        assert 'role="alert"' in forbidden.text
        wrong_time = xb.post(f"/requests/{case_id}/acts", {"act": "execute", "summary": "s"})
        assert wrong_time.status_code == 409
        assert "not allowed" in wrong_time.text
        not_ours = xb.post(f"/requests/{case_id}/acts", {"act": "withdraw", "reasons": "r"})
        assert not_ours.status_code in (403, 409)
        forged = xb.post(f"/requests/{case_id}/acts", {"act": "acknowledge"}, csrf="forged")
        assert forged.status_code == 403
    assert state(world, case_id) == "delivered"
    refusals = [t for t in tags(world, case_id) if t[0] == "cases:act:refused"]
    assert len(refusals) == 3


def test_a_drafter_sees_the_request_but_no_act(world: World, xb: Browser) -> None:
    with frozen(datetime.now(UTC)):
        case_id = received(world)
        xb.sign_in(add_person(world.nodes["XB"], "dora", "drafter"))
        page = xb.get(f"/requests/{case_id}")
    assert page.status_code == 200
    assert BUTTON.findall(page.text) == []
    assert 'data-test="no-acts"' in page.text


def test_an_unknown_request_is_not_found(world: World, xb: Browser) -> None:
    with frozen(datetime.now(UTC)):
        xb.sign_in(add_person(world.nodes["XB"], "amira", "central-authority-officer"))
        page = xb.get("/requests/does-not-exist")
    assert page.status_code == 404


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_request_page_is_translated(world: World, xb: Browser, lang: str) -> None:
    with frozen(datetime.now(UTC)):
        case_id = received(world, "preservation", "budapest")
        xb.sign_in(add_person(world.nodes["XB"], "amira", "central-authority-officer"))
        page = xb.get(f"/requests/{case_id}?lang={lang}")
    assert page.status_code == 200, page.text[:500]
    assert f'<html lang="{lang}" dir="{LANGUAGES[lang].direction}">' in page.text
    assert ('dir="rtl"' in page.text) == (lang == "ar")
    assert "What you can do now" not in page.text


def test_the_other_side_reads_what_each_act_says(world: World, xb: Browser) -> None:
    """XB asks for information through the page: XA's page shows the questions, labelled in
    the reader's language, in a container whose direction follows the text."""
    question = "Which account identifiers did the suspect use on 3 March?"
    with frozen(datetime.now(UTC)):
        case_id = received(world)
        xb.sign_in(add_person(world.nodes["XB"], "amira", "central-authority-officer"))
        xb.get(f"/requests/{case_id}")
        asked = xb.post(
            f"/requests/{case_id}/acts", {"act": "request-information", "questions": question}
        )
        assert asked.status_code == 303
        pump(world)
        with LiveServer(create_app(world.nodes["XA"])) as live:
            xa = Browser(live.url)
            xa.sign_in(add_person(world.nodes["XA"], "omar", "central-authority-officer"))
            theirs = xa.get(f"/requests/{case_id}").text
            french = xa.get(f"/requests/{case_id}?lang=fr").text
            xa.close()
    entry = re.search(
        r'data-test="timeline-act" data-what="request-information"(.*?)</li>', theirs, re.S
    )
    assert entry, theirs
    assert "Questions to the requesting party" in entry.group(1)
    assert f'<div class="note" dir="auto">{question}</div>' in entry.group(1)
    assert 'data-field="questions"' in entry.group(1)
    assert "Questions à la partie requérante" in french


def test_an_act_only_an_unverified_rule_would_refuse_says_so_after_it_went_through(
    world: World, xb: Browser
) -> None:
    """Issue 13: the UN convention's list of refusal grounds is not verified against its text
    (the text is not in the repository) and lacks the political offence; a refusal on that
    ground goes through, and the page says which article's reading would have refused it."""
    uncc = {"instruments": [{"instrument": "uncc", "in_force_from": "2026-01-01"}]}
    world.republish(XA=uncc, XB=uncc)
    case_id = received(world, instrument="uncc")
    act(world, "XB", case_id, "consult", subject="refusal?")
    officer = add_person(world.nodes["XB"], "amira", "central-authority-officer")
    xb.sign_in(officer)
    xb.get(f"/requests/{case_id}")
    done = xb.post(
        f"/requests/{case_id}/acts",
        {"act": "refuse", "grounds": "political-offence", "reasons": "A political offence."},
    )
    assert done.status_code == 303, done.text
    assert state(world, case_id) == "refused"
    page = xb.get(done.headers["location"])
    warned = re.search(r'data-test="act-unverified">(.*?)</p>', page.text, re.S)
    assert warned is not None
    assert "uncc" in warned.group(1)
    assert "not verified" in warned.group(1)
