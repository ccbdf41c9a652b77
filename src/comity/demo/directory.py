"""The scenario parties' directory: what the demo publishes (its nodes add their keys and
endpoints) and, unsigned and without keys, the example shipped in `examples/directory/` for the
offline commands of the guides (`comity request check FILE --directory …`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from comity.directory.document import parse_directory

PARTIES = Path(__file__).with_name("parties.yaml")
REGISTRY_ID = "REGISTRY"
#: The demo's nodes besides the registry: the states and providers the scenarios run between.
STATES = ("XA", "XB", "XC", "PB", "XD", "PD")
EXAMPLE_PATH = "examples/directory/scenario.yaml"
# Fixed, so that regenerating the example gives the same bytes; the example is never imported
# by a node (unsigned), so its validity period only has to cover the scenario's dates.
EXAMPLE_ISSUED_AT = datetime(2026, 1, 1, tzinfo=UTC)
EXAMPLE_EXPIRES_AT = datetime(2036, 1, 1, tzinfo=UTC)

_HEADER = f"""\
# The scenario parties (shared/design/scenarios.md) as a directory document, as the demo
# publishes them but unsigned and without the keys and endpoints of the demo's nodes.
# For the offline commands of the guides, e.g.
#   comity request check examples/requests/mla.json --directory {EXAMPLE_PATH}
# Generated from src/comity/demo/parties.yaml; do not edit by hand. Regenerate with
#   comity demo directory --out {EXAMPLE_PATH}
# (tests/demo/test_example_directory.py fails while this file is stale).
"""


def scenario_parties() -> dict[str, Any]:
    """The parties file with the registry listed first: the document the demo fills in."""
    parties: dict[str, Any] = yaml.safe_load(PARTIES.read_text(encoding="utf-8"))
    registry = {"id": REGISTRY_ID, "name": "Registry (depositary)", "type": "registry"}
    return {
        "participants": [registry, *parties["participants"]],
        "treaties": parties.get("treaties", []),
    }


def example_directory() -> dict[str, Any]:
    """The directory document of the scenario parties (version 1), checked valid and kept as
    the parties file writes it (no defaults filled in)."""
    document = {
        "version": 1,
        "issued_at": EXAMPLE_ISSUED_AT.isoformat(),
        "expires_at": EXAMPLE_EXPIRES_AT.isoformat(),
        "registry": REGISTRY_ID,
        **scenario_parties(),
    }
    parse_directory(document, "scenario parties")
    return document


def example_directory_yaml() -> str:
    """The text of `examples/directory/scenario.yaml`."""
    body = yaml.safe_dump(example_directory(), sort_keys=False, allow_unicode=True, width=100)
    return _HEADER + body
