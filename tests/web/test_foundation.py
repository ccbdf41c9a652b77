"""The web interface's shared behaviour: sign-in with the second factor, CSRF on every form,
security headers, languages (Arabic right-to-left) and complete catalogs."""

from __future__ import annotations

import re

import httpx
import pytest

from comity.audit.models import AuditEntry
from comity.nodes.runtime import Node
from comity.web import messages
from comity.web.i18n import LANGUAGES
from tests.accounts.conftest import add_person, code_now
from tests.web.conftest import Browser


def test_every_message_of_the_web_is_translated_into_the_five_other_languages() -> None:
    assert messages.missing() == []


def test_a_page_needs_a_session_and_sends_back_to_it_after_sign_in(
    web_node: Node, browser: Browser
) -> None:
    person = add_person(web_node, "amira", "duty-officer")
    response = browser.get("/preferences")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/preferences"
    browser.get("/login?next=/preferences")
    response = browser.post(
        "/login",
        {
            "username": person.username,
            "password": person.password,
            "code": code_now(person),
            "next": "/preferences",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/preferences"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    page = browser.get("/preferences")
    assert page.status_code == 200
    assert "amira" in page.text


def test_a_wrong_code_fails_sign_in_without_saying_which_factor(
    web_node: Node, browser: Browser
) -> None:
    person = add_person(web_node, "amira", "duty-officer")
    browser.get("/login")
    response = browser.post(
        "/login", {"username": person.username, "password": person.password, "code": "000000"}
    )
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert "comity_session" not in response.headers.get("set-cookie", "")


def test_sign_in_elsewhere_is_not_followed_off_the_site(web_node: Node, browser: Browser) -> None:
    person = add_person(web_node, "amira", "duty-officer")
    browser.get("/login")
    response = browser.post(
        "/login",
        {
            "username": person.username,
            "password": person.password,
            "code": code_now(person),
            "next": "//evil.example/steal",
        },
    )
    assert response.headers["location"] == "/inbox"


def test_a_form_without_the_csrf_token_is_refused_and_audited(
    web_node: Node, browser: Browser
) -> None:
    person = add_person(web_node, "amira", "duty-officer")
    assert browser.sign_in(person).status_code == 303
    browser.get("/preferences")
    refused = browser.post("/preferences", {"lang": "fr", "time_zone": "UTC"}, csrf="forged")
    assert refused.status_code == 403
    with web_node.sessions() as session:
        actions = [e.tag for e in session.query(AuditEntry).all()]
    assert "web:csrf:refused" in actions
    accepted = browser.post("/preferences", {"lang": "fr", "time_zone": "Europe/Paris"})
    assert accepted.status_code == 303
    page = browser.get(accepted.headers["location"])
    assert 'lang="fr"' in page.text
    assert 'role="status"' in page.text
    assert 'role="status"' not in browser.get("/preferences?saved=preferences").text


INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)|<style|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.IGNORECASE
)


