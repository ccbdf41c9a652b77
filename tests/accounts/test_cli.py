"""`comity user ...`: the administrator's commands, each audited, none printing a stored
secret except the new TOTP secret and API token, shown once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from typer.testing import CliRunner

from comity.audit.service import entries
from comity.cli.main import app
from comity.nodes.runtime import Node
from tests.accounts.conftest import PASSWORD

runner = CliRunner()


def user(node: Node, *args: str, stdin: str | None = None):
    return runner.invoke(app, ["user", *args, "--home", str(node.settings.home)], input=stdin)


def test_add_prints_the_second_factor_once_and_list_shows_no_secret(node: Node) -> None:
    added = user(
        node, "add", "olga", "--role", "duty-officer", "--name", "Olga D", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "otpauth://totp/" in added.output
    listed = json.loads(user(node, "list").output)
    assert listed[0]["username"] == "olga"
    assert listed[0]["roles"] == ["duty-officer"]
    assert listed[0]["second_factor"] is True
    assert "$argon2" not in json.dumps(listed)


def test_administrator_commands_are_audited(node: Node) -> None:
    user(node, "add", "olga", "--role", "drafter", "--password-stdin", stdin=PASSWORD + "\n")
    assert user(node, "roles", "olga", "--role", "duty-officer").exit_code == 0
    assert user(node, "totp-enroll", "olga").exit_code == 0
    assert (
        user(node, "passwd", "olga", "--password-stdin", stdin="a new long password\n").exit_code
        == 0
    )
    assert user(node, "disable", "olga").exit_code == 0
    assert user(node, "enable", "olga").exit_code == 0
    assert user(node, "unlock", "olga").exit_code == 0
    with node.sessions() as session:
        tags = [e.tag for e in entries(session, "accounts:user")]
    assert tags == [
        "accounts:user:created",
        "accounts:user:roles-changed",
        "accounts:user:totp-enrolled",
        "accounts:user:password-changed",
        "accounts:user:disabled",
        "accounts:user:enabled",
        "accounts:user:unlocked",
    ]


def test_a_weak_password_is_refused_with_a_clear_message(node: Node) -> None:
    result = user(node, "add", "olga", "--role", "drafter", "--password-stdin", stdin="short\n")
    assert result.exit_code == 2
    assert "at least 12 characters" in result.output


def test_api_tokens_are_listed_by_id_and_revoked(node: Node) -> None:
    secret = user(node, "token", "--user", "case-system", "--role", "drafter").output.strip()
    assert secret.startswith("cmt_")
    listed = json.loads(user(node, "tokens").output)
    assert secret not in json.dumps(listed)
    revoked = user(node, "token-revoke", listed[0]["id"])
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(user(node, "tokens").output)[0]["revoked_at"] is not None


def test_a_token_is_issued_for_the_days_asked_and_listed_with_its_expiry(node: Node) -> None:
    issued = user(node, "token", "--user", "case-system", "--role", "drafter", "--days", "30")
    assert issued.exit_code == 0, issued.output
    listed = json.loads(user(node, "tokens").output)
    created = datetime.fromisoformat(listed[0]["created_at"])
    expires = datetime.fromisoformat(listed[0]["expires_at"])
    assert abs((expires - created) - timedelta(days=30)) < timedelta(minutes=1)
    assert listed[0]["expired"] is False

    too_long = user(node, "token", "--user", "case-system", "--role", "drafter", "--days", "400")
    assert too_long.exit_code == 2
    assert "1 to 366 days" in too_long.output
