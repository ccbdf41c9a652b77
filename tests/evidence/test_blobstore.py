"""The content-addressed store: addresses by SHA-256, atomic writes, verify on read."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from comity.evidence.blobstore import BlobStore
from comity.evidence.errors import BlobCorrupted
from comity.kit.errors import NotFound


def test_a_blob_is_stored_under_its_sha256_with_fan_out(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    digest = store.put_bytes(b"subscriber data")

    assert digest == hashlib.sha256(b"subscriber data").hexdigest()
    assert store.path_for(digest) == (
        tmp_path / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    )
    assert store.has(digest)
    with store.open(digest) as stream:
        assert stream.read() == b"subscriber data"


def test_the_same_content_is_stored_once_and_no_temporary_file_remains(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    source = tmp_path / "in.bin"
    source.write_bytes(b"x" * 10_000)

    first, second = store.put_file(source), store.put_file(source)

    assert first == second
    assert list((tmp_path / "tmp").iterdir()) == []


def test_an_altered_blob_is_refused_on_read(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    digest = store.put_bytes(b"original")
    path = store.path_for(digest)
    path.chmod(0o640)
    path.write_bytes(b"0riginal")

    with pytest.raises(BlobCorrupted, match="no longer matches"):
        store.open(digest)
    assert not store.verify(digest)


def test_an_unknown_blob_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        BlobStore(tmp_path).open("0" * 64)


def test_a_malformed_address_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        BlobStore(tmp_path).has("../../etc/passwd")


def test_a_file_linked_in_is_the_same_file_and_read_only(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "store")
    source = tmp_path / "disk.img"
    source.write_bytes(b"image" * 1000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()

    assert store.link_in(source, digest)

    assert store.path_for(digest).stat().st_ino == source.stat().st_ino
    assert source.stat().st_mode & 0o777 == 0o440
    assert store.verify(digest)
    assert not list((tmp_path / "store" / "tmp").iterdir())


def test_a_file_that_does_not_match_its_digest_is_not_linked_in(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "store")
    source = tmp_path / "disk.img"
    source.write_bytes(b"image" * 1000)
    claimed = hashlib.sha256(b"another image").hexdigest()

    with pytest.raises(BlobCorrupted, match="changed"):
        store.link_in(source, claimed)

    assert not store.has(claimed)
    assert not list((tmp_path / "store" / "tmp").iterdir())
    assert source.stat().st_mode & 0o200, "a refused file was made read-only"
