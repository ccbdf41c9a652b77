"""A content-addressed store of files on the local filesystem.

A blob lives at `<root>/sha256/<h[0:2]>/<h[2:4]>/<h>` where `h` is the SHA-256 (hex) of its
bytes, so the same content is stored once and a changed byte is a different address. Writes go
to a temporary file in the store, are flushed to disk, then renamed into place: a reader never
sees half a blob, even after a crash.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import queue
import re
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from comity.evidence.errors import BlobCorrupted
from comity.evidence.manifest import READ_SIZE, hash_file
from comity.kit.errors import NotFound

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
ByteProgress = Callable[[int], None]


class BlobStore:
    """Blobs by SHA-256 under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"

    def path_for(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise ValueError(f"not a lowercase SHA-256 hex digest: {digest!r}")
        return self.root / "sha256" / digest[:2] / digest[2:4] / digest

    def has(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    def put_stream(self, source: BinaryIO, on_bytes: ByteProgress | None = None) -> str:
        """Store what `source` yields; returns its SHA-256."""
        self._tmp.mkdir(parents=True, exist_ok=True)
        temporary = self._tmp / f"{secrets.token_hex(16)}.partial"
        try:
            with temporary.open("wb") as sink:
                _, digest = hash_copy(source.read, sink.fileno(), on_bytes)
                os.fsync(sink.fileno())
            final = self.path_for(digest)
            if final.is_file():
                return digest
            final.parent.mkdir(parents=True, exist_ok=True)
            temporary.replace(final)
            final.chmod(0o440)
            fsync_dir(final.parent)
            return digest
        finally:
            temporary.unlink(missing_ok=True)

    def put_file(self, source: Path, on_bytes: ByteProgress | None = None) -> str:
        with source.open("rb") as stream:
            return self.put_stream(stream, on_bytes)

    def put_bytes(self, content: bytes, sha256: str | None = None) -> str:
        """Store `content`; `sha256` is its digest when the caller already computed it from
        these very bytes (so they are hashed once). Same durability as `put_stream`: file
        fsync, rename, folder fsync."""
        if sha256 is None:
            return self.put_stream(io.BytesIO(content))
        final = self.path_for(sha256)
        self._tmp.mkdir(parents=True, exist_ok=True)
        temporary = self._tmp / f"{secrets.token_hex(16)}.partial"
        try:
            with temporary.open("wb") as sink:
                sink.write(content)
                sink.flush()
                os.fsync(sink.fileno())
            if final.is_file():
                return sha256
            final.parent.mkdir(parents=True, exist_ok=True)
            temporary.replace(final)
            final.chmod(0o440)
            fsync_dir(final.parent)
            return sha256
        finally:
            temporary.unlink(missing_ok=True)

    def adopt(self, source: Path, sha256: str) -> str:
        """Move a file whose content is already synced to disk and whose SHA-256 the caller
        just computed from it into the store, by rename (same filesystem as the store): no
        copy. The rename is made durable by syncing both folders. A blob already held is kept
        and `source` is left where it is."""
        final = self.path_for(sha256)
        if final.is_file():
            return sha256
        final.parent.mkdir(parents=True, exist_ok=True)
        source.replace(final)
        final.chmod(0o440)
        fsync_dir(final.parent)
        fsync_dir(source.parent)
        return sha256

    def link_in(self, source: Path, sha256: str, on_bytes: ByteProgress | None = None) -> bool:
        """Store `source` as the blob `sha256` by a hard link (same filesystem: no byte is
        copied), after checking that its content has that SHA-256. The file becomes read-only
        (0440) for every name it has, the package's included: a sealed file is not edited.
        Returns False, having done nothing, where a link cannot be made (another filesystem,
        or one without hard links): the caller copies instead. Refuses a file whose content
        differs (`BlobCorrupted`)."""
        final = self.path_for(sha256)
        self._tmp.mkdir(parents=True, exist_ok=True)
        temporary = self._tmp / f"{secrets.token_hex(16)}.link"
        try:
            os.link(source, temporary)
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                return False
            raise
        try:
            # Hash the linked name: what is checked is what the store keeps.
            _, actual = hash_file(temporary, on_bytes)
            if actual != sha256:
                raise BlobCorrupted(
                    f"{source} does not match its SHA-256 in the manifest: it changed"
                )
            fsync_file(temporary)
            temporary.chmod(0o440)
            if final.is_file():
                return True
            final.parent.mkdir(parents=True, exist_ok=True)
            temporary.replace(final)
            fsync_dir(final.parent)
            return True
        finally:
            temporary.unlink(missing_ok=True)

    def open(self, digest: str, verify: bool = True) -> io.BufferedReader:
        """Open a blob for reading; with `verify`, hash it fully first and refuse it if altered."""
        path = self.path_for(digest)
        try:
            stream = path.open("rb")
        except FileNotFoundError:
            raise NotFound(f"no blob {digest} in the store") from None
        if verify:
            try:
                _, actual = hash_file(path)
            except BaseException:
                stream.close()
                raise
            if actual != digest:
                stream.close()
                raise BlobCorrupted(f"blob {digest} no longer matches its SHA-256: it was altered")
        return stream

    def verify(self, digest: str) -> bool:
        try:
            self.open(digest, verify=True).close()
        except BlobCorrupted:
            return False
        return True

    def delete(self, digest: str) -> None:
        self.path_for(digest).unlink(missing_ok=True)


def fsync_file(path: Path) -> None:
    """Make a file's data durable without writing it (a no-op for data already on disk)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


SYNC_EVERY = 64 * 1024 * 1024
"""`hash_copy` syncs what it wrote every this many bytes, so the disk writes while the copy
goes on and the final fsync has little left to do."""


def hash_copy(
    read: Callable[[int], bytes], fd: int, on_bytes: ByteProgress | None = None
) -> tuple[int, str]:
    """Copy what `read` yields to the file descriptor `fd`, returning its size and SHA-256.

    Reading and hashing (this thread) overlap writing (a second thread), and the writer syncs
    every `SYNC_EVERY` bytes so that the disk's work overlaps the copy instead of all coming at
    the caller's final fsync: a copy costs about the longer of hashing and the disk, not their
    sum. hashlib and os.write release the GIL for large blocks. At most three blocks are held.
    The caller still fsyncs `fd` before relying on the copy."""
    blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def write_all() -> None:
        unsynced = 0
        try:
            while (block := blocks.get()) is not None:
                view = memoryview(block)
                while view:
                    view = view[os.write(fd, view) :]
                unsynced += len(block)
                if unsynced >= SYNC_EVERY:
                    getattr(os, "fdatasync", os.fsync)(fd)
                    unsynced = 0
        except BaseException as exc:
            failure.append(exc)
            while blocks.get() is not None:  # let the reader finish; it raises below
                pass

    writer = threading.Thread(target=write_all, name="hash-copy", daemon=True)
    writer.start()
    digest = hashlib.sha256()
    size = 0
    try:
        while not failure and (block := read(READ_SIZE)):
            blocks.put(block)
            digest.update(block)
            size += len(block)
            if on_bytes is not None:
                on_bytes(len(block))
    finally:
        blocks.put(None)
        writer.join()
    if failure:
        raise failure[0]
    return size, digest.hexdigest()
