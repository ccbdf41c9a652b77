"""Sealing by moving the files into the package (`seal_folder(move=True)`, `comity evidence
seal --move`): no second copy, the same verifiable package, nothing lost when it cannot be
done."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

import pytest

from comity.evidence.errors import PackageMalformed
from comity.evidence.package import seal_folder
from comity.evidence.verify import verify_package

from .factories import (
    OFFICER,
    PRODUCER,
    RECEIVER,
    acquisition,
    directory_of,
    evidence_folder,
    participant,
    signing_key,
)


def _seal(source: Path, out: Path, key: object) -> object:
    return seal_folder(
        source,
        out,
        producer=PRODUCER,
        node_key=key,  # type: ignore[arg-type]
        user=OFFICER,
        description="Access logs",
        answers_request="c0ffee00-0000-4000-8000-000000000001",
        acquisition=acquisition(),
        move=True,
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_moved_seal_takes_the_files_without_copying_and_verifies(tmp_path: Path) -> None:
    key = signing_key("XA-sig-1")
    source = evidence_folder(tmp_path)
    before = _digests(source)
    inodes = {p.name: p.stat().st_ino for p in source.rglob("*") if p.is_file()}
    package = tmp_path / "package"

    manifest = _seal(source, package, key)

    assert _digests(package / "files") == before
    assert {p.name: p.stat().st_ino for p in (package / "files").rglob("*") if p.is_file()} == (
        inodes
    ), "the files were copied, not moved"
    assert not [p for p in source.rglob("*") if p.is_file()]
    assert [e.path for e in manifest.files] == sorted(before)  # type: ignore[attr-defined]
    directory = directory_of(participant(PRODUCER, key), participant(RECEIVER))
    report = verify_package(package, directory)
    assert report.ok, report.problems
    assert report.files_checked == 3


def test_a_moved_seal_across_filesystems_is_refused_and_leaves_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = evidence_folder(tmp_path)
    before = _digests(source)
    renamed: list[Path] = []
    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:  # the filesystem boundary, as a rename sees it
        if self.is_relative_to(source) and renamed:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        renamed.append(self)
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)

    with pytest.raises(PackageMalformed, match="another filesystem"):
        _seal(source, tmp_path / "package", signing_key("XA-sig-1"))

    assert _digests(source) == before, "a file moved before the failure was not moved back"


def test_a_moved_seal_into_its_own_folder_is_refused(tmp_path: Path) -> None:
    source = evidence_folder(tmp_path)
    before = _digests(source)

    with pytest.raises(PackageMalformed, match="inside"):
        _seal(source, source / "package", signing_key("XA-sig-1"))

    assert _digests(source) == before
