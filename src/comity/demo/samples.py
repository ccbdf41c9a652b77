"""The scenario's request documents (`demo/requests/*.json`), for the demo, the tests and the
benchmarks: each kind's example as an officer of XA (or XC) would write it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REQUESTS = Path(__file__).with_name("requests")


def load_request(kind: str) -> dict[str, Any]:
    """The example request document of `kind` (a file `demo/requests/<kind>.json`)."""
    loaded: dict[str, Any] = json.loads((REQUESTS / f"{kind}.json").read_text(encoding="utf-8"))
    return loaded


def preservation_request() -> dict[str, Any]:
    """Scenario 1: XA's hospital is encrypted; the attacker's server is rented from PB in XB."""
    return load_request("preservation")
