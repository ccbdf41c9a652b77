"""Browser end-to-end harness: real node processes (registry, XA, XB, XD) with the demo's web
accounts, and headless Chromium driven by Playwright.

Every node runs with `COMITY_WEB_STRICT_I18N=1`, so a page showing a string without a
translation answers 500; every page a test visits is watched for a 5xx answer (documents and
htmx requests alike) and for the "missing translation" page.

Sign-in uses the real form with the password and a TOTP code computed from the account's
secret. A code works once per 30-second step for a user, so each user signs in once per
session and keeps their browser context (cookies); the helper also never reuses a step.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from comity.accounts.credentials import TOTP_STEP_SECONDS, totp_code
from comity.demo.accounts import WEB_ACCOUNTS, WebAccount
from comity.demo.directory import PARTIES, REGISTRY_ID
from comity.demo.federation import Federation, Officer
from comity.kit.clock import utc_now
from tests.support import PASSPHRASE

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Generous: two shared cores, several node processes and a browser.
TIMEOUT_MS = 60_000
ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
LANGS = ("ar", "zh", "en", "fr", "ru", "es")
#: The 24/7 desk of XD has seconds, not an hour, to acknowledge (the emergency flow escalates).
XD_ACK_SECONDS = 10
FAST = {
    "retry_base_seconds": 0.2,
    "retry_max_seconds": 1.0,
    "worker_poll_seconds": 0.05,
    "lease_seconds": 5,
}
NODES = ("XA", "XB", "XD")
#: Accounts of the harness beyond the demo's: between them they see every page of XA
#: (screenshots). Two accounts, because one may not hold case roles and administration.
EXTRA_ACCOUNTS: dict[str, list[tuple[str, list[str]]]] = {
    "XA": [
        (
            "xa-screens",
            ["central-authority-officer", "duty-officer", "authorising-officer"],
        ),
        ("xa-screens-admin", ["administrator"]),
    ],
}
MISSING = re.compile(r"missing translation", re.IGNORECASE)


class BrowserFederation(Federation):
    """XD serves without a worker; its worker (timers: the desk's escalation; delivery) is a
    process of its own that a test may stop and start again."""

    workers: dict[str, subprocess.Popen[bytes]]

    def start_worker(self, participant: str) -> None:
        log = (self.log_dir / f"{participant}-worker.log").open("ab")
        self._open_files.append(log)
        self.workers[participant] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "comity",
                "node",
                "worker",
                "--home",
                str(self.nodes[participant].home),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop_worker(self, participant: str) -> None:
        process = self.workers.pop(participant, None)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def stop_all(self) -> None:
        for participant in list(self.workers):
            self.stop_worker(participant)
        super().stop_all()


# Package scope: the nodes and the browser stop when the browser tests are done, instead of
# running (and polling) through the rest of the suite.
@pytest.fixture(scope="package")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserFederation]:
    """Registry, XA, XB and XD as processes on SQLite, with the demo's accounts and tokens."""
    root = tmp_path_factory.mktemp("browser-fed")
    fed = BrowserFederation(root, PASSPHRASE, env={"COMITY_WEB_STRICT_I18N": "1"})
    fed.workers = {}
    try:
        registry = fed.init_node(REGISTRY_ID)
        key = fed.registry_key()
        for participant in NODES:
            extra: dict[str, Any] = (
                {"duty_ack_seconds": XD_ACK_SECONDS} if participant == "XD" else {}
            )
            fed.init_node(participant, registry_url=registry.url, registry_key=key, **FAST, **extra)
        parties = yaml.safe_load(PARTIES.read_text(encoding="utf-8"))
        parties["participants"] = [p for p in parties["participants"] if p["id"] in fed.nodes]
        fed.publish(fed.directory_yaml(parties))
        for participant in NODES:
            fed.web_users(
                participant, WEB_ACCOUNTS[participant] + EXTRA_ACCOUNTS.get(participant, [])
            )
        fed.token("XA", "xa-duty", ["duty-officer"])
        fed.token("XA", "xa-drafter", ["central-authority-officer"])
        fed.token("XA", "xa-screens-admin", ["administrator"])
        fed.token("XB", "xb-duty", ["duty-officer"])
        fed.token("XD", "xd-admin", ["administrator"])
        fed.token("XD", "xd-duty-1", ["duty-officer"])
        fed.start_many([REGISTRY_ID, "XA", "XB"], timeout=180)
        fed.start_many(["XD"], "--no-worker", timeout=180)
        fed.start_worker("XD")
        for participant in NODES:
            fed.await_directory(participant, timeout=60)
        yield fed
    finally:
        fed.stop_all()


def officer(fed: Federation, participant: str, user: str) -> Officer:
    """An API client with the user's token (for setting up and for checking what happened)."""
    return fed.officer(participant, user)


@dataclass
class Watch:
    """What went wrong on a page: 5xx answers from the nodes, content the security policy
    refused, script errors."""

    failures: list[str] = field(default_factory=list)

    def on_response(self, response: Any) -> None:
        if response.status >= 500:
            self.failures.append(f"{response.status} {response.request.method} {response.url}")

    def on_console(self, message: Any) -> None:
        # The strict content security policy refuses inline scripts and styles: Chromium says
        # so on the console.
        if message.type == "error" and "Content Security Policy" in message.text:
            self.failures.append(f"CSP: {message.text[:300]}")

    def on_page_error(self, error: Any) -> None:
        self.failures.append(f"script error: {error}")


@dataclass
class Session:
    """One user's signed-in browser context."""

    account: WebAccount
    context: Any
    page: Any
    watch: Watch
    base_url: str

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.url(path), wait_until="load")
        assert response is not None, path
        self.check(path)
        return response

    def check(self, where: str = "") -> None:
        """No 5xx, refused content or script error since the last check, and no untranslated
        string on the current page."""
        failures, self.watch.failures[:] = list(self.watch.failures), []
        assert not failures, f"{where}: the node answered {failures}"
        content = self.page.content()
        assert not MISSING.search(content), f"{where}: {_missing_detail(content)}"

    def submit(self, button: Any, where: str = "") -> None:
        """Press a form's button and wait for the page it leads to (post/redirect/get)."""
        with self.page.expect_navigation(wait_until="load"):
            button.click()
        self.check(where or self.page.url)

    def await_element(self, path: str, selector: str, timeout: float = 90) -> Any:
        """Open `path` again until `selector` is on it (something the nodes do in the
        background: delivery, verification, escalation); the element, or a failure."""
        deadline = time.monotonic() + timeout
        while True:
            self.goto(path)
            found = self.page.locator(selector)
            if found.count():
                return found.first
            if time.monotonic() > deadline:
                raise AssertionError(f"{path}: {selector} did not appear in {timeout} s")
            time.sleep(1)

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).first.inner_text()).strip()

    def set_language(self, lang: str) -> None:
        """Choose the interface language with the header's language buttons (kept for the
        user)."""
        self.page.click(f'form.languages button[name="lang"][value="{lang}"]')
        self.page.wait_for_load_state("load")
        self.page.wait_for_selector(f'html[lang="{lang}"]')
        self.check(f"language {lang}")


