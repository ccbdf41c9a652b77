"""Receiving a transfer's chunks, and finishing it: each chunk is authenticated, written at
its place in the file's staging file and synced before it is confirmed; after the last one
every file is checked against the manifest and moved into the blob store, the package
becomes `verified` (or `rejected`) and the sender is told (`evidence-received`)."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.evidence.blobstore import fsync_dir
from comity.evidence.buffers import RECEIVING
from comity.evidence.chunks import TAG_SIZE, ChunkCipher, chunk_count
from comity.evidence.custody import CustodyAction
from comity.evidence.custody_log import record_custody
from comity.evidence.errors import EvidenceError
from comity.evidence.manifest import Manifest, hash_file
from comity.evidence.models import (
    EvidenceChunk,
    EvidencePackage,
    EvidenceTransfer,
    PackageStatus,
    TransferStatus,
    move_package,
    move_transfer,
)
from comity.evidence.offers import cipher_for
from comity.evidence.package import FILES_DIR
from comity.evidence.payloads import RECEIVED_MESSAGE, Received
from comity.evidence.queries import blobs, chain, get_package, manifest_of, system_user
from comity.evidence.schemas import (
    ChunkAck,
    ChunkAnswer,
    ChunkPosition,
    FileProgress,
    Progress,
    TransferProgress,
)
from comity.kit.clock import utc_now
from comity.kit.errors import Conflict, NotFound
from comity.kit.jsonutil import sha256_hex
from comity.messaging import outbox
from comity.nodes.runtime import Node

#
# A chunk is confirmed (its row committed) only once its plaintext is on disk: authenticated
# under the file's key, written at its offset in the file's staging file and synced. Chunks of
# one transfer may arrive in any order and several at a time (the sender keeps a few in
# flight); the heavy part (decrypt, write, sync) runs without holding the database, and only
# the confirmation itself is serialised per transfer (`confirm_chunk`). A transfer is complete
# when every chunk of every file is confirmed; a sender resumes from the first chunk missing
# in each file and skips the few confirmed beyond it (`transfer_status`).

MAX_AHEAD_REPORTED = 256
"""At most this many confirmed chunks beyond a file's first gap are listed in the status; a
sender re-sends any others, and the receiver acknowledges them without change."""


def confirmed_counts(session: Session, transfer: EvidenceTransfer) -> dict[int, int]:
    """How many chunks are confirmed per file (in any order; files with none are left out)."""
    rows = session.execute(
        select(EvidenceChunk.file_no, func.count())
        .where(EvidenceChunk.transfer_id == transfer.id)
        .group_by(EvidenceChunk.file_no)
    ).all()
    return {int(file_no): int(count) for file_no, count in rows}


def confirmed_prefix(
    session: Session, transfer: EvidenceTransfer, file_no: int
) -> tuple[int, list[int]]:
    """Where a sender resumes file `file_no`: the number of chunks confirmed without a gap
    from chunk 0, and the confirmed chunks beyond the first gap (at most
    `MAX_AHEAD_REPORTED`). One aggregate query when there is no gap, as after an in-order
    transfer."""
    count, highest = session.execute(
        select(func.count(), func.max(EvidenceChunk.seq)).where(
            EvidenceChunk.transfer_id == transfer.id, EvidenceChunk.file_no == file_no
        )
    ).one()
    if not count or int(highest) + 1 == int(count):
        return int(count or 0), []
    seqs = session.execute(
        select(EvidenceChunk.seq)
        .where(EvidenceChunk.transfer_id == transfer.id, EvidenceChunk.file_no == file_no)
        .order_by(EvidenceChunk.seq)
    ).scalars()
    prefix = 0
    ahead: list[int] = []
    for seq in seqs:
        if not ahead and seq == prefix:
            prefix += 1
        else:
            ahead.append(int(seq))
            if len(ahead) >= MAX_AHEAD_REPORTED:
                break
    return prefix, ahead


def transfer_status(session: Session, transfer: EvidenceTransfer) -> TransferProgress:
    """What the receiver has confirmed, per file: `confirmed`, the chunks confirmed without a
    gap from chunk 0 (where a sender resumes), and `ahead`, chunks confirmed beyond the first
    gap (a sender need not send them again)."""
    package = get_package(session, transfer.package_id)
    manifest = manifest_of(package)
    done = transfer.status == TransferStatus.VERIFIED
    files = []
    for file_no, entry in enumerate(manifest.files):
        total = chunk_count(entry.size, transfer.chunk_size)
        prefix, ahead = (total, []) if done else confirmed_prefix(session, transfer, file_no)
        files.append(FileProgress(file=file_no, chunks=total, confirmed=prefix, ahead=ahead))
    return TransferProgress(
        transfer_id=transfer.id,
        package_id=package.id,
        status=transfer.status,
        problems=package.problems,
        files=files,
    )


@dataclass
class ChunkResult:
    status: ChunkAnswer
    discard: list[Path]  # staging folders to remove once the transaction has committed


@dataclass
class ChunkPlan:
    """A chunk that passed the checks needing the database and is not confirmed yet: what
    `stage_chunk` needs to authenticate and store it, and `confirm_chunk` to confirm it."""

    transfer_id: str
    file_no: int
    index: int
    total: int
    final: bool
    digest: str
    size: int
    staging: Path
    offset: int
    cipher: ChunkCipher


def staging_folder(node: Node, transfer_id: str) -> Path:
    """Where an incoming transfer's chunks wait: one file per package file."""
    return node.settings.effective_blob_dir / "incoming" / str(uuid.UUID(transfer_id))


