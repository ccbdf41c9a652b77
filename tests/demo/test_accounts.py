"""The demo's web accounts: created on a node with a password and a second factor that signs
in, written to accounts.json, and `comity demo code USER` printing the current code."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from comity.accounts import service as accounts
from comity.accounts.roles import conflicts
from comity.cli.main import app
from comity.demo.accounts import (
    ACCOUNTS_FILE,
    API_TOKENS,
    DEMO_PASSWORD,
    WEB_ACCOUNTS,
    find_account,
    read_accounts,
    write_accounts,
)
from comity.demo.federation import Federation
from comity.demo.run import show_web_accounts
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.nodes.runtime import passphrase_of
from tests.support import PASSPHRASE


def test_a_demo_account_signs_in_with_the_password_and_its_code(tmp_path: Path) -> None:
    fed = Federation(tmp_path, PASSPHRASE)
    fed.init_node("XA")
    made = fed.web_users("XA", WEB_ACCOUNTS["XA"])
    assert [a.username for a in made] == [u for u, _ in WEB_ACCOUNTS["XA"]]
    drafter = fed.nodes["XA"].accounts["xa-drafter"]
    assert drafter.password == DEMO_PASSWORD
    assert drafter.otpauth_uri.startswith("otpauth://totp/")
    assert drafter.login_url == f"{fed.nodes['XA'].url}/login"
    node = fed.open("XA")
    try:
        with transaction(node.sessions) as session:
            outcome = accounts.login(
                session,
                node.settings,
                passphrase_of(node.settings),
                "xa-drafter",
                DEMO_PASSWORD,
                drafter.code(),
                "test",
            )
            assert outcome.success is not None
            assert set(accounts.get_user(session, "xa-drafter").roles) == {
                "drafter",
                "central-authority-officer",
            }
    finally:
        node.close()


def test_the_accounts_file_gives_the_current_code_on_the_command_line(tmp_path: Path) -> None:
    fed = Federation(tmp_path, PASSPHRASE)
    fed.init_node("XB")
    fed.web_users("XB", WEB_ACCOUNTS["XB"])
    path = write_accounts(tmp_path, fed.accounts)
    assert path == tmp_path / ACCOUNTS_FILE
    assert path.stat().st_mode & 0o077 == 0
    loaded = read_accounts(path)
    assert loaded == fed.accounts
    duty = find_account(loaded, "xb-duty")

    before = utc_now()
    result = CliRunner().invoke(app, ["demo", "code", "--workdir", str(tmp_path), "xb-duty"])
    after = utc_now()
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()[0]
    assert printed in {duty.code(before), duty.code(after)}

    unknown = CliRunner().invoke(app, ["demo", "code", "--workdir", str(tmp_path), "nobody"])
    assert unknown.exit_code == 2
    assert "xb-duty" in unknown.stderr


def test_the_demo_tells_where_to_sign_in_and_as_whom(tmp_path: Path) -> None:
    fed = Federation(tmp_path, PASSPHRASE)
    fed.init_node("XD")
    fed.web_users("XD", WEB_ACCOUNTS["XD"])
    said: list[str] = []
    show_web_accounts(fed, tmp_path, str(tmp_path), said.append)
    text = "\n".join(said)
    assert f"{fed.nodes['XD'].url}/login" in text
    assert repr(DEMO_PASSWORD) in text
    for account in fed.accounts:
        assert account.username in text
        assert account.totp_secret in text
        assert account.otpauth_uri in text
    assert f"demo code --workdir {tmp_path} USER" in text


def test_the_demo_keeps_its_passphrase_and_tokens_for_its_owner_only(tmp_path: Path) -> None:
    """After the demo, a user can open its nodes from a plain shell: source demo.env and run
    any node command; the files are the owner's alone (mode 600)."""
    import json
    import os
    import stat
    import subprocess
    import sys

    from comity.demo.accounts import SECRETS_FILE, TOKENS_FILE, write_secrets

    fed = Federation(tmp_path, "a passphrase with 'quotes' and $dollars")
    node = fed.init_node("XA")
    token = fed.token("XA", "xa-duty", ["duty-officer"])
    write_secrets(tmp_path, fed.passphrase, {"XA": (node.home, node.url, dict(node.tokens))})

    for name in (SECRETS_FILE, TOKENS_FILE):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    saved = json.loads((tmp_path / TOKENS_FILE).read_text(encoding="utf-8"))
    assert saved["XA"] == {"home": str(node.home), "url": node.url, "tokens": {"xa-duty": token}}

    comity = Path(sys.executable).parent / "comity"
    env = {k: v for k, v in os.environ.items() if k != "COMITY_KEY_PASSPHRASE"}
    shell = (
        f"set -a; . '{tmp_path / SECRETS_FILE}'; set +a;"
        f" '{comity}' audit verify --home '{node.home}'"
    )
    done = subprocess.run(
        ["bash", "-c", shell], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_demo_account_or_token_combines_roles_kept_apart() -> None:
    """The demo shows the separation of duties: its auditor and administrators hold no case
    role (and a user's token stays within the user's roles)."""
    for participant, users in WEB_ACCOUNTS.items():
        for username, roles in users:
            assert conflicts(roles) == [], (participant, username)
    for participant, username, roles in API_TOKENS:
        assert conflicts(roles) == [], (participant, username)
        web = dict(WEB_ACCOUNTS.get(participant, []))
        if username in web:
            assert set(roles) <= set(web[username]), (participant, username)
