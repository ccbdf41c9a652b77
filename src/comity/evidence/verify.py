"""Verify an evidence package offline with only the package folder and a directory: the files
against the manifest, the manifest's signature, and every custody event. The report says in
plain words what is wrong, for a judge as much as for an engineer."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from comity.directory.document import Directory
from comity.evidence.custody import read_chain, verify_chain
from comity.evidence.errors import PackageMalformed
from comity.evidence.keys import signing_key
from comity.evidence.manifest import (
    MANIFEST_TYP,
    ByteProgress,
    Manifest,
    hash_file,
    merkle_root,
    read_manifest_unverified,
    verify_manifest,
)
from comity.evidence.package import CUSTODY_NAME, FILES_DIR, MANIFEST_NAME, manifest_token
from comity.protocol.errors import BadSignature, MalformedEnvelope


@dataclass
class Report:
    """The outcome of a verification: `ok` only when there is no problem at all."""

    package_id: str | None = None
    producer: str | None = None
    directory_version: int | None = None
    files_checked: int = 0
    bytes_checked: int = 0
    events_checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_package(
    package: Path, directory: Directory, on_bytes: ByteProgress | None = None
) -> Report:
    """Check everything that can be checked, and report every problem found, not the first."""
    report = Report(directory_version=directory.version)
    try:
        token = manifest_token(package)
        header, manifest = read_manifest_unverified(token)
    except PackageMalformed as exc:
        report.problems.append(exc.message)
        return report
    report.package_id, report.producer = manifest.package_id, manifest.producer
    _check_manifest_signature(token, header, manifest, directory, report)
    if merkle_root(manifest.files) != manifest.merkle_root:
        report.problems.append("the manifest's Merkle root does not match its file list")
    _check_files(package, manifest, report, on_bytes)
    try:
        chain = read_chain(package / CUSTODY_NAME)
    except PackageMalformed as exc:
        report.problems.append(exc.message)
        return report
    problems, events = verify_chain(chain, token, directory)
    report.problems.extend(problems)
    report.events_checked = len(events)
    unattested = [str(e.seq) for e in events if e.user_attestation is None]
    if unattested:
        report.notes.append(
            f"custody events {', '.join(unattested)} name their user but carry no user"
            " signature: only the node vouches for who handled the evidence"
        )
    extra = sorted(
        entry.name
        for entry in package.iterdir()
        if entry.name not in {MANIFEST_NAME, CUSTODY_NAME, FILES_DIR}
    )
    if extra:
        report.notes.append(f"the package folder also holds {', '.join(extra)}, not evidence")
    return report


def check_manifest(token: str, directory: Directory) -> tuple[Manifest | None, list[str]]:
    """The manifest of `token` and the problems with its signature and Merkle root, for a
    package held in a node's store rather than in a folder."""
    report = Report(directory_version=directory.version)
    try:
        header, manifest = read_manifest_unverified(token)
    except PackageMalformed as exc:
        return None, [exc.message]
    _check_manifest_signature(token, header, manifest, directory, report)
    if merkle_root(manifest.files) != manifest.merkle_root:
        report.problems.append("the manifest's Merkle root does not match its file list")
    return manifest, report.problems


def _check_manifest_signature(
    token: str, header: dict[str, object], manifest: Manifest, directory: Directory, report: Report
) -> None:
    issuer, kid = header.get("iss"), header.get("kid")
    if header.get("typ") != MANIFEST_TYP or not isinstance(issuer, str) or not isinstance(kid, str):
        report.problems.append("manifest signature invalid: manifest.jws is not a signed manifest")
        return
    if issuer != manifest.producer:
        report.problems.append(
            f"manifest signature invalid: it names {manifest.producer} as producer but was"
            f" signed by {issuer}"
        )
        return
    key, problem = signing_key(directory, "the manifest", issuer, kid, manifest.created_at)
    if key is None:
        report.problems.append(problem or "the manifest cannot be verified")
        return
    try:
        verify_manifest(token, lambda _issuer, _kid: key)
    except (BadSignature, MalformedEnvelope):
        report.problems.append(
            f"manifest signature invalid: the manifest was altered after {issuer} signed it"
        )


def _files_on_disk(root: Path, report: Report) -> set[str]:
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in [*dirnames, *filenames]:
            full = base / name
            relative = full.relative_to(root).as_posix()
            if full.is_symlink():
                report.problems.append(f"{FILES_DIR}/{relative} is a symbolic link, not a file")
            elif name in filenames:
                if full.is_file():
                    found.add(relative)
                else:
                    report.problems.append(f"{FILES_DIR}/{relative} is not a regular file")
    return found


def _check_files(
    package: Path, manifest: Manifest, report: Report, on_bytes: ByteProgress | None
) -> None:
    root = package / FILES_DIR
    on_disk = _files_on_disk(root, report) if root.is_dir() else set()
    listed = {entry.path for entry in manifest.files}
    for path in sorted(on_disk - listed):
        report.problems.append(f"file {FILES_DIR}/{path} is in the package but not in the manifest")
    for entry in manifest.files:
        shown = f"{FILES_DIR}/{entry.path}"
        if entry.path not in on_disk:
            report.problems.append(f"file {shown} is listed in the manifest but missing")
            continue
        digest = None  # only hashed when the size matches: otherwise it cannot match anyway
        try:
            actual_size = (root / entry.path).stat().st_size
            if actual_size == entry.size:
                _, digest = hash_file(root / entry.path, on_bytes)
        except OSError as exc:
            report.problems.append(f"file {shown} cannot be read: {exc.strerror}")
            continue
        if actual_size != entry.size:
            report.problems.append(
                f"file {shown}: size differs from the manifest ({actual_size} bytes,"
                f" the manifest says {entry.size})"
            )
            if on_bytes is not None:
                on_bytes(entry.size)
            continue
        report.files_checked += 1
        report.bytes_checked += actual_size
        if digest != entry.sha256:
            report.problems.append(f"file {shown}: SHA-256 differs from the manifest")
