"""A full-page screenshot of every main page in each of the six UN languages, in
artifacts/screenshots/<lang>/<page>.png; a page with a string left untranslated fails.

The pages show real content: before the screenshots, the nodes' APIs are used to leave a draft
awaiting approval, a preservation request acknowledged and accepted by XB, and an evidence
package sealed on XB and verified on XA, and an urgent request from XB on XA's 24/7 desk."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta

import pytest

from comity.demo.federation import wait_until
from comity.demo.samples import preservation_request
from comity.kit.clock import utc_now
from tests.web.browser.conftest import LANGS, BrowserFederation, Browsers, officer, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.browser]

RTL = {"ar"}


@dataclass(frozen=True)
class Seeded:
    draft_id: str
    case_id: str
    package_id: str


@pytest.fixture(scope="module")
def seeded(federation: BrowserFederation) -> Seeded:
    xa = officer(federation, "XA", "xa-duty")
    xb = officer(federation, "XB", "xb-duty")
    drafter = officer(federation, "XA", "xa-drafter")
    document = preservation_request()
    draft = drafter.call(
        "POST",
        "/v1/requests/drafts",
        json={"kind": "preservation", "requested": "XB", "document": document},
    )

    case_id = xa.create("preservation", "XB", document)["id"]
    xa.act(case_id, "submit")
    xb.await_state(case_id, "delivered", timeout=120)
    xb.act(case_id, "acknowledge", note="Received by the Borduria 24/7 desk")
    until = (utc_now() + timedelta(days=90)).date().isoformat()
    xb.act(case_id, "accept", preserved_until=until, note="PB ordered to preserve")
    xa.await_state(case_id, "accepted", timeout=120)

    source = federation.root / "screens-evidence"
    source.mkdir(exist_ok=True)
    (source / "access.log").write_text(
        "2026-08-14T21:02:11Z 203.0.113.7 POST /pay 200\n", encoding="utf-8"
    )
    folder = federation.nodes["XB"].home / "import" / "screens"
    sealed = subprocess.run(
        [
            sys.executable,
            "-m",
            "comity",
            "evidence",
            "seal",
            str(source),
            "--out",
            str(folder),
            "--home",
            str(federation.nodes["XB"].home),
            "--request",
            case_id,
            "--description",
            "Access log of the server rented by nightowl",
            "--method",
            "Exported by Borduria Hosting under a preservation order",
            "--conditions",
            "Use only in the hospital ransomware case",
            "--proceeding",
            "Xanadu v. unknown (nightowl)",
        ],
        env=federation.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert sealed.returncode == 0, sealed.stderr
    package = xb.call("POST", "/v1/evidence/packages/import", json={"folder": str(folder)})
    xb.call("POST", f"/v1/evidence/packages/{package['id']}/send", json={"to": "XA"})
    wait_until(
        lambda: any(
            p["id"] == package["id"] and p["status"] == "verified"
            for p in xa.call("GET", "/v1/evidence/packages")
        ),
        180,
        "XA did not verify the evidence package",
    )

    # XA's 24/7 desk: an officer on duty, and a preservation request from XB waiting for them.
    admin = officer(federation, "XA", "xa-screens-admin")
    admin.call(
        "PUT",
        "/v1/duty/roster/xa-duty",
        json={"rank": 1, "role": "officer", "timezone": "Europe/Paris"},
    )
    incoming = {**document, "requesting_party": "XB", "requested_party": "XA"}
    urgent = xb.create("preservation", "XA", incoming)["id"]
    xb.act(urgent, "submit")
    wait_until(
        lambda: admin.call("GET", f"/v1/duty/assignments?case_id={urgent}"),
        120,
        "XA's desk did not get the urgent request",
    )
    return Seeded(draft["id"], case_id, package["id"])


def main_pages(seeded: Seeded) -> list[tuple[str, str]]:
    return [
        ("inbox", "/inbox"),
        ("drafts", "/drafts"),
        ("wizard-step-1", "/drafts/new"),
        ("wizard-step-2", "/drafts/new?party=XB&kind=preservation"),
        ("approval", f"/drafts/{seeded.draft_id}/approve"),
        ("request", f"/requests/{seeded.case_id}"),
        ("evidence", "/evidence"),
        ("evidence-package", f"/evidence/{seeded.package_id}"),
        ("duty", "/duty"),
        ("directory", "/directory"),
        ("statistics", "/stats"),
        ("administration", "/admin"),
        ("preferences", "/preferences"),
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_every_main_page_in_each_language(browsers: Browsers, seeded: Seeded, lang: str) -> None:
    anonymous = browsers.new_page("XA", lang)
    try:
        response = anonymous.goto("/login")
        assert response.status == 200
        html = anonymous.page.locator("html")
        assert html.get_attribute("lang") == lang
        assert html.get_attribute("dir") == ("rtl" if lang in RTL else "ltr")
        screenshot(anonymous, lang, "sign-in")
    finally:
        anonymous.context.close()

    officer_session = browsers.sign_in("XA", "xa-screens", lang)
    admin_session = browsers.sign_in("XA", "xa-screens-admin", lang)
    for name, path in main_pages(seeded):
        session = admin_session if name == "administration" else officer_session
        response = session.goto(path)
        assert response.status == 200, f"{path}: {response.status}"
        assert "/login" not in session.page.url, path
        assert session.page.locator("html").get_attribute("lang") == lang
        assert session.page.locator("h1").count() == 1, f"{path}: one <h1>"
        screenshot(session, lang, name)
