"""The manifest of an evidence package: what the files are, proved by their SHA-256 digests and a
Merkle root, and why they were produced; signed by the producing node.

Hashing streams the files in fixed reads, so memory stays flat whatever their size. The Merkle
construction is defined in `merkle_root` and in README.md so that it can be recomputed by hand.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from comity.evidence.errors import PackageMalformed, UnsafePath
from comity.protocol.envelope import format_time, parse_time
from comity.protocol.errors import MalformedEnvelope
from comity.protocol.signed import SignedDocument, read_unverified, sign_document, verify_document

MANIFEST_TYP = "comity-evidence-manifest+jws"
MANIFEST_FORMAT = "comity-evidence-manifest/1"
MERKLE_ALGORITHM = "comity-merkle-sha256/1"
READ_SIZE = 4 * 1024 * 1024

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

ByteProgress = Callable[[int], None]
"""Called with the number of bytes just processed, for progress bars."""


@dataclass(frozen=True)
class FileEntry:
    """One file of a package: its path below `files/`, size in bytes and SHA-256 (hex)."""

    path: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class Acquisition:
    """How the evidence was obtained: by whom, when, by what method and with which tool."""

    by: str
    at: datetime
    method: str
    tool: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "at": format_time(self.at), "method": self.method, "tool": self.tool}


@dataclass(frozen=True)
class Manifest:
    """The signed statement of what a package holds and under which conditions it is given."""

    package_id: str
    producer: str
    created_at: datetime
    description: str
    acquisition: Acquisition
    answers_request: str
    files: tuple[FileEntry, ...]
    conditions_on_use: str = ""
    permitted_proceedings: tuple[str, ...] = ()
    confidential: bool = True
    merkle_root: str = field(default="")

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.files, key=lambda entry: entry.path))
        paths = [entry.path for entry in ordered]
        if len(set(paths)) != len(paths):
            raise PackageMalformed("a file path is listed twice in the manifest")
        for path in paths:
            check_relative_path(path)
        object.__setattr__(self, "files", ordered)
        if not self.merkle_root:
            object.__setattr__(self, "merkle_root", merkle_root(ordered))

    @property
    def total_size(self) -> int:
        return sum(entry.size for entry in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "package_id": self.package_id,
            "producer": self.producer,
            "created_at": format_time(self.created_at),
            "description": self.description,
            "acquisition": self.acquisition.to_json(),
            "answers_request": self.answers_request,
            "conditions_on_use": self.conditions_on_use,
            "permitted_proceedings": list(self.permitted_proceedings),
            "confidential": self.confidential,
            "hash_algorithm": "SHA-256",
            "merkle_algorithm": MERKLE_ALGORITHM,
            "merkle_root": self.merkle_root,
            "files": [entry.to_json() for entry in self.files],
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Manifest:
        """Read a manifest payload; keeps the stated Merkle root so a mismatch can be reported."""
        if payload.get("format") != MANIFEST_FORMAT:
            raise PackageMalformed(
                f"manifest format {payload.get('format')!r} is not {MANIFEST_FORMAT}"
            )
        try:
            acquisition = payload["acquisition"]
            return cls(
                package_id=str(uuid.UUID(payload["package_id"])),
                producer=str(payload["producer"]),
                created_at=parse_time(payload["created_at"]),
                description=str(payload["description"]),
                acquisition=Acquisition(
                    by=str(acquisition["by"]),
                    at=parse_time(acquisition["at"]),
                    method=str(acquisition["method"]),
                    tool=str(acquisition.get("tool", "")),
                ),
                answers_request=str(payload["answers_request"]),
                conditions_on_use=str(payload.get("conditions_on_use", "")),
                permitted_proceedings=tuple(str(p) for p in payload["permitted_proceedings"]),
                confidential=bool(payload["confidential"]),
                files=tuple(
                    FileEntry(path=str(f["path"]), size=int(f["size"]), sha256=str(f["sha256"]))
                    for f in payload["files"]
                ),
                merkle_root=str(payload["merkle_root"]),
            )
        except (KeyError, TypeError, ValueError, MalformedEnvelope) as exc:
            raise PackageMalformed(f"manifest is incomplete or malformed: {exc}") from exc


def check_relative_path(path: str) -> str:
    """Refuse a file path that is absolute, climbs out, or is not portable between systems."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        raise UnsafePath(f"file path {path!r} must be relative, with '/' between folders")
    if any(part in {"", ".", ".."} for part in path.split("/")):
        raise UnsafePath(f"file path {path!r} has an empty, '.' or '..' segment")
    if unicodedata.normalize("NFC", path) != path:
        raise UnsafePath(f"file path {path!r} is not in Unicode normal form C")
    return path


