"""The demo's sign-in accounts for the web interface: who they are, the file `comity demo`
writes them to (`<workdir>/accounts.json`), and the current code of an account's second factor
for a newcomer without an authenticator app (`comity demo code USER`)."""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from comity.accounts.credentials import TOTP_STEP_SECONDS, totp_code
from comity.kit.clock import utc_now
from comity.kit.errors import ComityError

#: One password for every demo account (the nodes listen on 127.0.0.1 only).
DEMO_PASSWORD = "comity demo 2026"  # noqa: S105 - the demo's published password
ACCOUNTS_FILE = "accounts.json"
DEMO_PREFIX = "comity-demo-"

#: The scenario roles (shared/design/scenarios.md) as accounts on each node. A user who also
#: holds an API token in the demo (`build_demo`) keeps at least the token's roles: a token acts
#: only within the roles its user holds.
WEB_ACCOUNTS: dict[str, list[tuple[str, list[str]]]] = {
    "XA": [
        ("xa-drafter", ["drafter", "central-authority-officer"]),
        ("xa-authoriser", ["authorising-officer"]),
        ("xa-duty", ["duty-officer"]),
        ("xa-prosecutor", ["central-authority-officer"]),
        ("xa-auditor", ["auditor"]),
    ],
    "XB": [
        ("xb-duty", ["duty-officer"]),
        ("xb-officer", ["central-authority-officer"]),
    ],
    "PB": [("pb-responder", ["provider-responder"])],
    "XD": [
        ("xd-duty-1", ["duty-officer"]),
        ("xd-duty-2", ["duty-officer"]),
        ("xd-supervisor", ["duty-officer"]),
        ("xd-admin", ["administrator"]),
    ],
}


#: The demo's API tokens (participant, user, roles), used by the scenarios' officers.
API_TOKENS: list[tuple[str, str, list[str]]] = [
    ("XA", "xa-duty", ["duty-officer"]),
    ("XA", "xa-drafter", ["central-authority-officer"]),
    ("XA", "xa-authoriser", ["authorising-officer"]),
    ("XB", "xb-duty", ["duty-officer"]),
    ("XC", "xc-duty", ["duty-officer"]),
    ("PB", "pb-responder", ["provider-responder"]),
    ("XD", "xd-duty-1", ["duty-officer"]),
    ("XD", "xd-duty-2", ["duty-officer"]),
    ("XD", "xd-supervisor", ["duty-officer"]),
    ("XD", "xd-admin", ["administrator"]),
    ("PD", "pd-responder", ["provider-responder"]),
]


@dataclass(frozen=True)
class WebAccount:
    """A person who signs in to a node's pages with a password and a TOTP code."""

    participant: str
    username: str
    roles: list[str]
    password: str
    totp_secret: str
    otpauth_uri: str
    login_url: str

    def code(self, at: datetime | None = None) -> str:
        return totp_code(self.totp_secret, at or utc_now())


def write_accounts(root: Path, accounts: list[WebAccount]) -> Path:
    path = root / ACCOUNTS_FILE
    _write_private(
        path, json.dumps([asdict(a) for a in accounts], indent=2, ensure_ascii=False) + "\n"
    )
    return path


SECRETS_FILE = "demo.env"
TOKENS_FILE = "tokens.json"


def write_secrets(
    root: Path, passphrase: str, nodes: dict[str, tuple[Path, str, dict[str, str]]]
) -> Path:
    """Keep what a user needs to inspect and export from the demo's nodes afterwards, readable
    by the owner only: the key passphrase as a shell file to source (`set -a; . demo.env`),
    and each node's folder, address and API tokens in tokens.json. These are throw-away demo
    secrets; a real node's passphrase lives in a secret store, never in a file."""
    env = root / SECRETS_FILE
    _write_private(
        env,
        "# The demo's key passphrase: `set -a; . demo.env; set +a`, then"
        " `comity --home <node folder> ...`\n"
        f"COMITY_KEY_PASSPHRASE={shlex.quote(passphrase)}\n",
    )
    tokens = {
        participant: {"home": str(home), "url": url, "tokens": node_tokens}
        for participant, (home, url, node_tokens) in nodes.items()
    }
    _write_private(root / TOKENS_FILE, json.dumps(tokens, indent=2) + "\n")
    return env


def _write_private(path: Path, text: str) -> None:
    """Write a file that only its owner can read, with no moment of a wider mode."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


def read_accounts(path: Path) -> list[WebAccount]:
    try:
        entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ComityError(f"cannot read the demo's accounts from {path}: {exc}") from None
    return [WebAccount(**entry) for entry in entries]


def latest_accounts_file() -> Path:
    """The accounts file of the most recently started demo in the temporary folder."""
    found = sorted(
        Path(tempfile.gettempdir()).glob(f"{DEMO_PREFIX}*/{ACCOUNTS_FILE}"),
        key=lambda p: p.stat().st_mtime,
    )
    if not found:
        raise ComityError(
            "no running demo found: start `comity demo` first, or pass --workdir of the demo"
        )
    return found[-1]


def find_account(accounts: list[WebAccount], username: str, participant: str = "") -> WebAccount:
    matches = [
        a
        for a in accounts
        if a.username == username and (not participant or a.participant == participant)
    ]
    if not matches:
        known = ", ".join(f"{a.participant}/{a.username}" for a in accounts)
        raise ComityError(f"no demo account {username!r}; the accounts are: {known}")
    if len(matches) > 1:
        raise ComityError(f"{username!r} exists on several nodes: pass --node")
    return matches[0]


def seconds_left_in_step(at: datetime | None = None) -> int:
    now = at or utc_now()
    return TOTP_STEP_SECONDS - int(now.timestamp()) % TOTP_STEP_SECONDS
