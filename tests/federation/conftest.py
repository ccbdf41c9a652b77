"""Real node processes on 127.0.0.1 talking real HTTP, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from comity.demo.directory import PARTIES, REGISTRY_ID
from comity.demo.federation import Federation
from tests.support import PASSPHRASE

FAST = {
    "retry_base_seconds": 0.2,
    "retry_max_seconds": 1.0,
    "worker_poll_seconds": 0.05,
    "lease_seconds": 5,
}


@pytest.fixture
def federation_factory(tmp_path: Path) -> Iterator[Callable[..., Federation]]:
    made: list[Federation] = []

    def make(database_url: Callable[[], str] | None = None, **settings: Any) -> Federation:
        fed = Federation(tmp_path / f"fed{len(made)}", PASSPHRASE)
        made.append(fed)
        url = database_url or (lambda: "")
        registry = fed.init_node(REGISTRY_ID, database_url=url())
        key = fed.registry_key()
        for participant in ("XA", "XB"):
            fed.init_node(
                participant,
                database_url=url(),
                registry_url=registry.url,
                registry_key=key,
                **{**FAST, **settings},
            )
        parties = yaml.safe_load(PARTIES.read_text(encoding="utf-8"))
        parties["participants"] = [p for p in parties["participants"] if p["id"] in fed.nodes]
        fed.publish(fed.directory_yaml(parties))
        fed.token("XA", "xa-duty", ["duty-officer"])
        fed.token("XB", "xb-duty", ["duty-officer"])
        fed.start(REGISTRY_ID)
        return fed

    yield make
    for fed in made:
        fed.stop_all()
