from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from comity.directory.document import Directory

from .factories import PRODUCER, RECEIVER, directory_of, evidence_folder, participant, seal
from .factories import signing_key as make_key


@dataclass
class Sealed:
    package: Path
    source: Path
    node_key: OKPKey
    user_key: OKPKey
    directory: Directory


@pytest.fixture
def sealed(tmp_path: Path) -> Sealed:
    node_key = make_key("XA-sig-1")
    user_key = make_key("XA:officer.martin-1")
    directory = directory_of(
        participant(PRODUCER, node_key), participant(RECEIVER, make_key("XB-sig-1"))
    )
    source = evidence_folder(tmp_path)
    package = tmp_path / "package"
    seal(source, package, node_key, user_key)
    return Sealed(package, source, node_key, user_key, directory)
