"""`comity demo`: a registry, three state nodes and a provider node as real processes on
127.0.0.1 (`demo/federation.py`), a signed directory, accounts and tokens, then the scenarios
(`demo/scenarios.py`) end to end; the nodes keep serving until Ctrl-C unless `--check`."""

from __future__ import annotations

import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from comity.demo.accounts import (
    API_TOKENS,
    DEMO_PASSWORD,
    DEMO_PREFIX,
    SECRETS_FILE,
    TOKENS_FILE,
    WEB_ACCOUNTS,
    write_accounts,
    write_secrets,
)
from comity.demo.directory import REGISTRY_ID, STATES, scenario_parties
from comity.demo.federation import DemoFailed, Federation, Say
from comity.demo.scenarios import run_scenarios
from comity.demo.workflow import DEMO_DUTY_ACK_SECONDS
from comity.kit.errors import ComityError


def build_demo(root: Path, base_port: int = 0) -> Federation:
    fed = Federation(root, passphrase=secrets.token_urlsafe(24))
    # 0: a free port the harness holds until the node answers (`federation.reserve_port`).
    ports = iter(range(base_port, base_port + 12)) if base_port else None

    def port() -> int:
        return next(ports) if ports else 0

    registry = fed.init_node(REGISTRY_ID, port=port())
    key = fed.registry_key()
    for participant in STATES:
        # XD's desk gets seconds, not the default hour, to acknowledge: scenario 2 escalates.
        extra: dict[str, Any] = (
            {"duty_ack_seconds": DEMO_DUTY_ACK_SECONDS} if participant == "XD" else {}
        )
        fed.init_node(
            participant, port=port(), registry_url=registry.url, registry_key=key, **extra
        )
    fed.publish(fed.directory_yaml(scenario_parties()))
    for participant, user, roles in API_TOKENS:
        fed.token(participant, user, roles)
    for participant, users in WEB_ACCOUNTS.items():
        fed.web_users(participant, users)
    write_accounts(root, fed.accounts)
    write_secrets(
        root,
        fed.passphrase,
        {p: (node.home, node.url, dict(node.tokens)) for p, node in fed.nodes.items()},
    )
    return fed


def run_demo(check: bool, base_port: int = 0, workdir: str = "") -> int:
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=DEMO_PREFIX))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)  # the nodes' keys, databases and the demo's secrets: the owner's only

    def say(line: str) -> None:
        print(line, flush=True)

    fed: Federation | None = None
    try:
        fed = build_demo(root, base_port)
        say(f"demo nodes in {root} (logs in {fed.log_dir})")
        fed.start_many(list(fed.nodes))
        for participant in fed.nodes:
            say(f"  {participant:<9} {fed.nodes[participant].url}")
        for participant in STATES:
            officer = next(iter(fed.nodes[participant].tokens))
            fed.await_directory(participant)
            say(f"  {participant} pulled and verified directory v1 (API token for {officer})")
        run_scenarios(fed, say)
        say("all steps passed")
        if not check:
            say("nodes keep serving; API tokens:")
            for node in fed.nodes.values():
                for user, token in node.tokens.items():
                    say(f"  {node.participant} {user}: {token}")
            show_web_accounts(fed, root, workdir, say)
            say("press Ctrl-C to stop")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                say("stopping")
        return 0
    except (DemoFailed, ComityError) as exc:
        say(f"DEMO FAILED: {getattr(exc, 'message', exc)}")
        return 1
    finally:
        if fed:
            fed.stop_all()
        if not workdir and check:
            shutil.rmtree(root, ignore_errors=True)


def show_web_accounts(fed: Federation, root: Path, workdir: str, say: Say) -> None:
    """Where to open the web interface and whom to sign in as."""
    say("")
    say("web interface — open a node's sign-in page in a browser:")
    for node in fed.nodes.values():
        if node.accounts:
            say(f"  {node.participant:<4} {node.url}/login")
    say(f"accounts (password for all: {DEMO_PASSWORD!r}; also in {root / 'accounts.json'}):")
    for account in fed.accounts:
        say(f"  {account.participant:<4} {account.username:<15} {', '.join(account.roles)}")
        say(f"       TOTP secret {account.totp_secret}  {account.otpauth_uri}")
    say(f"inspect or export from a node (the passphrase and API tokens are in {root}):")
    say(f"  set -a; . {root / SECRETS_FILE}; set +a")
    command = Path(sys.executable).parent / "comity"
    say(f"  {command} audit verify --home {root / 'XA'}      (API tokens: {root / TOKENS_FILE})")
    where = f" --workdir {root}" if workdir else ""
    say("the six-digit code: add the secret (or the otpauth URI) to an authenticator app, or run")
    say(f"  {command} demo code{where} USER    (e.g. USER = xa-drafter; a code works once)")
