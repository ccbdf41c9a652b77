"""Logging in: password (argon2id) and TOTP code, one identical 401 for every failure, a
lockout after repeated failures, and sessions that end on logout, expiry, password change or
when the user is disabled. Every attempt is audited."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from comity.accounts import service
from comity.accounts.credentials import totp_code
from comity.accounts.models import User, UserSession
from comity.audit.service import entries
from comity.kit.clock import FrozenClock, utc_now
from comity.kit.db import transaction
from comity.nodes.runtime import Node
from tests.accounts.conftest import Person, add_person, code_now, log_in


def attempt(client: httpx.Client, person: Person, password: str | None = None, code: str = ""):
    return client.post(
        "/v1/login",
        json={
            "username": person.username,
            "password": person.password if password is None else password,
            "totp": code or code_now(person),
        },
    )


def login_audit(node: Node) -> list[tuple[str, str, dict]]:
    with node.sessions() as session:
        return [(e.tag, e.subject, e.details) for e in entries(session, "accounts:login")]


def test_password_is_stored_as_argon2id_and_totp_secret_is_not_stored_plainly(node: Node) -> None:
    person = add_person(node, "dora", "drafter")
    with node.sessions() as session:
        user = service.get_user(session, "dora")
        assert user.password_hash.startswith("$argon2id$")
        assert person.password not in user.password_hash
        assert user.totp_ciphertext is not None
        assert person.totp_secret.encode() not in user.totp_ciphertext


def test_login_with_password_and_code_gives_a_session_that_authenticates(
    node: Node, client: httpx.Client
) -> None:
    person = add_person(node, "olga", "duty-officer")
    response = attempt(client, person)
    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("cms_")
    assert body["roles"] == ["duty-officer"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json() == {"user": "olga", "roles": ["duty-officer"], "kind": "session"}
    assert (
        client.get("/v1/cases", headers={"Authorization": f"Bearer {body['token']}"}).json() == []
    )
    assert login_audit(node)[-1][0] == "accounts:login:succeeded"


def test_wrong_password_and_wrong_code_get_the_same_answer_and_are_audited_apart(
    node: Node, client: httpx.Client, clock: FrozenClock
) -> None:
    person = add_person(node, "olga", "duty-officer")
    bad_password = attempt(client, person, password="not the password at all")
    clock.advance(timedelta(seconds=30))
    wrong = str((int(code_now(person)) + 1) % 1_000_000).zfill(6)
    bad_code = attempt(client, person, code=wrong)
    unknown = attempt(client, Person("nobody", "whatever password", person.totp_secret))
    assert bad_password.status_code == bad_code.status_code == unknown.status_code == 401
    assert bad_password.json() == bad_code.json() == unknown.json()
    reasons = [d["reason"] for tag, _, d in login_audit(node) if tag == "accounts:login:failed"]
    assert reasons == ["bad-password", "bad-totp", "unknown-user"]


def test_a_code_is_accepted_once(node: Node, client: httpx.Client) -> None:
    person = add_person(node, "olga", "duty-officer")
    code = code_now(person)
    assert attempt(client, person, code=code).status_code == 200
    assert attempt(client, person, code=code).status_code == 401


def test_a_code_from_the_next_step_is_accepted_for_clock_drift(
    node: Node, client: httpx.Client
) -> None:
    person = add_person(node, "olga", "duty-officer")
    ahead = totp_code(person.totp_secret, utc_now() + timedelta(seconds=30))
    far_ahead = totp_code(person.totp_secret, utc_now() + timedelta(seconds=120))
    assert attempt(client, person, code=far_ahead).status_code == 401
    assert attempt(client, person, code=ahead).status_code == 200


def test_repeated_failures_lock_the_account_even_against_the_right_password(
    node: Node, client: httpx.Client, clock: FrozenClock
) -> None:
    person = add_person(node, "olga", "duty-officer")
    for _ in range(node.settings.login_max_failures):
        assert attempt(client, person, password="a wrong password!").status_code == 401
    clock.advance(timedelta(seconds=30))
    assert attempt(client, person).status_code == 401
    with node.sessions() as session:
        assert [e.tag for e in entries(session, "accounts:user:locked")] == ["accounts:user:locked"]
    assert login_audit(node)[-1][2]["reason"] == "locked"
    clock.advance(timedelta(seconds=node.settings.login_lockout_seconds))
    assert attempt(client, person).status_code == 200


def test_an_administrator_can_unlock_an_account(
    node: Node, client: httpx.Client, clock: FrozenClock
) -> None:
    person = add_person(node, "olga", "duty-officer")
    for _ in range(node.settings.login_max_failures):
        attempt(client, person, password="a wrong password!")
    with transaction(node.sessions) as session:
        service.unlock_user(session, "olga", "test-admin")
    clock.advance(timedelta(seconds=30))
    assert attempt(client, person).status_code == 200


def test_logout_ends_the_session(node: Node, client: httpx.Client, clock: FrozenClock) -> None:
    person = add_person(node, "olga", "duty-officer")
    headers = log_in(client, person, clock)
    assert client.post("/v1/logout", headers=headers).status_code == 204
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_an_idle_session_expires(node: Node, client: httpx.Client, clock: FrozenClock) -> None:
    person = add_person(node, "olga", "duty-officer")
    headers = log_in(client, person, clock)
    clock.advance(timedelta(seconds=node.settings.session_idle_seconds - 10))
    assert client.get("/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(seconds=node.settings.session_idle_seconds - 10))
    assert client.get("/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(seconds=node.settings.session_idle_seconds + 1))
    response = client.get("/v1/me", headers=headers)
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_a_session_ends_at_its_maximum_life_even_in_use(
    node: Node, client: httpx.Client, clock: FrozenClock
) -> None:
    person = add_person(node, "olga", "duty-officer")
    headers = log_in(client, person, clock)
    with transaction(node.sessions) as session:
        session.execute(update(UserSession).values(expires_at=utc_now() + timedelta(seconds=5)))
    clock.advance(timedelta(seconds=6))
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_disabling_a_user_ends_their_sessions_and_tokens(
    node: Node, client: httpx.Client, clock: FrozenClock
) -> None:
    person = add_person(node, "olga", "duty-officer")
    headers = log_in(client, person, clock)
    with transaction(node.sessions) as session:
        token = service.create_token(session, "olga", ["duty-officer"], "test-admin")
        service.disable_user(session, "olga", "test-admin")
    assert client.get("/v1/me", headers=headers).status_code == 401
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    clock.advance(timedelta(seconds=30))
    assert attempt(client, person).status_code == 401


def test_a_new_password_ends_open_sessions(
    node: Node, client: httpx.Client, clock: FrozenClock
) -> None:
    person = add_person(node, "olga", "duty-officer")
    headers = log_in(client, person, clock)
    with transaction(node.sessions) as session:
        service.set_password(session, "olga", "another long passphrase", "test-admin")
    assert client.get("/v1/me", headers=headers).status_code == 401
    relogged = log_in(client, Person("olga", "another long passphrase", person.totp_secret), clock)
    assert client.get("/v1/me", headers=relogged).status_code == 200


def test_role_changes_apply_to_an_open_session(
    node: Node, client: httpx.Client, clock: FrozenClock
) -> None:
    person = add_person(node, "olga", "duty-officer")
    headers = log_in(client, person, clock)
    with transaction(node.sessions) as session:
        service.set_roles(session, "olga", ["auditor"], "test-admin")
    assert client.get("/v1/me", headers=headers).json()["roles"] == ["auditor"]
    assert client.get("/v1/cases", headers=headers).status_code == 403


def test_a_user_without_an_enrolled_second_factor_cannot_log_in(
    node: Node, client: httpx.Client
) -> None:
    person = add_person(node, "olga", "duty-officer")
    with transaction(node.sessions) as session:
        session.execute(update(User).values(totp_ciphertext=None, totp_salt=None))
    assert attempt(client, person).status_code == 401
    assert login_audit(node)[-1][2]["reason"] == "no-totp-enrolled"


def test_weak_passwords_and_unknown_roles_are_refused(node: Node) -> None:
    import pytest

    from comity.kit.errors import ComityError

    with pytest.raises(ComityError, match="at least 12"):
        add_person(node, "dora", "drafter", password="short")
    with pytest.raises(ComityError, match="user name"):
        add_person(node, "dora", "drafter", password="my name is dora, ok?")
    with pytest.raises(ComityError, match="unknown role"):
        add_person(node, "dora", "judge")


def test_api_tokens_keep_working_for_systems(node: Node, client: httpx.Client) -> None:
    with transaction(node.sessions) as session:
        secret = service.create_token(session, "case-system", ["drafter"], "test")
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me == {"user": "case-system", "roles": ["drafter"], "kind": "token"}


def test_a_users_token_never_acts_beyond_the_roles_the_user_holds_now(
    node: Node, client: httpx.Client
) -> None:
    add_person(node, "olga", "duty-officer")
    with transaction(node.sessions) as session:
        token = service.create_token(session, "olga", ["duty-officer"], "test-admin")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/me", headers=headers).json()["roles"] == ["duty-officer"]
    with transaction(node.sessions) as session:
        service.set_roles(session, "olga", ["auditor"], "test-admin")
    assert client.get("/v1/me", headers=headers).json()["roles"] == []
    assert client.get("/v1/cases", headers=headers).status_code == 403


def test_an_api_token_is_refused_once_it_expires(
    node: Node, client: httpx.Client, clock: FrozenClock
) -> None:
    with transaction(node.sessions) as session:
        secret = service.create_token(session, "case-system", ["drafter"], "test", days=7)
    headers = {"Authorization": f"Bearer {secret}"}
    clock.advance(timedelta(days=6, hours=23))
    assert client.get("/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(hours=1))

    refused = client.get("/v1/me", headers=headers)

    assert refused.status_code == 401
    assert "expired" in refused.json()["message"]


def test_a_token_lasts_ninety_days_unless_told_and_never_beyond_a_year(node: Node) -> None:
    import pytest

    from comity.accounts.models import ApiToken
    from comity.kit.clock import ensure_utc
    from comity.kit.errors import ComityError

    with transaction(node.sessions) as session:
        service.create_token(session, "case-system", ["drafter"], "test")
        (row,) = service.list_tokens(session)
        assert isinstance(row, ApiToken)
        lasts = ensure_utc(row.expires_at) - ensure_utc(row.created_at)
        assert timedelta(days=90) - lasts < timedelta(minutes=1)
        for days in (0, 367):
            with pytest.raises(ComityError, match="1 to 366 days"):
                service.create_token(session, "case-system", ["drafter"], "test", days=days)
