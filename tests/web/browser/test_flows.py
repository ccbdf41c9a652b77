"""End-to-end flows in the browser between real nodes.

(a) Scenario 1 through the pages, XA's officers in Arabic (right-to-left) and XB's in French:
XA's drafter writes a preservation request to XB in the wizard, the authorising officer
approves and sends it; XB's duty officer sees it arrive, acknowledges, accepts, seals and sends
the evidence and executes; XA sees the request executed and the evidence verified, acknowledges
the conditions and opens it.

(b) Scenario 2 on XD's 24/7 desk: an emergency arrives, nobody acknowledges, the node escalates
it; the desk shows it escalated and late, and acknowledging it there works.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from comity.demo.federation import wait_until
from comity.demo.samples import load_request, preservation_request
from comity.documents.messages import KIND_TITLES
from comity.kit.clock import utc_now
from comity.web.i18n import translations
from tests.web.browser.conftest import BrowserFederation, Browsers, Session, officer

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CONDITION = "Use only in the hospital ransomware case"
PROCEEDING = "Xanadu v. unknown (nightowl)"


def _(lang: str, message: str, area: str) -> str:
    """What a page of `area` (its templates' folder) shows for `message` in `lang`."""
    return translations(lang, strict=True, area=area).gettext(message)


def fill(form: Any, values: dict[str, Any]) -> None:
    """Fill the form's visible fields named like the document's keys."""
    for name, value in values.items():
        fields = form.locator(f'[name="{name}"]:not([type="hidden"])')
        if not fields.count():
            continue
        first = fields.first
        tag = first.evaluate("e => e.tagName.toLowerCase()")
        kind = first.get_attribute("type") or ""
        if tag == "select":
            first.select_option(str(value))
        elif kind == "checkbox":
            for item in value if isinstance(value, list) else [value] if value else []:
                choice = form.locator(f'[name="{name}"]')
                if isinstance(value, list):
                    choice = form.locator(f'[name="{name}"][value="{item}"]')
                choice.first.check()
        else:
            first.fill(str(value))


def open_act(session: Session, act: str) -> Any:
    """The form of an act on the request page (its <details> opened, as a user does)."""
    panel = session.page.locator(f'details[data-test="act-panel"][data-act="{act}"]')
    assert panel.count(), f"the act {act!r} is not offered on {session.page.url}"
    panel.locator("summary").click()
    return panel.locator(f"form#act-{act}")


def assert_rtl(session: Session) -> None:
    html = session.page.locator("html")
    assert html.get_attribute("lang") == "ar"
    assert html.get_attribute("dir") == "rtl"


def test_preservation_with_evidence_in_arabic_and_french(
    federation: BrowserFederation, browsers: Browsers, tmp_path: Path
) -> None:
    document = preservation_request()

    # XA, in Arabic: the drafter writes the request in the wizard.
    drafter = browsers.sign_in("XA", "xa-drafter", "ar")
    drafter.goto("/drafts/new")
    assert_rtl(drafter)
    assert drafter.text("h1") == _("ar", "New request", "drafts")
    step1 = drafter.page.locator("form#wizard-step1")
    step1.locator('select[name="party"]').select_option("XB")
    step1.locator('select[name="kind"]').select_option("preservation")
    drafter.submit(step1.locator('[data-test="next"]'), "wizard step 1")
    assert_rtl(drafter)
    assert drafter.text("h1") == _("ar", KIND_TITLES["preservation"], "drafts")
    form = drafter.page.locator("form#draft-new")
    fill(form, document)
    drafter.submit(form.locator('button[name="act"][value="save"]'), "wizard step 2")
    assert drafter.page.locator('[data-test="saved"]').count() == 1
    draft_id = drafter.text('[data-test="draft-id"]')

    # XA, in Arabic: the authorising officer approves and sends it.
    authoriser = browsers.sign_in("XA", "xa-authoriser", "ar")
    authoriser.goto(f"/drafts/{draft_id}/approve")
    assert_rtl(authoriser)
    approve = authoriser.page.locator('form#approve-form button[name="act"][value="approve"]')
    assert approve.is_enabled(), "a finding blocks the approval"
    authoriser.submit(approve, "approve")
    assert authoriser.page.locator('[data-test="done"]').count() == 1
    dispatch = authoriser.page.locator('form#dispatch-form button[name="act"][value="dispatch"]')
    authoriser.submit(dispatch, "dispatch")
    assert "/requests/" in authoriser.page.url
    case_id = authoriser.text('[data-test="case-id"]')

    # XB, in French: the duty officer sees it arrive in the inbox and acknowledges it.
    xb = browsers.sign_in("XB", "xb-duty", "fr")
    row = xb.await_element("/inbox", f'[data-test="inbox-row"][data-case="{case_id}"]')
    assert xb.page.locator("html").get_attribute("dir") == "ltr"
    xb.submit(row.locator("a").first, "open from the inbox")
    assert xb.text('[data-test="case-id"]') == case_id
    xb.submit(open_act(xb, "acknowledge").locator('button[name="act"]'), "acknowledge")
    assert xb.page.locator('[data-test="act-done"]').count() == 1
    state = xb.page.locator('[data-test="facts"] [data-test="state"]')
    assert state.get_attribute("data-state") == "acknowledged"
    assert state.inner_text().strip() == _("fr", "Acknowledged", "requests")

    # ... accepts it, the data preserved for 90 days ...
    accept = open_act(xb, "accept")
    until = (utc_now() + timedelta(days=90)).date().isoformat()
    accept.locator('[name="preserved_until"]').fill(until)
    xb.submit(accept.locator('button[name="act"]'), "accept")
    assert state.get_attribute("data-state") == "accepted"
    assert state.inner_text().strip() == _("fr", "Accepted", "requests")

    # ... seals the provider's data and sends it as evidence, and executes the request.
    source = tmp_path / "pb-export"
    source.mkdir()
    (source / "access.log").write_text(
        "2026-08-14T21:02:11Z 203.0.113.7 POST /pay 200\n", encoding="utf-8"
    )
    (source / "subscriber.txt").write_text("account nightowl, paid in cash\n", encoding="utf-8")
    xb.goto(f"/evidence/new?case={case_id}")
    evidence = xb.page.locator("form#evidence-form")
    evidence.locator('input[name="files"]').set_input_files(
        [str(source / "access.log"), str(source / "subscriber.txt")]
    )
    evidence.locator('[name="description"]').fill("Access log and subscriber record of nightowl")
    evidence.locator('[name="method"]').fill(
        "Exported by Borduria Hosting under a preservation order"
    )
    evidence.locator('[name="conditions"]').fill(CONDITION)
    evidence.locator('[name="proceedings"]').fill(PROCEEDING)
    xb.submit(evidence.locator('button[name="act"][value="seal-and-send"]'), "seal and send")
    assert xb.page.locator('[data-test="evidence-sent"]').count() == 1
    package_id = xb.page.url.split("/evidence/")[1].split("?")[0]
    xb.goto(f"/requests/{case_id}")
    execute = open_act(xb, "execute")
    execute.locator('[name="summary"]').fill("Preserved; the access log and subscriber record sent")
    xb.submit(execute.locator('button[name="act"]'), "execute")
    assert state.get_attribute("data-state") == "executed"

    # XA, in Arabic: the prosecutor sees the request executed and the evidence verified ...
    prosecutor = browsers.sign_in("XA", "xa-prosecutor", "ar")
    executed = prosecutor.await_element(
        f"/requests/{case_id}", '[data-test="facts"] [data-test="state"][data-state="executed"]'
    )
    assert_rtl(prosecutor)
    assert executed.inner_text().strip() == _("ar", "Executed", "requests")
    prosecutor.await_element(
        f"/evidence/{package_id}", '[data-test="verification-status"][data-status="verified"]'
    )
    assert_rtl(prosecutor)
    assert prosecutor.page.locator('[data-test="evidence-file"]').count() == 2

    # ... opening needs every condition acknowledged: without, the node refuses ...
    opening = prosecutor.page.locator("form#open-form")
    prosecutor.submit(opening.locator('button[name="act"][value="open"]'), "open, unacknowledged")
    assert prosecutor.page.locator('[data-test="open-error"]').count() == 1
    assert prosecutor.page.locator('[data-test="opened"]').count() == 0

    # ... with them acknowledged, it opens and the files can be downloaded.
    opening = prosecutor.page.locator("form#open-form")
    for box in opening.locator('[data-test="condition-checkbox"]').all():
        box.check()
    opening.locator('[data-test="acknowledge-checkbox"]').check()
    opening.locator('[name="proceeding"]').select_option(PROCEEDING)
    prosecutor.submit(opening.locator('button[name="act"][value="open"]'), "open")
    assert prosecutor.page.locator('[data-test="opened"]').count() == 1
    assert prosecutor.page.locator('[data-test="file-download"]').count() == 2
    actions = [
        row.get_attribute("data-action")
        for row in prosecutor.page.locator('[data-test="custody-row"]').all()
    ]
    assert "verified" in actions
    assert "opened" in actions

    # What the pages did is what the nodes hold.
    xa_api = officer(federation, "XA", "xa-duty")
    assert xa_api.state(case_id) == "executed"
    package = xa_api.call("GET", f"/v1/evidence/packages/{package_id}")
    assert package["status"] == "verified"
    assert officer(federation, "XB", "xb-duty").state(case_id) == "executed"


def test_an_unanswered_emergency_is_escalated_and_acknowledged_on_the_desk(
    federation: BrowserFederation, browsers: Browsers
) -> None:
    admin = officer(federation, "XD", "xd-admin")
    for user, rank, role in (
        ("xd-duty-1", 1, "officer"),
        ("xd-duty-2", 2, "officer"),
        ("xd-supervisor", 9, "supervisor"),
    ):
        admin.call(
            "PUT",
            f"/v1/duty/roster/{user}",
            json={"rank": rank, "role": role, "timezone": "Asia/Dubai"},
        )
    xa = officer(federation, "XA", "xa-duty")
    case_id = xa.create("emergency-disclosure", "XD", load_request("emergency-disclosure"))["id"]
    xa.act(case_id, "submit")

    # Nobody on XD acknowledges: the node gives it to the next officer on the roster.
    assignments = f"/v1/duty/assignments?case_id={case_id}"
    wait_until(
        lambda: any(a["user"] == "xd-duty-2" for a in admin.call("GET", assignments)),
        120,
        "XD did not escalate the unanswered emergency",
    )
    # XD's worker stops (the node still serves): the escalated request stays on the desk past
    # its new deadline, as when the next step is late.
    federation.stop_worker("XD")
    second = next(a for a in admin.call("GET", assignments) if a["user"] == "xd-duty-2")
    due = datetime.fromisoformat(second["ack_due_at"])
    while utc_now() <= due:
        time.sleep(0.5)

    desk = browsers.sign_in("XD", "xd-duty-2", "ru")
    desk.goto("/duty")
    row = desk.page.locator(f'[data-test="duty-emergency"][data-case="{case_id}"]')
    assert row.count() == 1
    assert row.get_attribute("data-escalated") == "yes"
    assert row.locator('[data-test="duty-escalated"]').count() == 1
    # One countdown: the live clock replaces the server's translated "… late" text and keeps
    # the word, so the officer reads "0:00:07 late" in Russian, never a bare "−0:00:07" beside
    # the server's sentence.
    countdown = row.locator('[data-test="duty-countdown"]')
    assert countdown.count() == 1
    assert datetime.fromisoformat(str(countdown.get_attribute("data-due"))) < utc_now()
    late = _("ru", "%(late)s late", "duty") % {"late": "{}"}
    assert countdown.get_attribute("data-late") == late
    clock = re.escape(late).replace(re.escape("{}"), r"\d+:\d\d:\d\d")
    desk.page.wait_for_function(
        "([el, pattern]) => new RegExp('^' + pattern + '$').test(el.textContent.trim())",
        arg=[countdown.element_handle(), clock],
        timeout=5000,
    )
    assert "\u2212" not in countdown.inner_text()
    assert row.locator(".badge.overdue").inner_text().strip() == _("ru", "Overdue", "duty")

    desk.submit(row.locator('button[name="act"][value="acknowledge"]'), "acknowledge on the desk")
    assert desk.page.locator('[data-test="duty-acknowledged"]').count() == 1
    assert desk.page.locator(f'[data-test="duty-emergency"][data-case="{case_id}"]').count() == 0
    statuses = {a["user"]: a["status"] for a in admin.call("GET", assignments)}
    assert statuses == {"xd-duty-1": "escalated", "xd-duty-2": "acknowledged"}

    # The worker back: the acknowledgement reaches XA, and the late timer changes nothing.
    federation.start_worker("XD")
    xa.await_state(case_id, "acknowledged", timeout=120)
    statuses = {a["user"]: a["status"] for a in admin.call("GET", assignments)}
    assert statuses == {"xd-duty-1": "escalated", "xd-duty-2": "acknowledged"}
