"""An evidence package on disk, and sealing a folder into one.

PACKAGE/
  manifest.jws     the signed manifest (compact JWS, one line)
  custody.jsonl    the custody chain, one {"event": <compact JWS>} per line
  files/...        the evidence files, at the paths the manifest lists
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from joserfc.jwk import OKPKey

from comity.evidence.blobstore import fsync_dir, fsync_file, hash_copy
from comity.evidence.custody import (
    CustodyAction,
    DetailValue,
    append_event,
    read_chain,
    write_event,
)
from comity.evidence.errors import PackageMalformed
from comity.evidence.manifest import (
    Acquisition,
    ByteProgress,
    FileEntry,
    Manifest,
    hash_file,
    list_files,
    read_manifest_unverified,
    sign_manifest,
)
from comity.kit.clock import utc_now
from comity.kit.jsonutil import sha256_hex

MANIFEST_NAME = "manifest.jws"
CUSTODY_NAME = "custody.jsonl"
FILES_DIR = "files"


def folder_size(folder: Path) -> int:
    """Total bytes of the files a seal of `folder` would take in (for progress bars)."""
    return sum((folder / path).stat().st_size for path in list_files(folder))


def seal_folder(
    source: Path,
    out: Path,
    *,
    producer: str,
    node_key: OKPKey,
    user: str,
    description: str,
    answers_request: str,
    acquisition: Acquisition,
    conditions_on_use: str = "",
    permitted_proceedings: Sequence[str] = (),
    confidential: bool = True,
    user_key: OKPKey | None = None,
    on_bytes: ByteProgress | None = None,
    move: bool = False,
) -> Manifest:
    """Copy `source` into a new package at `out`, hashing as it copies, sign the manifest and
    record the `created` and `sealed` custody events.

    With `move`, the files are moved into the package instead of copied (a rename: `out` must
    be on the same filesystem as `source`), then hashed where they now lie: no byte is
    written, so sealing a disk image costs one read of it rather than a read and a durable
    write of a second copy. `source` keeps its folders, emptied; on any failure the files
    are moved back."""
    if not source.is_dir():
        raise PackageMalformed(f"{source} is not a folder")
    if out.exists() and any(out.iterdir()):
        raise PackageMalformed(f"{out} already exists and is not empty: choose a new folder")
    if move and out.resolve().is_relative_to(source.resolve()):
        raise PackageMalformed(f"{out} is inside {source}: a moved seal needs it outside")
    paths = list_files(source)
    files_root = out / FILES_DIR
    files_root.mkdir(parents=True, exist_ok=True)
    if move:
        entries = _move_in(source, files_root, paths, on_bytes)
    else:
        entries = []
        for path in paths:
            target = files_root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with (source / path).open("rb") as reader, target.open("xb") as writer:
                size, digest = hash_copy(reader.read, writer.fileno(), on_bytes)
                os.fsync(writer.fileno())
            entries.append(FileEntry(path=path, size=size, sha256=digest))
    manifest = Manifest(
        package_id=str(uuid.uuid4()),
        producer=producer,
        created_at=utc_now(),
        description=description,
        acquisition=acquisition,
        answers_request=answers_request,
        files=tuple(entries),
        conditions_on_use=conditions_on_use,
        permitted_proceedings=tuple(permitted_proceedings),
        confidential=confidential,
    )
    token = sign_manifest(manifest, node_key)
    (out / MANIFEST_NAME).write_text(token + "\n", encoding="ascii")
    created: dict[str, DetailValue] = {
        "files": len(entries),
        "bytes": manifest.total_size,
        "acquired_at": manifest.acquisition.to_json()["at"],
    }
    sealed: dict[str, DetailValue] = {
        "merkle_root": manifest.merkle_root,
        "manifest_sha256": sha256_hex(token),
    }
    for action, details in ((CustodyAction.CREATED, created), (CustodyAction.SEALED, sealed)):
        record(out, action, producer, node_key, user, user_key, details)
    return manifest


def _move_in(
    source: Path, files_root: Path, paths: Sequence[str], on_bytes: ByteProgress | None
) -> list[FileEntry]:
    """Rename each file from `source` into `files_root`, make the renames and the files' data
    durable, then hash them in their new place; on failure, move back what was moved."""
    moved: list[tuple[Path, Path]] = []
    try:
        for path in paths:
            origin, target = source / path, files_root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                origin.rename(target)
            except OSError as exc:
                if exc.errno == errno.EXDEV:
                    raise PackageMalformed(
                        f"{files_root.parent} is on another filesystem than {source}: a moved"
                        " seal renames the files, so put the package on the same filesystem"
                        " (or copy instead)"
                    ) from None
                raise
            moved.append((origin, target))
        for _, target in moved:  # a no-op for data already on disk, as acquired evidence is
            fsync_file(target)
        for folder in {t.parent for _, t in moved} | {o.parent for o, _ in moved}:
            fsync_dir(folder)
        entries = []
        for path, (_, target) in zip(paths, moved, strict=True):
            size, digest = hash_file(target, on_bytes)
            entries.append(FileEntry(path=path, size=size, sha256=digest))
    except BaseException:
        for origin, target in reversed(moved):
            with contextlib.suppress(OSError):
                target.rename(origin)
        raise
    return entries


def manifest_token(package: Path) -> str:
    path = package / MANIFEST_NAME
    if not path.is_file():
        raise PackageMalformed(
            f"{package.name!r} holds no {MANIFEST_NAME}: it is not an evidence package"
        )
    return path.read_text(encoding="ascii").strip()


def load_manifest(package: Path) -> Manifest:
    """The package's manifest, read without checking its signature."""
    return read_manifest_unverified(manifest_token(package))[1]


def record(
    package: Path,
    action: CustodyAction,
    node: str,
    node_key: OKPKey,
    user: str,
    user_key: OKPKey | None = None,
    details: dict[str, DetailValue] | None = None,
) -> str:
    """Append a signed custody event to the package's chain; returns its token."""
    chain_path = package / CUSTODY_NAME
    token = append_event(
        read_chain(chain_path),
        manifest_token(package),
        action,
        node,
        node_key,
        user,
        user_key=user_key,
        details=details,
    )
    write_event(chain_path, token)
    return token
