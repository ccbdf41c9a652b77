"""Manifest round trip, the Merkle definition recomputed by hand, and path safety."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from comity.evidence.errors import UnsafePath
from comity.evidence.manifest import (
    FileEntry,
    Manifest,
    check_relative_path,
    hash_file,
    list_files,
    merkle_root,
    read_manifest_unverified,
    sign_manifest,
    verify_manifest,
)
from comity.evidence.package import load_manifest, manifest_token

from .conftest import Sealed


def _entry(path: str, content: bytes) -> FileEntry:
    return FileEntry(path, len(content), hashlib.sha256(content).hexdigest())


def _leaf(entry: FileEntry) -> bytes:
    data = b"\x00" + entry.path.encode() + b"\x00" + bytes.fromhex(entry.sha256)
    return hashlib.sha256(data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_merkle_root_of_three_files_matches_the_written_definition() -> None:
    a, b, c = _entry("a.txt", b"A"), _entry("b/c.txt", b"B"), _entry("z", b"")

    expected = _node(_node(_leaf(a), _leaf(b)), _leaf(c)).hex()

    assert merkle_root([c, a, b]) == expected


def test_merkle_root_of_one_file_is_its_leaf_and_of_none_the_empty_hash() -> None:
    only = _entry("only.bin", b"x")

    assert merkle_root([only]) == _leaf(only).hex()
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()


def test_merkle_root_changes_with_a_rename() -> None:
    assert merkle_root([_entry("a", b"1")]) != merkle_root([_entry("b", b"1")])


def test_manifest_round_trips_through_its_signed_form(sealed: Sealed) -> None:
    token = manifest_token(sealed.package)
    manifest = load_manifest(sealed.package)

    signed = verify_manifest(token, lambda issuer, kid: sealed.node_key)

    assert Manifest.from_json(signed.payload) == manifest
    assert sign_manifest(manifest, sealed.node_key) == token
    assert [f.path for f in manifest.files] == ["empty.bin", "logs/x.log", "subscriber.csv"]
    assert manifest.answers_request == "c0ffee00-0000-4000-8000-000000000001"
    assert manifest.permitted_proceedings == ("XB criminal case 2026/114",)


def test_manifest_states_size_and_digest_of_each_file(sealed: Sealed) -> None:
    _, manifest = read_manifest_unverified(manifest_token(sealed.package))

    for entry in manifest.files:
        assert hash_file(sealed.source / entry.path) == (entry.size, entry.sha256)


@pytest.mark.parametrize("path", ["/etc/passwd", "../up", "a//b", "a/./b", "a\\b", ""])
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(UnsafePath):
        check_relative_path(path)


def test_a_symbolic_link_in_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")

    with pytest.raises(UnsafePath, match="link is not a regular file"):
        list_files(tmp_path)