def assert_protected(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    found = INLINE.search(response.text)
    assert found is None, f"inline script or style the CSP would block: {found}"


def test_pages_carry_security_headers_and_no_inline_code(web_node: Node, browser: Browser) -> None:
    assert_protected(browser.get("/login"))
    # Case pages and administration need two people: one account may not hold both.
    officer = add_person(web_node, "amira", "duty-officer", "central-authority-officer")
    administrator = add_person(web_node, "ada", "administrator")
    officer_pages = ("/inbox", "/drafts", "/drafts/new", "/duty", "/evidence", "/directory")
    admin_pages = ("/stats", "/admin", "/admin/users", "/preferences", "/no-such-page")
    for person, paths in ((officer, officer_pages), (administrator, admin_pages)):
        browser.sign_in(person)
        for path in paths:
            response = browser.get(path)
            # 503: the drafting wizard needs a directory, which this lone node has not got.
            assert response.status_code in (200, 404, 503), (path, response.status_code)
            assert_protected(response)


def test_an_unexpected_error_is_a_protected_page_and_its_message_is_not_logged(
    web_node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    from comity.transport.app import create_app
    from tests.support import LiveServer

    app = create_app(web_node)

    def broken() -> None:
        raise RuntimeError("subscriber alice@example.org")

    app.add_api_route("/broken", broken)
    app.add_api_route("/v1/broken", broken)
    with LiveServer(app) as live, httpx.Client(base_url=live.url) as http:
        page = http.get("/broken")
        api = http.get("/v1/broken")
    assert page.status_code == 500
    assert_protected(page)
    assert page.headers["x-correlation-id"] in page.text  # the reference an officer reports
    assert api.status_code == 500
    body = api.json()
    assert body["error"] == "internal"
    assert body["correlation_id"] == api.headers["x-correlation-id"]
    assert "alice@example.org" not in api.text
    assert "alice@example.org" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_unknown_pages_and_wrong_methods_answer_with_a_page(browser: Browser) -> None:
    missing = browser.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "<h1>" in missing.text
    api = browser.get("/v1/no-such-route")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("roles", "landing"),
    [
        (("duty-officer",), "/inbox"),
        (("auditor",), "/stats"),
        (("administrator",), "/admin"),
        (("drafter",), "/inbox"),
        (("central-authority-officer",), "/inbox"),
        (("authorising-officer",), "/inbox"),
    ],
)
def test_each_user_lands_on_a_page_their_roles_open(
    web_node: Node, browser: Browser, roles: tuple[str, ...], landing: str
) -> None:
    person = add_person(web_node, "amira", *roles)
    response = browser.sign_in(person)
    assert response.headers["location"] == landing
    page = browser.get(landing)
    assert page.status_code == 200
    links = set(re.findall(r'<li><a href="(/[a-z]*)"', page.text))
    for link in links:
        assert browser.get(link).status_code == 200, f"menu link {link} refused for {roles}"


def test_a_page_refused_for_a_role_is_audited(web_node: Node, browser: Browser) -> None:
    person = add_person(web_node, "amira", "auditor")
    browser.sign_in(person)
    assert browser.get("/admin").status_code == 403
    with web_node.sessions() as session:
        entries = session.query(AuditEntry).filter(AuditEntry.tag == "web:access:refused").all()
    assert [(e.actor, e.subject) for e in entries] == [("amira", "/admin")]


def test_a_form_posted_after_the_session_ended_returns_to_its_page(
    server: object, browser: Browser
) -> None:
    response = browser.http.post(
        "/preferences",
        data={"csrf": "x", "lang": "fr"},
        headers={"referer": f"{browser.http.base_url}/drafts/new?party=XB&kind=preservation"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/login?next=/drafts/new%3Fparty%3DXB%26kind%3Dpreservation"
    )


def test_cookies_are_secure_when_the_node_is_published_over_https(
    web_node: Node, browser: Browser
) -> None:
    web_node.settings.public_url = "https://xa.example.org"
    person = add_person(web_node, "amira", "duty-officer")
    response = browser.sign_in(person)
    assert "secure" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_sign_in_page_in_each_language(browser: Browser, lang: str) -> None:
    response = browser.get(f"/login?lang={lang}")
    assert response.status_code == 200
    assert f'<html lang="{lang}" dir="{LANGUAGES[lang].direction}">' in response.text
    heading = re.search(r"<h1>(.*?)</h1>", response.text, re.S)
    assert heading
    if lang != "en":
        assert heading.group(1).strip() != "Sign in"
    assert ('dir="rtl"' in response.text) == (lang == "ar")


def test_language_switch_is_kept_for_the_user(web_node: Node, browser: Browser) -> None:
    person = add_person(web_node, "amira", "duty-officer")
    browser.sign_in(person)
    browser.get("/preferences")
    response = browser.post("/language", {"lang": "ar", "back": "/preferences"})
    assert response.status_code == 303
    assert response.headers["location"] == "/preferences"
    browser.http.cookies.delete("comity_lang")
    page = browser.get("/preferences")
    assert 'lang="ar" dir="rtl"' in page.text


def test_a_value_passed_through_gettext_is_escaped() -> None:
    """Newstyle gettext marks its result safe; a label from data must still not inject HTML."""
    from comity.web.core import environment

    template = environment("en").from_string('{{ _(label) }} {{ _("Due %(x)s", x=value) }}')
    page = template.render(label="<img src=x onerror=alert(1)>", value="<b>soon</b>")
    assert "<img" not in page
    assert "<b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;soon&lt;/b&gt;" in page


def test_a_confirmation_in_the_url_is_shown_only_with_our_signature() -> None:
    from starlette.requests import Request

    from comity.web.core import WebUser, flash_query, flash_value

    user = WebUser("amira", "Amira", frozenset(), "en", "UTC", session_secret="cms_secret")
    other = WebUser("amira", "Amira", frozenset(), "en", "UTC", session_secret="cms_other")

    def request(query: str) -> Request:
        return Request({"type": "http", "query_string": query.encode(), "headers": []})

    signed = flash_query(user, "done", "acknowledge")
    assert flash_value(request(signed), user, "done") == "acknowledge"
    assert flash_value(request("done=acknowledge"), user, "done") == ""
    assert flash_value(request(signed), other, "done") == ""
    forged = signed.replace("acknowledge", "execute")
    assert flash_value(request(forged), user, "done") == ""


def test_the_same_english_words_take_the_meaning_of_their_own_page() -> None:
    """'From' is a sender on the 24/7 desk and a date on the statistics page; each page must
    show its own area's translation, whatever the order of the catalog files."""
    from comity.web.core import environment
    from comity.web.i18n import merged_catalog

    desk = merged_catalog("fr", "duty")["From"].string
    stats = merged_catalog("fr", "stats")["From"].string
    assert desk != stats
    assert environment("fr", "stats").from_string('{{ _("From") }}').render() == stats
    assert environment("fr", "duty").from_string('{{ _("From") }}').render() == desk
