"""The 24/7 desk page over HTTP, on SQLite and PostgreSQL: who is on duty (in their own time
zone), the urgent request waiting with its countdown, escalation shown in words, acknowledging
from the page (the workflow act, which closes the assignment), roles and languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from comity.demo.samples import preservation_request
from comity.duty import service as duty
from comity.kit.db import transaction
from comity.messaging.models import OutboxMessage
from comity.nodes.runtime import Node
from comity.transport.app import create_app
from comity.web.i18n import LANGUAGES
from tests.accounts.conftest import add_person
from tests.cases.conversation import act, create, frozen, pump, state, tick
from tests.support import LiveServer, World
from tests.web.conftest import Browser


@dataclass
class Desk:
    world: World
    xb: Node
    url: str
    case_id: str
    browsers: list[Browser] = field(default_factory=list)

    def browser(self, username: str, *roles: str) -> Browser:
        person = add_person(self.xb, username, *roles)
        made = Browser(self.url)
        self.browsers.append(made)
        assert made.sign_in(person).status_code == 303
        return made


@pytest.fixture
def desk(world: World) -> Iterator[Desk]:
    """XB's desk: o1 and o2 on duty all day, a Tokyo night officer off duty at this hour;
    an urgent preservation from XA went to o1, who let the deadline pass: now o2 has it."""
    xb = world.nodes["XB"]
    start = datetime.now(UTC).replace(microsecond=0)
    with frozen(start) as clock:
        with transaction(xb.sessions) as session:
            # An eight-hour shift in Tokyo (UTC+9) starting twelve hours from its time now.
            begin = (start.hour + 9 + 12) % 24
            duty.put_entry(
                session,
                "admin",
                "night",
                rank=1,
                timezone="Asia/Tokyo",
                shift_start=f"{begin:02d}:00",
                shift_end=f"{(begin + 8) % 24:02d}:00",
            )
            duty.put_entry(session, "admin", "o1", name="Olga One", rank=2)
            duty.put_entry(session, "admin", "o2", name="Omar Two", rank=3, timezone="Europe/Paris")
        case_id = create(world, "XA", "XB", "preservation", preservation_request())
        act(world, "XA", case_id, "submit")
        pump(world)
        clock.advance(timedelta(seconds=xb.settings.duty_ack_seconds + 60))
        tick(world, "XB")
    with transaction(xb.sessions) as session:
        assert [(a.user, a.status) for a in duty.assignments(session, case_id)] == [
            ("o1", "escalated"),
            ("o2", "open"),
        ]
        # Put the open deadline in the real future (the scene ran on a frozen clock).
        duty.assignments(session, case_id)[-1].ack_due_at = datetime.now(UTC) + timedelta(hours=1)
    with LiveServer(create_app(xb)) as server:
        made = Desk(world, xb, server.url, case_id)
        yield made
        for browser in made.browsers:
            browser.close()


def test_the_desk_shows_who_is_on_duty_and_the_waiting_emergency(desk: Desk) -> None:
    browser = desk.browser("o2", "duty-officer")
    page = browser.get("/duty")
    assert page.status_code == 200
    assert 'data-test="duty-row" data-user="o1" data-on-duty="yes"' in page.text
    assert 'data-test="duty-row" data-user="o2" data-on-duty="yes"' in page.text
    assert 'data-test="duty-row" data-user="night" data-on-duty="no"' in page.text
    assert "Europe/Paris" in page.text
    row = re.search(
        rf'<tr data-test="duty-emergency" data-case="{desk.case_id}"'
        r' data-escalated="yes"(.*?)</tr>',
        page.text,
        re.S,
    )
    assert row, page.text
    assert "Escalated once" in row.group(1)
    assert re.search(r'data-due="[0-9T:+.-]+"', row.group(1))
    assert re.search(
        r'data-test="duty-countdown"[^>]*>\d+ (minutes?|hours?|seconds?) left<', row.group(1)
    )
    assert 'data-test="acknowledge-button"' in row.group(1)
    assert 'hx-get="/duty/live"' in page.text
    live = browser.get("/duty/live")
    assert live.status_code == 200
    assert f'data-case="{desk.case_id}"' in live.text
    assert "<html" not in live.text
    assert 'data-status="escalated"' in page.text


def test_acknowledging_from_the_desk_performs_the_act_and_closes_the_assignment(
    desk: Desk,
) -> None:
    browser = desk.browser("o2", "duty-officer")
    browser.get("/duty")
    response = browser.post("/duty/acknowledge", {"case_id": desk.case_id, "note": "on it"})
    assert response.status_code == 303
    assert state(desk.world, "XB", desk.case_id) == "acknowledged"
    with desk.xb.sessions() as session:
        last = duty.assignments(session, desk.case_id)[-1]
        assert (last.user, last.status, last.acknowledged_by) == ("o2", "acknowledged", "o2")
        acts = session.query(OutboxMessage).filter_by(
            conversation_id=desk.case_id, recipient="XA", message_type="act"
        )
        assert acts.count() == 1
    page = browser.get(response.headers["location"])
    assert 'data-test="duty-acknowledged"' in page.text
    forged = browser.get(f"/duty?acknowledged={desk.case_id}")
    assert 'data-test="duty-acknowledged"' not in forged.text
    assert 'data-test="duty-none-waiting"' in page.text
    # Acknowledging twice is refused by the workflow (shown as an error page, not a crash).
    again = browser.post("/duty/acknowledge", {"case_id": desk.case_id})
    assert again.status_code in (409, 422)


def test_roles_on_the_desk(desk: Desk) -> None:
    drafter = desk.browser("drafter", "drafter")
    assert drafter.get("/duty").status_code == 403
    admin = desk.browser("admin", "administrator")
    page = admin.get("/duty")
    assert page.status_code == 200
    assert 'data-test="acknowledge-button"' not in page.text
    refused = admin.post("/duty/acknowledge", {"case_id": desk.case_id})
    assert refused.status_code == 403
    assert state(desk.world, "XB", desk.case_id) == "delivered"
    forged = desk.browser("o2", "duty-officer")
    forged.get("/duty")
    assert forged.post("/duty/acknowledge", {"case_id": desk.case_id}, csrf="x").status_code == 403


def test_the_desk_in_every_language(desk: Desk) -> None:
    browser = desk.browser("o2", "duty-officer")
    for lang, language in LANGUAGES.items():
        page = browser.get(f"/duty?lang={lang}")
        assert page.status_code == 200, (lang, page.text[:300])
        assert f'<html lang="{lang}" dir="{language.direction}">' in page.text
        assert browser.get(f"/duty/live?lang={lang}").status_code == 200
    assert " style=" not in page.text
    assert "<script>" not in page.text


def test_an_htmx_refresh_after_the_session_ended_loads_the_sign_in_page(
    browser: Browser,
) -> None:
    """htmx would paste a 303's sign-in page into the desk: it is told to go there instead."""
    hx = {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1/duty?lang=fr"}
    polled = browser.get("/duty/live", headers=hx)
    assert polled.status_code == 204
    assert polled.headers["HX-Redirect"] == "/login?next=/duty%3Flang%3Dfr"
    assert polled.text == ""
    # A plain request still gets the redirect.
    plain = browser.get("/duty/live")
    assert (plain.status_code, plain.headers["location"]) == (303, "/login?next=/duty/live")


def _last_seen(node: Node, username: str) -> datetime:
    from comity.accounts.models import User, UserSession

    with node.sessions() as session:
        user = session.query(User).filter_by(username=username).one()
        row = session.query(UserSession).filter_by(user_id=user.id).one()
        return row.last_seen_at


def _set_last_seen(node: Node, username: str, when: datetime) -> None:
    from comity.accounts.models import User, UserSession

    with transaction(node.sessions) as session:
        user = session.query(User).filter_by(username=username).one()
        session.query(UserSession).filter_by(user_id=user.id).one().last_seen_at = when


def test_the_desk_refresh_does_not_keep_an_idle_session_alive(desk: Desk) -> None:
    browser = desk.browser("o2", "duty-officer")
    hx = {"HX-Request": "true", "HX-Current-URL": f"{desk.url}/duty"}
    idle = timedelta(seconds=desk.xb.settings.session_idle_seconds)
    # Unattended for most of the idle limit: the refresh still shows the list...
    quiet = datetime.now(UTC) - idle + timedelta(seconds=30)
    _set_last_seen(desk.xb, "o2", quiet)
    polled = browser.get("/duty/live", headers=hx)
    assert polled.status_code == 200
    assert f'data-case="{desk.case_id}"' in polled.text
    # ...but does not count as activity,
    assert abs((_last_seen(desk.xb, "o2") - quiet).total_seconds()) < 1
    # so once the limit passes, the next refresh sends the officer to the sign-in page.
    _set_last_seen(desk.xb, "o2", datetime.now(UTC) - idle - timedelta(seconds=1))
    ended = browser.get("/duty/live", headers=hx)
    assert ended.status_code == 204
    assert ended.headers["HX-Redirect"] == "/login?next=/duty"
    # A page the officer opens is activity, as before.
    browser2 = desk.browser("o1", "duty-officer")
    _set_last_seen(desk.xb, "o1", quiet)
    assert browser2.get("/duty").status_code == 200
    assert (_last_seen(desk.xb, "o1") - quiet).total_seconds() > 60


def test_the_live_list_is_not_a_live_region_and_keeps_translated_countdowns(
    desk: Desk,
) -> None:
    browser = desk.browser("o2", "duty-officer")
    page = browser.get("/duty?lang=fr").text
    live = re.search(r'<div id="duty-live"[^>]*>', page)
    assert live
    assert "aria-live" not in live.group(0)
    assert re.search(r'<p id="duty-summary"[^>]*aria-live="polite"', page)
    assert '<script src="/static/duty.js" defer></script>' in page
    assert 'data-announce="1 demande urgente en attente"' in page
    # The translated time left is one element, which the second-by-second countdown replaces
    # with the same words ("{} restantes", "{} de retard") rather than sitting beside it.
    countdown = re.search(r'<span data-test="duty-countdown"([^>]*)>([^<]*)<', page)
    assert countdown, page
    assert re.fullmatch(r"\d+ (minutes?|heures?) restantes?", countdown.group(2))
    assert re.search(r'data-due="[^"]+"', countdown.group(1))
    assert 'data-left="{} restante' in countdown.group(1)
    assert 'data-late="{} de retard"' in countdown.group(1)
    assert 'class="countdown"' not in page
    script = browser.get("/static/duty.js")
    assert script.status_code == 200
    assert "htmx:beforeRequest" in script.text


def test_a_handed_off_emergency_stays_on_the_desk_in_red(desk: Desk) -> None:
    """Issue 18's safety defect: o2 lets the deadline pass too, nobody is left on the chain,
    the central authority has it; the desk must not read "nothing waiting"."""
    now = datetime.now(UTC)
    with transaction(desk.xb.sessions) as session:
        duty.assignments(session, desk.case_id)[-1].ack_due_at = now - timedelta(minutes=10)
    with frozen(now + timedelta(seconds=3 * desk.xb.settings.duty_ack_seconds + 3600)):
        tick(desk.world, "XB")
    with desk.xb.sessions() as session:
        assert duty.assignments(session, desk.case_id)[-1].status == "handed-off"
    browser = desk.browser("o2", "duty-officer")
    page = browser.get("/duty").text
    assert 'data-test="duty-none-waiting"' not in page
    row = re.search(
        rf'<tr data-test="duty-emergency" data-case="{desk.case_id}"([^>]*)>(.*?)</tr>',
        page,
        re.S,
    )
    assert row, page
    assert 'data-referral="handed-off"' in row.group(1)
    assert 'data-late="yes"' in row.group(1)
    assert 'class="escalated"' in row.group(1)
    assert "Handed off to the central authority" in row.group(2)
    assert re.search(r'data-test="duty-countdown"[^>]*>\d+ minutes? late<', row.group(2))
    assert 'data-test="acknowledge-button"' in row.group(2)
    assert browser.post("/duty/acknowledge", {"case_id": desk.case_id}).status_code == 303
    assert 'data-test="duty-none-waiting"' in browser.get("/duty").text


def test_the_desk_isolates_names_and_dates_in_arabic(desk: Desk) -> None:
    """Right-to-left text around a Latin user name and a date: each is isolated, so the date
    is not split around the name."""
    browser = desk.browser("o2", "duty-officer")
    page = browser.get("/duty?lang=ar").text
    assert '<html lang="ar" dir="rtl">' in page
    assert "<bdi><code>o2</code></bdi>" in page
    assert re.findall(r"(?<!<bdi>)<code>", page) == []
    assert re.search(r"<td><bdi>[^<]+</bdi></td>", page)  # the assignment's date
    # Dates inside translated sentences are wrapped in first-strong isolates.
    assert re.search("\u2068[^\u2069<]+\u2069", page)