def staging_file(node: Node, transfer_id: str, file_no: int) -> Path:
    """The file's authenticated plaintext, each chunk at its offset; it becomes the file's
    blob (renamed, not copied) once the whole file matches the manifest."""
    return staging_folder(node, transfer_id) / f"{file_no}.part"


def prepare_chunk(
    session: Session,
    node: Node,
    transfer: EvidenceTransfer,
    file_no: int,
    index: int,
    body: bytes | bytearray | memoryview,
    digest: str | None = None,
) -> ChunkPlan | ChunkResult:
    """The checks of chunk `index` of file `file_no` that need the database. Returns the
    answer at once for a chunk already confirmed (acknowledged again without change) or a
    finished transfer; otherwise the plan to stage and confirm it. `digest` is the body's
    SHA-256 when the caller already computed it (hashed once)."""
    if transfer.direction != "in":
        raise NotFound(f"transfer {transfer.id} is not coming to this node")
    package = get_package(session, transfer.package_id)
    manifest = manifest_of(package)
    if not 0 <= file_no < len(manifest.files):
        raise NotFound(f"transfer {transfer.id} has no file number {file_no}")
    entry = manifest.files[file_no]
    total = chunk_count(entry.size, transfer.chunk_size)
    if not 0 <= index < total:
        raise EvidenceError(f"file {file_no} has {total} chunks: there is no chunk {index}")
    if digest is None:
        digest = sha256_hex(body)
    if transfer.status != TransferStatus.RECEIVING:
        if transfer.status == TransferStatus.VERIFIED:
            return ChunkResult(transfer_status(session, transfer), [])
        raise Conflict(f"transfer {transfer.id} was refused: {'; '.join(package.problems)}")
    known = _confirmed_digest(session, transfer.id, file_no, index)
    if known is not None:
        if known != digest:
            raise Conflict(f"chunk {index} of file {file_no} was already confirmed differently")
        return ChunkResult(transfer_status(session, transfer), [])
    if len(body) > transfer.chunk_size + TAG_SIZE:
        raise EvidenceError("chunk larger than the transfer's chunk size")
    return ChunkPlan(
        transfer_id=transfer.id,
        file_no=file_no,
        index=index,
        total=total,
        final=index == total - 1,
        digest=digest,
        size=len(body),
        staging=staging_file(node, transfer.id, file_no),
        offset=index * transfer.chunk_size,
        cipher=cipher_for(transfer, file_no, entry.path),
    )


def _confirmed_digest(session: Session, transfer_id: str, file_no: int, index: int) -> str | None:
    return session.execute(
        select(EvidenceChunk.sha256).where(
            EvidenceChunk.transfer_id == transfer_id,
            EvidenceChunk.file_no == file_no,
            EvidenceChunk.seq == index,
        )
    ).scalar_one_or_none()


_durable_staging: set[Path] = set()
_durable_staging_lock = threading.Lock()


