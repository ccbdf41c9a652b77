"""Separation of duties: the auditor holds no case role, the administrator neither a case role
nor the auditor's. Refused (and audited) at creation, at a change of roles and at a token's
issue, from the command line and the web alike; accounts that combined them before the rule
keep working but are listed by `comity user check` and named at the node's start."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from comity.accounts import roles as roles_module
from comity.accounts import service
from comity.accounts.models import ApiToken, User
from comity.accounts.roles import CASE_ROLES, IncompatibleRoles, conflicts
from comity.audit.service import entries
from comity.cli.main import app
from comity.kit.clock import FrozenClock
from comity.kit.db import transaction
from comity.nodes.runtime import Node
from comity.transport.runner import warn_role_conflicts
from tests.accounts.conftest import PASSWORD, Person, add_person, log_in

runner = CliRunner()


def user(node: Node, *args: str, stdin: str | None = None):
    return runner.invoke(app, ["user", *args, "--home", str(node.settings.home)], input=stdin)


def refusals(node: Node) -> list[dict[str, object]]:
    with node.sessions() as session:
        return [
            {"actor": e.actor, "subject": e.subject, **e.details}
            for e in entries(session, "accounts:roles:refused")
        ]


@pytest.mark.parametrize("case_role", CASE_ROLES)
def test_the_auditor_role_never_goes_with_a_case_role(case_role: str) -> None:
    with pytest.raises(IncompatibleRoles) as refused:
        roles_module.check_roles(["auditor", case_role])
    assert refused.value.code == "roles_incompatible"
    assert refused.value.status_code == 409
    assert f"'auditor' and '{case_role}'" in refused.value.message
    assert "review their own acts" in refused.value.message


def test_the_administrator_holds_neither_a_case_role_nor_the_auditors() -> None:
    assert conflicts(["administrator", "auditor"])[0].second == "administrator"
    assert [c.second for c in conflicts(["administrator", "duty-officer"])] == ["duty-officer"]
    assert conflicts(["drafter", "authorising-officer", "central-authority-officer"]) == []


def test_a_user_with_conflicting_roles_is_not_created_and_the_refusal_is_audited(
    node: Node,
) -> None:
    result = user(
        node, "add", "olga", "--role", "duty-officer", "--role", "auditor", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "'auditor' and 'duty-officer'" in result.output
    with node.sessions() as session:
        assert service.list_users(session) == []
    [refused] = refusals(node)
    assert refused["subject"] == "olga"
    assert refused["action"] == "create"
    assert refused["code"] == "roles_incompatible"
    assert refused["conflicts"] == [["auditor", "duty-officer"]]


def test_an_auditor_is_not_given_a_case_role_later(node: Node) -> None:
    add_person(node, "audrey", "auditor")
    result = user(node, "roles", "audrey", "--role", "auditor", "--role", "duty-officer")
    assert result.exit_code == 2
    assert "may not hold both roles 'auditor' and 'duty-officer'" in result.output
    with node.sessions() as session:
        assert service.get_user(session, "audrey").roles == ["auditor"]
    assert refusals(node)[0]["action"] == "roles"


def test_no_api_token_carries_conflicting_roles(node: Node) -> None:
    result = user(
        node, "token", "--user", "review-system", "--role", "auditor", "--role", "drafter"
    )
    assert result.exit_code == 2
    assert "'auditor' and 'drafter'" in result.output
    with node.sessions() as session:
        assert service.list_tokens(session) == []
    assert refusals(node)[0]["action"] == "token"


def combine_before_the_rule(node: Node, username: str, *roles: str) -> Person:
    """An account as an older version left it: roles written without today's check."""
    person = add_person(node, username, roles[0])
    with transaction(node.sessions) as session:
        session.execute(update(User).where(User.username == username).values(roles=list(roles)))
    return person


def test_existing_conflicting_accounts_are_listed_by_user_check(node: Node) -> None:
    assert user(node, "check").exit_code == 0
    combine_before_the_rule(node, "olga", "duty-officer", "auditor")
    with transaction(node.sessions) as session:
        service.create_token(session, "old-system", ["drafter"], "test-admin")
        session.execute(update(ApiToken).values(roles="drafter,administrator"))
    result = user(node, "check")
    assert result.exit_code == 1
    assert "user olga: roles 'auditor' and 'duty-officer'" in result.output
    assert "(old-system): roles 'administrator' and 'drafter'" in result.output
    assert "2 account(s) or token(s)" in result.output


def test_a_conflicting_account_keeps_working_but_the_node_names_it_at_start(
    node: Node, client: httpx.Client, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    olga = combine_before_the_rule(node, "olga", "duty-officer", "auditor")
    headers = log_in(client, olga, clock)
    assert client.get("/v1/me", headers=headers).json()["roles"] == ["auditor", "duty-officer"]
    with caplog.at_level(logging.WARNING, logger="comity.node"):
        assert warn_role_conflicts(node) == 1
    assert "user olga holds 'auditor' and 'duty-officer'" in caplog.text
    # The fix goes through the same rule: keeping both is refused, keeping one is accepted.
    with pytest.raises(IncompatibleRoles), transaction(node.sessions) as session:
        service.set_roles(session, "olga", ["duty-officer", "auditor"], "test-admin")
    with transaction(node.sessions) as session:
        service.set_roles(session, "olga", ["duty-officer"], "test-admin")
    assert warn_role_conflicts(node) == 0