def _missing_detail(content: str) -> str:
    found = re.search(r"<p>(.*?)</p>", content, re.S)
    return f"missing translation {found.group(1) if found else ''}"


class Browsers:
    """Headless Chromium and one signed-in context per user, reused across tests."""

    def __init__(self, fed: Federation, playwright: Any) -> None:
        self.fed = fed
        self.browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        self.sessions: dict[tuple[str, str], Session] = {}
        self.last_step: dict[tuple[str, str], int] = {}

    def account(self, participant: str, username: str) -> WebAccount:
        return self.fed.nodes[participant].accounts[username]

    def new_page(
        self, participant: str, lang: str = "en", account: WebAccount | None = None
    ) -> Session:
        """A fresh context (no cookies) whose browser asks for `lang`."""
        context = self.browser.new_context(
            locale=lang,
            viewport={"width": 1280, "height": 900},
            extra_http_headers={"accept-language": lang},
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch = Watch()
        page.on("response", watch.on_response)
        page.on("console", watch.on_console)
        page.on("pageerror", watch.on_page_error)
        if account is None:
            account = WebAccount(participant, "", [], "", "", "", "")
        return Session(account, context, page, watch, self.fed.nodes[participant].url)

    def code_for(self, account: WebAccount) -> str:
        """A code for a step this user has not used yet (waiting for the next step if both
        steps the node accepts now were used)."""
        key = (account.participant, account.username)
        while True:
            now = utc_now()
            step = int(now.timestamp()) // TOTP_STEP_SECONDS
            for candidate in (step, step + 1):
                if candidate > self.last_step.get(key, 0):
                    self.last_step[key] = candidate
                    return totp_code(
                        account.totp_secret,
                        now + timedelta(seconds=(candidate - step) * TOTP_STEP_SECONDS),
                    )
            time.sleep(1)

    def sign_in(self, participant: str, username: str, lang: str = "en") -> Session:
        """The user's signed-in session (signed in through the form once, then reused); the
        interface language is set to `lang` with the header's buttons."""
        key = (participant, username)
        session = self.sessions.get(key)
        if session is None:
            account = self.account(participant, username)
            session = self.new_page(participant, lang, account)
            sign_in_with_form(session, account, self.code_for(account))
            self.sessions[key] = session
        if session.page.evaluate("document.documentElement.lang") != lang:
            session.set_language(lang)
        return session

    def close(self) -> None:
        for session in self.sessions.values():
            session.context.close()
        self.browser.close()


def sign_in_with_form(session: Session, account: WebAccount, code: str) -> None:
    session.goto("/login")
    form = session.page.locator('form[action="/login"]')
    form.locator('input[name="username"]').fill(account.username)
    form.locator('input[name="password"]').fill(account.password)
    form.locator('input[name="code"]').fill(code)
    with session.page.expect_navigation(wait_until="load"):
        form.locator('button[type="submit"]').click()
    session.check("sign-in")
    assert "/login" not in session.page.url, f"sign-in of {account.username} failed"


@pytest.fixture(scope="package")
def browsers(federation: Federation) -> Iterator[Browsers]:
    with playwright_sync.sync_playwright() as playwright:
        made = Browsers(federation, playwright)
        try:
            yield made
        finally:
            made.close()


def screenshot(session: Session, lang: str, name: str) -> Path:
    """A full-page PNG in artifacts/screenshots/<lang>/<name>.png."""
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    session.page.screenshot(path=str(path), full_page=True)
    return path


__all__ = ["LANGS", "BrowserFederation", "Browsers", "Session", "officer", "screenshot"]