def _open_staging(path: Path) -> int:
    """Open a staging file for writing, creating it; the first time this process opens it,
    its directory entry (and its folders') is synced, so a chunk confirmed in it cannot vanish
    with the entry in a crash. Later opens add no directory entry and need no folder sync."""
    with _durable_staging_lock:
        if path in _durable_staging:
            return os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.fsync(descriptor)
            for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
                fsync_dir(folder)
        except BaseException:
            os.close(descriptor)
            raise
        _durable_staging.add(path)
        return descriptor


def discard_staging(folder: Path) -> None:
    """Remove a finished transfer's staging folder (after its transaction committed)."""
    shutil.rmtree(folder, ignore_errors=True)
    with _durable_staging_lock:
        _durable_staging.difference_update({p for p in _durable_staging if p.parent == folder})


def stage_chunk(plan: ChunkPlan, body: bytes | bytearray | memoryview) -> None:
    """Authenticate the chunk under the file's key (refused before anything is written if it
    was altered, moved or wrongly final), write its plaintext at its offset in the staging
    file and sync it (fdatasync: the data and the file's size) before it may be confirmed.
    Needs no database: several chunks of a transfer are staged at once.
    The plaintext goes into a second buffer borrowed from the receiving pool, never over the
    body itself: whether a library may decrypt in place is its own business (cryptography 51
    refuses overlapping buffers), and two pooled buffers per chunk in flight keep memory flat."""
    with RECEIVING.borrow(max(0, len(body) - TAG_SIZE)) as out:
        view = plan.cipher.decrypt_chunk_into(plan.index, body, plan.final, out)
        descriptor = _open_staging(plan.staging)
        try:
            offset = plan.offset
            while view:
                written = os.pwrite(descriptor, view, offset)
                view, offset = view[written:], offset + written
            getattr(os, "fdatasync", os.fsync)(descriptor)
        finally:
            os.close(descriptor)


def confirm_chunk(session: Session, node: Node, plan: ChunkPlan) -> ChunkResult:
    """Confirm a staged chunk, under the transfer's row lock (PostgreSQL; SQLite has one
    writer anyway), so that of two last chunks arriving together exactly one sees the transfer
    complete and finishes it. A chunk confirmed meanwhile by a concurrent request for the same
    chunk is acknowledged without change."""
    transfer = session.get(
        EvidenceTransfer, plan.transfer_id, with_for_update=True, populate_existing=True
    )
    if transfer is None:
        raise NotFound(f"no evidence transfer {plan.transfer_id} on this node")
    folder = staging_folder(node, transfer.id)
    if transfer.status != TransferStatus.RECEIVING:
        # Finished while this chunk was staged: its staging folder may have been recreated.
        if transfer.status == TransferStatus.VERIFIED:
            return ChunkResult(transfer_status(session, transfer), [folder])
        package = get_package(session, transfer.package_id)
        raise Conflict(f"transfer {transfer.id} was refused: {'; '.join(package.problems)}")
    known = _confirmed_digest(session, transfer.id, plan.file_no, plan.index)
    if known is not None:
        if known != plan.digest:
            raise Conflict(
                f"chunk {plan.index} of file {plan.file_no} was already confirmed differently"
            )
        return ChunkResult(transfer_status(session, transfer), [])
    session.add(
        EvidenceChunk(
            transfer_id=transfer.id,
            file_no=plan.file_no,
            seq=plan.index,
            sha256=plan.digest,
            size=plan.size,
        )
    )
    transfer.confirmed_chunks = (transfer.confirmed_chunks or 0) + 1
    session.flush()
    package = get_package(session, transfer.package_id)
    manifest = manifest_of(package)
    expected = total_chunks(manifest, transfer.chunk_size)
    if transfer.confirmed_chunks < expected:
        return ChunkResult(
            chunk_status(transfer, package, plan, transfer.confirmed_chunks, expected), []
        )
    discard: list[Path] = []
    if _complete(session, transfer, manifest):  # counted once, at the end: the real rows
        discard = finish(session, node, transfer, package, manifest)
    return ChunkResult(transfer_status(session, transfer), discard)


def total_chunks(manifest: Manifest, chunk_size: int) -> int:
    """How many chunks a transfer of the manifest's files in `chunk_size` chunks holds."""
    return sum(chunk_count(entry.size, chunk_size) for entry in manifest.files)


