"""The federation harness: nodes created in a folder and run as real processes on 127.0.0.1,
their API tokens and web accounts, the signed directory, and officers calling a node's API.
Used by `comity demo`, the tests (tests/federation, tests/web/browser, …) and the benchmarks.

Ports: a node created without a port gets one the harness holds until the node answers
(`reserve_port`), so two demos or test runs at once cannot be handed the same port between
the moment it is chosen and the moment the node binds it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from comity.accounts import service as accounts_service
from comity.demo.accounts import DEMO_PASSWORD, WebAccount
from comity.demo.directory import REGISTRY_ID
from comity.directory import service as directory_service
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.kit.settings import load_settings, read_config_file, write_config_file
from comity.nodes import service as node_service
from comity.nodes.keys import public_jwk
from comity.nodes.runtime import Node, open_node, passphrase_of

#: What a scenario says as it goes: one line at a time.
Say = Callable[[str], None]

HOST = "127.0.0.1"


def reserve_port(port: int = 0) -> socket.socket:
    """A socket holding a port for a node until its process listens: bound with SO_REUSEADDR
    and never listening. The node's server (uvicorn sets SO_REUSEADDR too) may still bind the
    port, while the kernel gives it to no one asking for a free port and a plain bind of it
    is refused. `port=0`: the kernel picks one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise
    return sock


@dataclass
class DemoNode:
    participant: str
    home: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, WebAccount] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


class DemoFailed(Exception):
    pass


