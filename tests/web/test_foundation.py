"""The web interface's shared behaviour: sign-in with the second factor, CSRF on every form,
security headers, languages (Arabic right-to-left) and complete catalogs."""

from __future__ import annotations

import re

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
    assert accepted.status_code == 200
    assert 'lang="fr"' in accepted.text


def test_pages_carry_security_headers(browser: Browser) -> None:
    response = browser.get("/login")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text, "no inline script"
    assert " style=" not in response.text, "no inline style"


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
