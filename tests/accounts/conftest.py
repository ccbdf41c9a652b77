"""Accounts fixtures: one node on each database, users with a known password and TOTP
secret, and a clock the tests move (TOTP codes are tied to 30-second steps)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from comity.accounts import service
from comity.accounts.credentials import totp_code
from comity.kit.clock import FrozenClock, use_clock, utc_now
from comity.kit.db import transaction
from comity.nodes.runtime import Node, passphrase_of
from comity.transport.app import create_app
from tests.support import LiveServer, make_node

PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    username: str
    password: str
    totp_secret: str


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    frozen = FrozenClock(utc_now().replace(microsecond=0))
    previous = use_clock(frozen)
    yield frozen
    use_clock(previous)


@pytest.fixture
def node(tmp_path: Path, database_url: str, clock: FrozenClock) -> Iterator[Node]:
    made = make_node(tmp_path / "XA", "XA", database_url)
    yield made
    made.close()


@pytest.fixture
def client(node: Node) -> Iterator[httpx.Client]:
    """The node's app over real HTTP on 127.0.0.1."""
    with LiveServer(create_app(node)) as server, httpx.Client(base_url=server.url) as http:
        yield http


def add_person(node: Node, username: str, *roles: str, password: str = PASSWORD) -> Person:
    with transaction(node.sessions) as session:
        _, enrolment = service.add_user(
            session,
            username,
            username.title(),
            list(roles),
            password,
            passphrase_of(node.settings),
            "comity XA",
            "test-admin",
        )
    return Person(username, password, enrolment.secret)


def code_now(person: Person) -> str:
    return totp_code(person.totp_secret, utc_now())


def log_in(client: httpx.Client, person: Person, clock: FrozenClock) -> dict[str, str]:
    """Log in with a fresh code (the clock moves to the next step: a code works once)."""
    clock.advance(timedelta(seconds=30))
    response = client.post(
        "/v1/login",
        json={"username": person.username, "password": person.password, "totp": code_now(person)},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
