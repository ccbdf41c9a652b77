"""Fixtures for the formal documents: the scenario directory, a variant in which every party
accepts all six languages, the example requests, and helpers over poppler's tools."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from comity.directory.document import Directory, parse_directory
from comity.documents import LANGUAGES
from tests.law.conftest import scenario_directory_document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "requests"
KINDS = sorted(p.stem for p in EXAMPLES.glob("*.json"))
ON = date(2026, 9, 2)
# pdftotext wraps right-to-left runs in embedding marks; they are layout, not text.
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def example(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="session")
def scenario() -> Directory:
    return parse_directory(scenario_directory_document(), source="scenario directory")


@pytest.fixture(scope="session")
def polyglot() -> Directory:
    """The scenario with every participant accepting all six UN languages."""
    raw = scenario_directory_document()
    for participant in raw["participants"]:
        participant["languages"] = list(LANGUAGES)
    return parse_directory(raw, source="polyglot scenario directory")


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "doc") -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return _BIDI_MARKS.sub("", out.stdout.decode("utf-8"))


def squeeze(text: str) -> str:
    """Text without whitespace, so a line broken by the layout still matches, and without
    parentheses: pdftotext mirrors them in a Latin run inside an Arabic paragraph although
    the page shows them correctly (checked on the rendered image)."""
    return re.sub(r"[\s()]+", "", _BIDI_MARKS.sub("", text))