def accept_chunk(
    session: Session,
    node: Node,
    transfer: EvidenceTransfer,
    file_no: int,
    index: int,
    body: bytes | bytearray | memoryview,
    digest: str | None = None,
) -> ChunkResult:
    """Prepare, stage and confirm a chunk in one session (for callers that hold one; the
    chunk endpoint runs the three steps with the database released while it stages)."""
    plan = prepare_chunk(session, node, transfer, file_no, index, body, digest)
    if isinstance(plan, ChunkResult):
        return plan
    stage_chunk(plan, body)
    return confirm_chunk(session, node, plan)


def chunk_status(
    transfer: EvidenceTransfer,
    package: EvidencePackage,
    plan: ChunkPlan,
    confirmed: int,
    total: int,
) -> ChunkAck:
    """The short answer to an intermediate chunk: which chunk it was, and how many of the
    transfer's chunks (all files) are confirmed, with no further query."""
    return ChunkAck(
        transfer_id=transfer.id,
        package_id=package.id,
        status=transfer.status,
        problems=package.problems,
        chunk=ChunkPosition(file=plan.file_no, index=plan.index),
        progress=Progress(confirmed=confirmed, chunks=total),
    )


def _complete(session: Session, transfer: EvidenceTransfer, manifest: Manifest) -> bool:
    counts = confirmed_counts(session, transfer)
    return all(
        counts.get(n, 0) == chunk_count(e.size, transfer.chunk_size)
        for n, e in enumerate(manifest.files)
    )


def finish(
    session: Session,
    node: Node,
    transfer: EvidenceTransfer,
    package: EvidencePackage,
    manifest: Manifest,
) -> list[Path]:
    """All chunks are in: check each staged file (every chunk authenticated and synced when it
    was confirmed) against the manifest's size and SHA-256 and move it into the blob store,
    record `received` and — only if everything matches — `verified`, and tell the sender.
    Returns the staging folder to delete once the transaction has committed."""
    if not _complete(session, transfer, manifest):
        return []
    store = blobs(node)
    problems: list[str] = []
    for file_no, entry in enumerate(manifest.files):
        staged = staging_file(node, transfer.id, file_no)
        try:
            size, digest = hash_file(staged)
        except OSError as exc:
            problems.append(f"file {FILES_DIR}/{entry.path}: staged chunks unreadable: {exc}")
            continue
        if size != entry.size or digest != entry.sha256:
            problems.append(f"file {FILES_DIR}/{entry.path}: SHA-256 differs from the manifest")
            continue
        store.adopt(staged, digest)
    user = system_user(node)
    record_custody(
        session,
        node,
        package,
        CustodyAction.RECEIVED,
        user,
        {
            "from": transfer.peer,
            "transfer": transfer.id,
            "files": package.file_count,
            "bytes": package.total_size,
        },
    )
    now = utc_now()
    transfer.completed_at = now
    if problems:
        move_package(package, PackageStatus.REJECTED)
        move_transfer(transfer, TransferStatus.REJECTED)
        package.problems = problems
    else:
        record_custody(
            session,
            node,
            package,
            CustodyAction.VERIFIED,
            user,
            {
                "merkle_root": manifest.merkle_root,
                "files": package.file_count,
                "manifest_sha256": sha256_hex(package.manifest_token),
            },
        )
        move_package(package, PackageStatus.VERIFIED)
        move_transfer(transfer, TransferStatus.VERIFIED)
        package.verified_at = now
    transfer.keys = []
    session.execute(delete(EvidenceChunk).where(EvidenceChunk.transfer_id == transfer.id))
    answer = Received(
        transfer_id=transfer.id,
        package_id=package.id,
        verified=not problems,
        problems=problems,
        custody=chain(session, package.id)[-2 if not problems else -1 :],
    )
    outbox.enqueue(
        session, node, transfer.peer, transfer.conversation_id, RECEIVED_MESSAGE, answer.body()
    )
    audit.record(
        session,
        f"evidence:transfer:{package.status}",
        user,
        transfer.id,
        package=package.id,
        problems=len(problems),
    )
    return [staging_folder(node, transfer.id)]
