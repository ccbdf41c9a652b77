"""Web fixtures: a node served over real HTTP on 127.0.0.1, users with password and TOTP, and
a browser-like client that keeps cookies and reads the CSRF token from each form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from comity.kit.clock import FrozenClock
from comity.nodes.runtime import Node
from comity.transport.app import create_app
from tests.accounts.conftest import Person, add_person, code_now
from tests.support import LiveServer, make_node

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _strict_translations(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page that shows a string with no translation fails (500) instead of falling back."""
    monkeypatch.setenv("COMITY_WEB_STRICT_I18N", "1")


@pytest.fixture
def web_node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    made = make_node(tmp_path / "XA", "XA", database_url)
    yield made
    made.close()


@pytest.fixture
def server(web_node: Node) -> Iterator[LiveServer]:
    with LiveServer(create_app(web_node)) as live:
        yield live


class Browser:
    """An HTTP client that behaves like a browser for forms: cookies, and the CSRF token of
    the last page it read."""

    def __init__(self, base_url: str) -> None:
        # Generous: a sign-in runs argon2id (64 MiB, 3 passes), slow on a loaded machine.
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
        self.csrf = ""

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        response = self.http.get(path, **kwargs)  # type: ignore[arg-type]
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict[str, str], csrf: str | None = None) -> httpx.Response:
        return self.http.post(path, data={"csrf": self.csrf if csrf is None else csrf, **data})

    def sign_in(self, person: Person) -> httpx.Response:
        self.get("/login")
        return self.post(
            "/login",
            {"username": person.username, "password": person.password, "code": code_now(person)},
        )

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def browser(server: LiveServer) -> Iterator[Browser]:
    made = Browser(server.url)
    yield made
    made.close()


__all__ = ["Browser", "FrozenClock", "add_person"]
