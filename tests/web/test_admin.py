"""Administration pages: users (added with a second factor shown once, that then signs in;
roles; disable; unlock; reset), the duty roster, key rotation and directory updates with the
reason of a refusal — all audited, all refused (403) to non-administrators."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from comity.accounts import service as accounts
from comity.accounts.credentials import totp_code
from comity.audit.service import entries
from comity.duty.models import RosterEntry
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.nodes.models import NodeKey
from comity.nodes.runtime import Node
from comity.web.i18n import LANGUAGES
from tests.accounts.conftest import Person, add_person
from tests.support import make_node, participant_entry, publish
from tests.web.conftest import Browser


@pytest.fixture
def admin(web_node: Node, browser: Browser) -> Browser:
    assert browser.sign_in(add_person(web_node, "ada", "administrator")).status_code == 303
    return browser


@pytest.fixture
def registry(tmp_path: Path, database_factory: Callable[[], str]) -> Iterator[Node]:
    made = make_node(tmp_path / "registry", "REGISTRY", database_factory())
    yield made
    made.close()


def tags(node: Node, prefix: str) -> list[str]:
    with node.sessions() as session:
        return [e.tag for e in entries(session, prefix)]


TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')


def confirm_reset(admin: Browser, username: str) -> str:
    """Ask for the reset; the page asks for confirmation and nothing changes yet."""
    asked = admin.post(f"/admin/users/{username}", {"act": "reset-totp"})
    assert asked.status_code == 200
    assert 'data-test="confirm-reset"' in asked.text
    assert 'data-test="totp-secret"' not in asked.text
    token = TOKEN.search(asked.text)
    assert token
    return token.group(1)


def test_added_user_signs_in_with_the_secret_shown_once(
    web_node: Node, admin: Browser, server: object
) -> None:
    admin.get("/admin/users")
    result = admin.post(
        "/admin/users",
        {
            "username": "nadia",
            "display_name": "Nadia Officer",
            "roles": "duty-officer",
            "password": "",
        },
    )
    assert result.status_code == 200, result.text[:500]
    secret = re.search(r'data-test="totp-secret">([A-Z2-7]+)<', result.text)
    password = re.search(r'data-test="new-password">([^<]+)<', result.text)
    assert secret
    assert password
    assert "otpauth://totp/" in result.text
    page = admin.get("/admin/users")
    assert 'data-username="nadia"' in page.text
    assert secret.group(1) not in page.text
    newcomer = Browser(admin.http.base_url.__str__())
    try:
        person = Person("nadia", password.group(1).replace("&amp;", "&"), secret.group(1))
        assert newcomer.sign_in(person).status_code == 303
    finally:
        newcomer.close()
    assert "accounts:user:created" in tags(web_node, "accounts:user:")


def test_a_refused_new_user_is_explained_next_to_the_form(admin: Browser) -> None:
    admin.get("/admin/users")
    result = admin.post("/admin/users", {"username": "bo", "roles": "auditor", "password": "x"})
    assert result.status_code == 422
    assert 'data-test="form-error"' in result.text
    assert 'value="bo"' in result.text


def test_roles_disable_unlock_and_reset_take_effect(web_node: Node, admin: Browser) -> None:
    add_person(web_node, "omar", "drafter")
    with transaction(web_node.sessions) as session:
        accounts.get_user(session, "omar").locked_until = utc_now().replace(year=2100)
    admin.get("/admin/users")
    changed = admin.http.post(
        "/admin/users/omar",
        data={"csrf": admin.csrf, "act": "roles", "roles": ["drafter", "duty-officer"]},
    )
    assert changed.status_code == 303
    assert 'data-test="user-locked"' in admin.get("/admin/users").text
    assert admin.post("/admin/users/omar", {"act": "unlock"}).status_code == 303
    assert admin.post("/admin/users/omar", {"act": "disable"}).status_code == 303
    with web_node.sessions() as session:
        omar = accounts.get_user(session, "omar")
        assert omar.roles == ["drafter", "duty-officer"]
        assert omar.locked_until is None
        assert not omar.active
    before = tags(web_node, "accounts:user:totp-enrolled")
    token = confirm_reset(admin, "omar")
    assert tags(web_node, "accounts:user:totp-enrolled") == before
    confirmed = {"act": "reset-totp", "confirm": "yes", "token": token}
    reset = admin.post("/admin/users/omar", confirmed)
    assert reset.status_code == 200
    assert 'data-test="totp-secret"' in reset.text
    after = tags(web_node, "accounts:user:totp-enrolled")
    assert len(after) == len(before) + 1
    # Reloading the result page sends the same form again: nothing is reset a second time.
    again = admin.post("/admin/users/omar", confirmed)
    assert again.status_code == 409
    assert 'data-test="totp-secret"' not in again.text
    assert 'data-test="admin-problem"' in again.text
    assert tags(web_node, "accounts:user:totp-enrolled") == after
    # Without the token of a confirmation page, nothing is reset either.
    forged = admin.post("/admin/users/omar", {"act": "reset-totp", "confirm": "yes"})
    assert forged.status_code == 409
    assert tags(web_node, "accounts:user:totp-enrolled") == after
    assert {
        "accounts:user:roles-changed",
        "accounts:user:unlocked",
        "accounts:user:disabled",
        "accounts:user:totp-enrolled",
    } <= set(tags(web_node, "accounts:user:"))
    own = admin.post("/admin/users/ada", {"act": "disable"})
    assert own.status_code == 400
    assert "You cannot disable your own account." in own.text
    # Each action button names its user for a screen reader.
    page = admin.get("/admin/users")
    assert re.search(
        r'value="enable">Enable<span class="visually-hidden"> omar</span></button>', page.text
    )


def test_roster_entry_added_changed_and_taken_off(web_node: Node, admin: Browser) -> None:
    add_person(web_node, "dina", "duty-officer")
    admin.get("/admin/roster")
    entry = {
        "user": "dina",
        "name": "Dina",
        "email": "dina@xa.example",
        "role": "officer",
        "timezone": "Asia/Tokyo",
        "shift_start": "22:00",
        "shift_end": "06:00",
        "rank": "10",
        "active": "yes",
    }
    assert admin.post("/admin/roster", entry).status_code == 303
    page = admin.get("/admin/roster")
    assert 'data-test="roster-row" data-user="dina"' in page.text
    assert "Asia/Tokyo" in page.text
    bad = admin.post("/admin/roster", {**entry, "timezone": "Mars/Olympus"})
    assert bad.status_code == 422
    assert 'data-test="form-error"' in bad.text
    assert admin.post("/admin/roster/dina", {"act": "remove"}).status_code == 303
    with web_node.sessions() as session:
        row = session.execute(select(RosterEntry).where(RosterEntry.user == "dina")).scalar_one()
        assert row.timezone == "Asia/Tokyo"
        assert row.shift_start == "22:00"
        assert row.rank == 10
        assert not row.active
    assert "duty:roster:updated" in tags(web_node, "duty:")


def test_key_rotation_needs_confirmation_and_retires_the_old_key(
    web_node: Node, admin: Browser
) -> None:
    old = web_node.keyring.signing_key().kid
    page = admin.get("/admin/keys")
    assert f'data-kid="{old}"' in page.text
    assert admin.post("/admin/keys", {"use": "sig"}).status_code == 422
    assert admin.post("/admin/keys", {"use": "sig", "confirm": "yes"}).status_code == 303
    with web_node.sessions() as session:
        retired = session.get(NodeKey, old)
        assert retired is not None
        assert retired.retired_at is not None
    assert web_node.keyring.signing_key().kid != old


def test_key_rotation_is_audited_once_as_done_by_the_signed_in_administrator(
    web_node: Node, admin: Browser
) -> None:
    admin.get("/admin/keys")
    assert admin.post("/admin/keys", {"use": "enc", "confirm": "yes"}).status_code == 303
    with web_node.sessions() as session:
        rotated = entries(session, "node:keys:rotated")
        assert [(e.actor, e.subject) for e in rotated] == [
            ("ada", web_node.keyring.current_encryption_key().kid)
        ]
        assert not entries(session, "web:keys:")


def upload(admin: Browser, content: bytes) -> object:
    admin.get("/admin/directory")
    return admin.http.post(
        "/admin/directory/import",
        data={"csrf": admin.csrf},
        files={"directory": ("directory.jws", content, "application/jose")},
    )


def test_directory_import_accepts_a_signed_file_and_refuses_a_bad_one_with_its_reason(
    web_node: Node, registry: Node, admin: Browser
) -> None:
    web_node.settings.registry_key = dict(registry.keyring.signing_key().as_dict(private=False))
    token = publish(registry, [participant_entry(web_node)])
    tampered = token[:-8] + ("A" * 8 if not token.endswith("A" * 8) else "B" * 8)
    refused = upload(admin, tampered.encode())
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert 'data-test="refusal-reason"' in refused.text  # type: ignore[attr-defined]
    assert "signature" in refused.text  # type: ignore[attr-defined]
    assert "directory:import:refused" in tags(web_node, "directory:")
    accepted = upload(admin, token.encode())
    assert accepted.status_code == 303  # type: ignore[attr-defined]
    assert 'data-test="directory-imported"' not in admin.get("/admin/directory?outcome=new").text
    page = admin.get(accepted.headers["location"])  # type: ignore[attr-defined]
    assert 'data-test="directory-imported"' in page.text
    assert 'data-test="directory-version-number">1<' in page.text
    assert "directory:import:accepted" in tags(web_node, "directory:")


def test_pull_without_a_registry_is_explained(admin: Browser) -> None:
    admin.get("/admin/directory")
    response = admin.post("/admin/directory/pull", {"act": "pull"})
    assert response.status_code == 422
    assert "registry_url" in response.text


@pytest.mark.parametrize(
    "path",
    ["/admin", "/admin/users", "/admin/roster", "/admin/keys", "/admin/directory"],
)
def test_non_administrators_are_refused(web_node: Node, browser: Browser, path: str) -> None:
    browser.sign_in(add_person(web_node, "carla", "central-authority-officer", "duty-officer"))
    assert browser.get(path).status_code == 403
    browser.get("/preferences")
    assert browser.post("/admin/keys", {"use": "sig", "confirm": "yes"}).status_code == 403


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_admin_pages_in_every_language(web_node: Node, admin: Browser, lang: str) -> None:
    add_person(web_node, "dina", "duty-officer")
    admin.get("/admin/roster")
    admin.post("/admin/roster", {"user": "dina", "timezone": "UTC", "active": "yes"})
    for path in ("/admin", "/admin/users", "/admin/roster", "/admin/keys", "/admin/directory"):
        page = admin.get(f"{path}?lang={lang}")
        assert page.status_code == 200, f"{path}: {page.text[:300]}"
        assert f'lang="{lang}" dir="{LANGUAGES[lang].direction}"' in page.text
        assert " style=" not in page.text
    admin.get(f"/admin/users?lang={lang}")
    token = confirm_reset(admin, "dina")
    shown = admin.post("/admin/users/dina", {"act": "reset-totp", "confirm": "yes", "token": token})
    assert shown.status_code == 200
    assert 'data-test="totp-secret"' in shown.text
    secret = re.search(r'data-test="totp-secret">([A-Z2-7]+)<', shown.text)
    assert secret
    assert len(totp_code(secret.group(1), utc_now())) == 6


def test_preferences_name_the_roles_in_the_readers_language(admin: Browser) -> None:
    page = admin.get("/preferences?lang=fr")
    assert page.status_code == 200
    assert '<dd data-test="roles">Administrateur</dd>' in page.text
    assert '<dd data-test="roles">Administrator</dd>' in admin.get("/preferences?lang=en").text


def test_an_administrator_cannot_give_themselves_a_case_role(
    web_node: Node, admin: Browser
) -> None:
    admin.get("/admin/users")
    refused = admin.http.post(
        "/admin/users/ada",
        data={"csrf": admin.csrf, "act": "roles", "roles": ["administrator", "duty-officer"]},
    )
    assert refused.status_code == 422
    assert 'data-test="roles-error"' in refused.text
    assert "&#39;administrator&#39; and &#39;duty-officer&#39;" in refused.text
    with web_node.sessions() as session:
        assert accounts.get_user(session, "ada").roles == ["administrator"]
        [entry] = entries(session, "accounts:roles:refused")
    assert (entry.actor, entry.subject, entry.details["action"]) == ("ada", "ada", "roles")


def test_an_account_that_combined_roles_before_the_rule_is_marked(
    web_node: Node, admin: Browser
) -> None:
    add_person(web_node, "olga", "duty-officer")
    with transaction(web_node.sessions) as session:
        accounts.get_user(session, "olga").roles = ["duty-officer", "auditor"]
    page = admin.get("/admin/users").text
    assert page.count('data-test="user-conflict"') == 1
