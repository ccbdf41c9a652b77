"""Test helpers: real nodes (in process or as subprocesses) with a real signed directory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from comity.directory import service as directory_service
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.settings import load_settings
from comity.nodes import service as node_service
from comity.nodes.keys import public_jwk
from comity.nodes.runtime import Node, open_node

PASSPHRASE = "test passphrase for keys at rest"


def make_node(
    home: Path, participant: str, database_url: str, port: int = 8600, **settings: Any
) -> Node:
    values = dict(
        participant_id=participant,
        database_url=database_url,
        port=port,
        key_passphrase=PASSPHRASE,
        **settings,
    )
    node_service.init_node(load_settings(home, **values), PASSPHRASE)
    return open_node(load_settings(home, key_passphrase=PASSPHRASE, **settings))


def participant_entry(node: Node, **extra: Any) -> dict[str, Any]:
    with node.sessions() as session:
        keys = node_service.public_keys(session)
    entry: dict[str, Any] = {
        "id": node.participant_id,
        "name": f"State {node.participant_id}",
        "type": "state",
        "endpoint": node.settings.effective_public_url,
        "keys": keys,
        "languages": ["en", "fr"],
        # Bound by the instruments the tests' requests cite, so that what a test sends passes
        # the law check every submission goes through; a test about the law says otherwise.
        "instruments": [
            {"instrument": "budapest", "in_force_from": "2012-09-01"},
            {"instrument": "budapest-p2", "in_force_from": "2024-06-01"},
            {"instrument": "untoc"},
        ],
    }
    entry.update(extra)
    return entry


def publish(registry: Node, participants: list[dict[str, Any]], **document: Any) -> str:
    with transaction(registry.sessions) as session:
        return directory_service.publish(
            session,
            {"participants": participants, **document},
            registry.participant_id,
            registry.keyring.signing_key(),
        )


def import_into(node: Node, token: str, registry: Node) -> None:
    directory_service.import_signed(
        node.sessions, token, public_jwk(registry.keyring.signing_key()), "test"
    )


@dataclass
class World:
    """A registry and some state nodes, each on its own database, sharing one directory."""

    registry: Node
    nodes: dict[str, Node] = field(default_factory=dict)

    def republish(self, **extra_per_node: dict[str, Any]) -> str:
        entries = [participant_entry(n, **extra_per_node.get(p, {})) for p, n in self.nodes.items()]
        token = publish(self.registry, entries)
        for node in self.nodes.values():
            import_into(node, token, self.registry)
        return token

    def close(self) -> None:
        for node in [self.registry, *self.nodes.values()]:
            node.close()


def build_world(
    tmp: Path, database_url: Callable[[], str], participants: list[str], **settings: Any
) -> World:
    registry = make_node(tmp / "registry", "REGISTRY", database_url())
    world = World(registry)
    for index, participant in enumerate(participants):
        world.nodes[participant] = make_node(
            tmp / participant, participant, database_url(), port=18600 + index, **settings
        )
    world.republish()
    return world


def in_days(days: int) -> str:
    return (utc_now() + timedelta(days=days)).date().isoformat()


class LiveServer:
    """A node's app served by uvicorn on 127.0.0.1 in a thread: real HTTP, stops by itself."""

    def __init__(self, app: Any) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
