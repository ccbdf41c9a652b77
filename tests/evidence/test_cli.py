"""`comity evidence seal | verify | export-case` as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from joserfc.jwk import OKPKey
from typer.testing import CliRunner

from comity.directory.service import DIRECTORY_TYP
from comity.edges import cli as common
from comity.evidence.cli import app
from comity.protocol.signed import sign_document

from .conftest import Sealed
from .factories import PRODUCER, directory_of, evidence_folder, participant, signing_key

runner = CliRunner()


def _directory_yaml(sealed: Sealed, tmp_path: Path) -> Path:
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump({"participants": [participant(PRODUCER, sealed.node_key)]}))
    return path


@dataclass
class _Keyring:
    key: OKPKey

    def signing_key(self) -> OKPKey:
        return self.key


@dataclass
class _Node:
    participant_id: str
    keyring: _Keyring

    def close(self) -> None:
        pass


def _fake_node(monkeypatch: pytest.MonkeyPatch, key: OKPKey) -> None:
    """`seal` opens the node only for its id and signing key: a stand-in holding them."""

    @contextmanager
    def opened(home: Path | None) -> Iterator[_Node]:
        yield _Node(PRODUCER, _Keyring(key))

    monkeypatch.setattr(common, "opened", opened)


def test_seal_then_verify_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = signing_key("XA-sig-1")
    _fake_node(monkeypatch, key)
    package = tmp_path / "package"
    sealed = runner.invoke(
        app,
        [
            "seal", str(evidence_folder(tmp_path)), "--out", str(package),
            "--request", "c0ffee00-0000-4000-8000-000000000001",
            "--description", "Access logs", "--method", "database export",
            "--acquired-at", "2026-11-20T09:30:00Z", "--user", "XA:officer.martin",
            "--proceeding", "XB case 2026/114",
        ],
    )  # fmt: skip
    assert sealed.exit_code == 0, sealed.output
    assert "3 files" in sealed.output
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump({"participants": [participant(PRODUCER, key)]}))

    verified = runner.invoke(app, ["verify", str(package), "--directory", str(directory)])

    assert verified.exit_code == 0, verified.output
    assert "OK: every file matches the manifest" in verified.output


def test_seal_with_move_leaves_the_folder_empty_and_the_package_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = signing_key("XA-sig-1")
    _fake_node(monkeypatch, key)
    folder, package = evidence_folder(tmp_path), tmp_path / "package"
    sealed = runner.invoke(
        app,
        [
            "seal", str(folder), "--out", str(package), "--move",
            "--request", "c0ffee00-0000-4000-8000-000000000001",
            "--description", "Disk image", "--method", "imaging",
            "--acquired-at", "2026-11-20T09:30:00Z", "--user", "XA:officer.martin",
        ],
    )  # fmt: skip
    assert sealed.exit_code == 0, sealed.output
    assert not [p for p in folder.rglob("*") if p.is_file()]
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump({"participants": [participant(PRODUCER, key)]}))

    verified = runner.invoke(app, ["verify", str(package), "--directory", str(directory)])

    assert verified.exit_code == 0, verified.output


def test_seal_refuses_a_time_without_zone(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "seal", str(evidence_folder(tmp_path)), "--out", str(tmp_path / "p"),
            "--request", "r", "--description", "d", "--method", "m",
            "--acquired-at", "2026-11-20T09:30:00",
        ],
    )  # fmt: skip

    assert result.exit_code == 2
    assert "give a time zone" in result.output


def test_verify_prints_problems_in_plain_words_and_exits_1(sealed: Sealed, tmp_path: Path) -> None:
    (sealed.package / "files" / "subscriber.csv").write_text("account,created\nmallory,2024\n")

    result = runner.invoke(
        app, ["verify", str(sealed.package), "--directory", str(_directory_yaml(sealed, tmp_path))]
    )

    assert result.exit_code == 1
    assert "NOT VERIFIED: 1 problem(s)" in result.output
    assert "file files/subscriber.csv: size differs from the manifest" in result.output


def test_verify_with_a_signed_directory_and_the_registry_key(
    sealed: Sealed, tmp_path: Path
) -> None:
    registry_key = signing_key("REG-sig-1")
    document = directory_of(participant(PRODUCER, sealed.node_key)).to_json_dict()
    signed = tmp_path / "directory.jws"
    signed.write_text(sign_document(DIRECTORY_TYP, "REG", document, registry_key))
    pinned = tmp_path / "registry.jwk"
    pinned.write_text(json.dumps(registry_key.as_dict(private=False)))

    result = runner.invoke(
        app,
        [
            "verify", str(sealed.package), "--directory", str(signed),
            "--registry-key", str(pinned), "--json",
        ],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert report["directory"].startswith("signed directory version 3")


def test_verify_asks_for_the_registry_key_of_a_signed_directory(
    sealed: Sealed, tmp_path: Path
) -> None:
    signed = tmp_path / "directory.jws"
    signed.write_text(sign_document(DIRECTORY_TYP, "REG", {"x": 1}, signing_key("REG-sig-1")))

    result = runner.invoke(app, ["verify", str(sealed.package), "--directory", str(signed)])

    assert result.exit_code == 2
    assert "--registry-key" in result.output


def test_export_case_writes_json_ld(sealed: Sealed, tmp_path: Path) -> None:
    out = tmp_path / "case.jsonld"

    result = runner.invoke(app, ["export-case", str(sealed.package), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "@graph" in json.loads(out.read_text())


def test_seal_with_a_real_node_signs_with_its_directory_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support import PASSPHRASE, make_node, participant_entry

    node = make_node(tmp_path / "xa", PRODUCER, f"sqlite:///{tmp_path / 'xa.db'}")
    entry = participant_entry(node)
    node.close()
    monkeypatch.setenv("COMITY_KEY_PASSPHRASE", PASSPHRASE)
    package = tmp_path / "package"
    sealed = runner.invoke(
        app,
        [
            "seal", str(evidence_folder(tmp_path)), "--out", str(package),
            "--home", str(tmp_path / "xa"), "--request", "r-1",
            "--description", "Access logs", "--method", "database export",
        ],
    )  # fmt: skip
    assert sealed.exit_code == 0, sealed.output
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump({"participants": [entry]}))

    verified = runner.invoke(app, ["verify", str(package), "--directory", str(directory)])

    assert verified.exit_code == 0, verified.output