def list_files(folder: Path) -> list[str]:
    """Relative POSIX paths of the regular files below `folder`, sorted; refuses symlinks."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        for name in dirnames:
            if (base / name).is_symlink():
                raise UnsafePath(f"{(base / name).relative_to(folder)} is a symbolic link")
        for name in filenames:
            full = base / name
            relative = full.relative_to(folder).as_posix()
            if full.is_symlink() or not full.is_file():
                raise UnsafePath(f"{relative} is not a regular file (symbolic link or device)")
            found.append(check_relative_path(relative))
    return sorted(found)


def hash_file(path: Path, on_bytes: ByteProgress | None = None) -> tuple[int, str]:
    """Size and SHA-256 hex of a file, read in 4 MiB blocks into one buffer reused for the
    whole file (a fresh block per read would leave two alive at each step, and malloc keeps
    such a high-water mark for the life of the process)."""
    return hash_reader(path.open("rb", buffering=0), on_bytes)


def hash_reader(
    source: io.RawIOBase | io.BufferedIOBase, on_bytes: ByteProgress | None = None
) -> tuple[int, str]:
    """Size and SHA-256 hex of what remains in a binary stream with `readinto`; closes it."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(READ_SIZE)
    view = memoryview(buffer)
    with source:
        while count := source.readinto(buffer):
            digest.update(view[:count])
            size += count
            if on_bytes is not None:
                on_bytes(count)
    view.release()
    return size, digest.hexdigest()


def merkle_leaf(path: str, sha256_hex: str) -> bytes:
    """SHA-256(0x00 || UTF-8 path || 0x00 || 32-byte file digest)."""
    return hashlib.sha256(
        LEAF_PREFIX + path.encode("utf-8") + b"\x00" + bytes.fromhex(sha256_hex)
    ).digest()


def merkle_root(files: Iterable[FileEntry]) -> str:
    """The Merkle root (hex) over a package's files.

    Leaves are `merkle_leaf` of each file, ordered by the UTF-8 bytes of the path. Each level
    pairs neighbours left to right into SHA-256(0x01 || left || right); an odd last node is
    carried up unchanged. The root of one file is its leaf; of no file, SHA-256 of nothing.
    """
    ordered = sorted(files, key=lambda entry: entry.path.encode("utf-8"))
    level = [merkle_leaf(entry.path, entry.sha256) for entry in ordered]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        paired = [
            hashlib.sha256(NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


def sign_manifest(manifest: Manifest, key: OKPKey) -> str:
    """The manifest as a compact JWS signed by the producing node."""
    return sign_document(MANIFEST_TYP, manifest.producer, manifest.to_json(), key)


def read_manifest_unverified(token: str) -> tuple[dict[str, Any], Manifest]:
    """Header and manifest without checking the signature: to pick the key, or to diagnose."""
    try:
        header, payload = read_unverified(token)
    except MalformedEnvelope as exc:
        raise PackageMalformed(f"manifest.jws is not a signed document: {exc.message}") from exc
    return header, Manifest.from_json(payload)


def verify_manifest(token: str, key_for: Callable[[str, str], OKPKey]) -> SignedDocument:
    """Check the manifest's signature; `key_for(issuer, kid)` supplies the public key."""
    return verify_document(token, MANIFEST_TYP, key_for)
