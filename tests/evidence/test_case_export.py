"""The CASE/UCO export conforms to the official validator and carries what a court needs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from comity.evidence.case_export import export_case
from comity.evidence.custody import CustodyAction
from comity.evidence.package import load_manifest, record

from .conftest import Sealed
from .factories import OFFICER, PRODUCER


def _validator() -> str:
    found = shutil.which("case_validate") or str(Path(sys.executable).with_name("case_validate"))
    assert Path(found).exists(), "install the dev extra: case-utils provides case_validate"
    return found


def test_export_conforms_to_case_validate(sealed: Sealed, tmp_path: Path) -> None:
    record(sealed.package, CustodyAction.SENT, PRODUCER, sealed.node_key, OFFICER)
    exported = tmp_path / "package.jsonld"
    exported.write_text(json.dumps(export_case(sealed.package), indent=2))

    result = subprocess.run(
        [_validator(), str(exported)], capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Conforms: True" in result.stdout


def test_export_lists_every_file_hash_and_every_custody_event(sealed: Sealed) -> None:
    manifest = load_manifest(sealed.package)

    nodes = export_case(sealed.package)["@graph"]

    hashes = {
        facet["uco-observable:hash"][0]["uco-types:hashValue"]["@value"].lower()
        for node in nodes
        if node["@type"] == "uco-observable:File"
        for facet in node["uco-core:hasFacet"]
        if facet["@type"] == "uco-observable:ContentDataFacet"
    }
    assert {entry.sha256 for entry in manifest.files} <= hashes
    names = [node["uco-core:name"] for node in nodes]
    assert "custody event 1: created" in names
    assert "custody event 2: sealed" in names
    assert all(node["@id"].startswith("kb:") for node in nodes)


def test_export_is_the_same_each_time(sealed: Sealed) -> None:
    assert export_case(sealed.package) == export_case(sealed.package)