class Federation:
    """Nodes created in a folder and run as subprocesses; used by the demo, tests and bench."""

    def __init__(self, root: Path, passphrase: str, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.passphrase = passphrase
        self.nodes: dict[str, DemoNode] = {}
        self.env = dict(os.environ, COMITY_KEY_PASSPHRASE=passphrase, **(env or {}))
        self.log_dir = root / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._open_files: list[Any] = []
        self._held: dict[str, socket.socket] = {}
        # A federation dropped without stop_all (a test that never starts its nodes) lets its
        # held ports go with it.
        weakref.finalize(self, _close_all, self._held)
        self.officers: list[Officer] = []

    def init_node(
        self,
        participant: str,
        port: int = 0,
        database_url: str = "",
        registry_url: str = "",
        registry_key: dict[str, Any] | None = None,
        **settings: Any,
    ) -> DemoNode:
        if not port:
            held = reserve_port()
            port = int(held.getsockname()[1])
            self._held[participant] = held
        home = self.root / participant
        values: dict[str, Any] = dict(
            participant_id=participant,
            port=port,
            database_url=database_url,
            registry_url=registry_url,
            registry_key=registry_key,
            key_passphrase=self.passphrase,
            **settings,
        )
        node_settings = load_settings(home, **values)
        node_service.init_node(node_settings, self.passphrase)
        extra = {k: v for k, v in settings.items() if k not in ("key_passphrase",)}
        if extra:
            config = read_config_file(home)
            config.update(extra)
            write_config_file(home, config)
        node = DemoNode(participant, home, port)
        self.nodes[participant] = node
        return node

    def open(self, participant: str) -> Node:
        home = self.nodes[participant].home
        return open_node(load_settings(home, key_passphrase=self.passphrase))

    def token(self, participant: str, user: str, roles: list[str]) -> str:
        node = self.open(participant)
        try:
            with transaction(node.sessions) as session:
                secret = accounts_service.create_token(session, user, roles, actor="demo")
        finally:
            node.close()
        self.nodes[participant].tokens[user] = secret
        return secret

    def web_users(
        self, participant: str, users: list[tuple[str, list[str]]], password: str = DEMO_PASSWORD
    ) -> list[WebAccount]:
        """Sign-in accounts for the node's pages: a password and a fresh TOTP secret each."""
        node = self.open(participant)
        made: list[WebAccount] = []
        try:
            with transaction(node.sessions) as session:
                for username, roles in users:
                    _, enrolment = accounts_service.add_user(
                        session,
                        username,
                        username,
                        roles,
                        password,
                        passphrase_of(node.settings),
                        f"comity {participant}",
                        "demo",
                    )
                    made.append(
                        WebAccount(
                            participant=participant,
                            username=username,
                            roles=list(roles),
                            password=password,
                            totp_secret=enrolment.secret,
                            otpauth_uri=enrolment.uri,
                            login_url=f"{self.nodes[participant].url}/login",
                        )
                    )
        finally:
            node.close()
        for account in made:
            self.nodes[participant].accounts[account.username] = account
        return made

    def web_user(
        self, participant: str, username: str, roles: list[str], password: str = DEMO_PASSWORD
    ) -> WebAccount:
        return self.web_users(participant, [(username, roles)], password)[0]

    @property
    def accounts(self) -> list[WebAccount]:
        return [a for node in self.nodes.values() for a in node.accounts.values()]

    def registry_key(self) -> dict[str, Any]:
        node = self.open(REGISTRY_ID)
        try:
            return dict(public_jwk(node.keyring.signing_key()))
        finally:
            node.close()

    def directory_yaml(self, parties: dict[str, Any]) -> dict[str, Any]:
        """The parties file with each node's endpoint and public keys filled in."""
        document = {"participants": [], "treaties": parties.get("treaties", [])}
        for entry in parties["participants"]:
            entry = dict(entry)
            node = self.nodes.get(entry["id"])
            if node is not None:
                opened = self.open(entry["id"])
                try:
                    with opened.sessions() as session:
                        entry["keys"] = node_service.public_keys(session)
                finally:
                    opened.close()
                entry["endpoint"] = node.url
            document["participants"].append(entry)
        return document

    def publish(self, document: dict[str, Any], valid_days: int = 30) -> str:
        path = self.root / "directory.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        registry = self.open(REGISTRY_ID)
        try:
            with transaction(registry.sessions) as session:
                token = directory_service.publish(
                    session,
                    directory_service.load_yaml(path),
                    REGISTRY_ID,
                    registry.keyring.signing_key(),
                    valid_days,
                )
        finally:
            registry.close()
        return token

    def start(self, participant: str, *args: str, timeout: float = 60) -> None:
        self.start_many([participant], *args, timeout=timeout)

    def start_many(self, participants: list[str], *args: str, timeout: float = 60) -> None:
        """Start the nodes' processes together, then wait until each answers (a loaded machine
        takes a while to import and migrate each one). A process that ends before answering
        fails at once, with the end of its log."""
        for participant in participants:
            node = self.nodes[participant]
            log = (self.log_dir / f"{participant}.log").open("ab")
            self._open_files.append(log)
            node.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "comity", "node", "serve", "--home", str(node.home), *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for participant in participants:
            wait_until(
                functools.partial(self._answers, participant),
                timeout,
                f"{participant} did not start",
            )
            self._release(participant)

    def _answers(self, participant: str) -> bool:
        """Whether the node's own process answers on its port (not another process's)."""
        node = self.nodes[participant]
        if node.process is not None and node.process.poll() is not None:
            raise DemoFailed(
                f"{participant} stopped (exit code {node.process.returncode}) before answering"
                f" on port {node.port}; the end of its log:\n{self._log_tail(participant)}"
            )
        return _health(node.url) == participant

    def _log_tail(self, participant: str, lines: int = 8) -> str:
        path = self.log_dir / f"{participant}.log"
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.strip().splitlines()[-lines:])

    def _release(self, participant: str) -> None:
        held = self._held.pop(participant, None)
        if held is not None:
            held.close()

    def kill(self, participant: str, sig: int = signal.SIGKILL) -> None:
        """Stop the node's process; its port is held again until the node is started anew."""
        node = self.nodes[participant]
        process = node.process
        if process and process.poll() is None:
            process.send_signal(sig)
            process.wait(10)
        if participant not in self._held:
            # Taken meanwhile (OSError): the restart will say so.
            with contextlib.suppress(OSError):
                self._held[participant] = reserve_port(node.port)

    def officer(self, participant: str, user: str) -> Officer:
        officer = Officer(self.nodes[participant], user)
        self.officers.append(officer)
        return officer

    def await_directory(self, participant: str, timeout: float = 20) -> None:
        wait_until(
            functools.partial(_has_directory, self.nodes[participant].url),
            timeout,
            f"{participant} did not pull the directory",
        )

    def stop_all(self) -> None:
        for officer in self.officers:
            officer.client.close()
        self.officers.clear()
        for node in self.nodes.values():
            if node.process and node.process.poll() is None:
                node.process.send_signal(signal.SIGTERM)
        for node in self.nodes.values():
            if node.process:
                try:
                    node.process.wait(10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(5)
        for participant in list(self._held):
            self._release(participant)
        for handle in self._open_files:
            handle.close()
        self._open_files.clear()


def _close_all(held: dict[str, socket.socket]) -> None:
    for sock in held.values():
        sock.close()
    held.clear()


def _health(url: str) -> str | None:
    """The participant a node at `url` says it is, or None when it does not answer."""
    try:
        response = httpx.get(f"{url}/v1/health", timeout=1)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        return str(response.json().get("participant"))
    except ValueError:
        return None


def _has_directory(url: str) -> bool:
    try:
        response = httpx.get(f"{url}/v1/directory", timeout=2)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def wait_until(condition: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise DemoFailed(message)


class Officer:
    """An officer using a node's API with a bearer token."""

    def __init__(self, node: DemoNode, user: str) -> None:
        self.node, self.user = node, user
        self.client = httpx.Client(
            base_url=node.url,
            headers={"authorization": f"Bearer {node.tokens[user]}"},
            timeout=10,
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            body = response.json()
            raise ComityError(body.get("message", str(body)))
        return response.json()

    def create(self, kind: str, to: str, request: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST",
            "/v1/cases",
            json={
                "kind": kind,
                "to": to,
                "request": request,
                "instrument": request.get("instrument", ""),
            },
        )
        return result

    def act(self, case_id: str, act: str, **body: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", f"/v1/cases/{case_id}/acts", json={"act": act, "body": body}
        )
        return result

    def case(self, case_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"/v1/cases/{case_id}")
        return result

    def state(self, case_id: str) -> str | None:
        response = self.client.get(f"/v1/cases/{case_id}")
        return str(response.json()["state"]) if response.status_code == 200 else None

    def await_state(self, case_id: str, state: str, timeout: float = 20) -> None:
        wait_until(
            lambda: self.state(case_id) == state,
            timeout,
            f"{self.node.participant}: request {case_id} never reached '{state}'",
        )


def refused(call: Callable[[], Any], what: str) -> str:
    """The message of the refusal `call` must meet; DemoFailed when it was allowed."""
    try:
        call()
    except ComityError as exc:
        return exc.message
    raise DemoFailed(f"{what} was allowed")
