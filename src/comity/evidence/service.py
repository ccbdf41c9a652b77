"""Evidence on a node: import a sealed package, offer it to a peer, receive its chunks, verify
it against the manifest, and every later handling under the supplier's conditions — opening
after acknowledging them, consent before passing it on, notice of exculpatory disclosure, and
use reports on request. Each handling is a signed custody event in this node's chain.

Services flush; the edge commits. Messages to peers go through the outbox (signed, encrypted,
receipted); only the bulk ciphertext travels apart, over the chunk endpoint (`transfer.py`).
"""

from __future__ import annotations

import base64
import functools
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.directory import service as directory_service
from comity.evidence.blobstore import BlobStore, fsync_dir
from comity.evidence.buffers import RECEIVING
from comity.evidence.chunks import (
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    TAG_SIZE,
    ChunkCipher,
    StreamHeader,
    chunk_count,
    new_key,
)
from comity.evidence.custody import (
    CustodyAction,
    CustodyEvent,
    DetailValue,
    append_event,
    custody_line,
    read_chain,
    verify_chain,
)
from comity.evidence.errors import BlobCorrupted, EvidenceError
from comity.evidence.manifest import ByteProgress, Manifest, hash_file, read_manifest_unverified
from comity.evidence.models import (
    CustodyRecord,
    EvidenceChunk,
    EvidenceConsent,
    EvidencePackage,
    EvidenceTransfer,
    EvidenceUse,
    EvidenceUseReport,
)
from comity.evidence.package import CUSTODY_NAME, FILES_DIR, MANIFEST_NAME, manifest_token
from comity.evidence.verify import check_manifest, verify_package
from comity.kit.clock import utc_now
from comity.kit.errors import Conflict, NotFound
from comity.kit.jsonutil import sha256_hex
from comity.messaging import outbox
from comity.messaging.inbox import MessageHandler
from comity.nodes.runtime import Node
from comity.protocol.envelope import OpenedEnvelope, format_time
from comity.protocol.errors import MalformedEnvelope, WrongParty
from comity.protocol.signed import read_unverified

OFFER_MESSAGE = "evidence-offer"
RECEIVED_MESSAGE = "evidence-received"
CONSENT_REQUEST_MESSAGE = "evidence-consent-request"
CONSENT_MESSAGE = "evidence-consent"
NOTICE_MESSAGE = "evidence-notice"
USE_REPORT_REQUEST_MESSAGE = "evidence-use-report-request"
USE_REPORT_MESSAGE = "evidence-use-report"


class NotVerified(EvidenceError):
    status_code = 409
    code = "evidence_not_verified"


class ConditionsNotAcknowledged(EvidenceError):
    status_code = 428
    code = "evidence_conditions_not_acknowledged"


class UseNotPermitted(EvidenceError):
    status_code = 403
    code = "evidence_use_not_permitted"


class ConsentRequired(EvidenceError):
    status_code = 403
    code = "evidence_consent_required"


class AlreadySent(EvidenceError):
    """The package already went to that party: a second transfer would duplicate the
    evidence in its store and in the chain of custody."""

    status_code = 409
    code = "evidence_already_sent"


def blobs(node: Node) -> BlobStore:
    return BlobStore(node.settings.effective_blob_dir)


def qualified(node: Node, user: str) -> str:
    """A user as custody events name them: `<participant>:<login>`."""
    return user if ":" in user else f"{node.participant_id}:{user}"


def system_user(node: Node) -> str:
    return f"{node.participant_id}:system"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def file_id(transfer_id: str, path: str) -> str:
    """What binds a chunk to its transfer and file (the chunk cipher's `file_id`)."""
    return f"{transfer_id}/{path}"


def cipher_for(transfer: EvidenceTransfer, file_no: int, path: str) -> ChunkCipher:
    entry = transfer.keys[file_no]
    header = StreamHeader.from_bytes(_unb64(str(entry["header"])))
    return ChunkCipher(_unb64(str(entry["key"])), file_id(transfer.id, path), header)


# ---------------------------------------------------------------------------- look-ups


def get_package(session: Session, package_id: str) -> EvidencePackage:
    package = session.get(EvidencePackage, package_id)
    if package is None:
        raise NotFound(f"no evidence package {package_id} on this node", field="package_id")
    return package


def get_transfer(session: Session, transfer_id: str) -> EvidenceTransfer:
    transfer = session.get(EvidenceTransfer, transfer_id)
    if transfer is None:
        raise NotFound(f"no evidence transfer {transfer_id} on this node", field="transfer_id")
    return transfer


def manifest_of(package: EvidencePackage) -> Manifest:
    return _parsed_manifest(package.manifest_token)


@functools.lru_cache(maxsize=16)
def _parsed_manifest(token: str) -> Manifest:
    """A manifest token parsed once (the chunk endpoint needs it per chunk); `Manifest` is
    frozen, and a token is immutable, so the cached value cannot go stale."""
    return read_manifest_unverified(token)[1]


def chain(session: Session, package_id: str) -> list[str]:
    """This node's custody chain for a package, as event tokens in order."""
    return list(
        session.execute(
            select(CustodyRecord.token)
            .where(CustodyRecord.package_id == package_id)
            .order_by(CustodyRecord.seq)
        ).scalars()
    )


def list_packages(session: Session, case_id: str | None = None) -> list[EvidencePackage]:
    query = select(EvidencePackage).order_by(EvidencePackage.created_at)
    if case_id:
        query = query.where(EvidencePackage.case_id == case_id)
    return list(session.execute(query).scalars())


def transfers_of(session: Session, package_id: str) -> list[EvidenceTransfer]:
    return list(
        session.execute(
            select(EvidenceTransfer)
            .where(EvidenceTransfer.package_id == package_id)
            .order_by(EvidenceTransfer.created_at)
        ).scalars()
    )


def sent_to(session: Session, package_id: str, to: str) -> EvidenceTransfer | None:
    """The outgoing transfer of the package to `to`, if one is under way or done. A transfer
    the recipient refused (its check failed) does not count: the package may be sent again."""
    for row in transfers_of(session, package_id):
        if row.direction == "out" and row.peer == to and row.status != "rejected":
            return row
    return None


def uses_of(session: Session, package_id: str) -> list[EvidenceUse]:
    return list(
        session.execute(
            select(EvidenceUse).where(EvidenceUse.package_id == package_id).order_by(EvidenceUse.id)
        ).scalars()
    )


def consents_of(session: Session, package_id: str) -> list[EvidenceConsent]:
    return list(
        session.execute(
            select(EvidenceConsent)
            .where(EvidenceConsent.package_id == package_id)
            .order_by(EvidenceConsent.requested_at)
        ).scalars()
    )


def use_reports_of(session: Session, package_id: str) -> list[EvidenceUseReport]:
    return list(
        session.execute(
            select(EvidenceUseReport)
            .where(EvidenceUseReport.package_id == package_id)
            .order_by(EvidenceUseReport.requested_at)
        ).scalars()
    )


# ---------------------------------------------------------------------------- custody


def _store_event(session: Session, package_id: str, token: str) -> CustodyEvent:
    event = CustodyEvent.from_json(read_unverified(token)[1])
    session.add(
        CustodyRecord(
            package_id=package_id,
            seq=event.seq,
            action=event.action.value,
            node=event.node,
            user=event.user,
            at=event.at,
            token=token,
        )
    )
    return event


def record_custody(
    session: Session,
    node: Node,
    package: EvidencePackage,
    action: CustodyAction,
    user: str,
    details: dict[str, DetailValue] | None = None,
) -> str:
    """Sign the next custody event of this node's chain for `package` and store it."""
    tokens = chain(session, package.id)
    token = append_event(
        tokens,
        package.manifest_token,
        action,
        node.participant_id,
        node.keyring.signing_key(),
        qualified(node, user),
        details=details,
    )
    _store_event(session, package.id, token)
    session.flush()
    audit.record(
        session,
        f"evidence:custody:{action.value}",
        qualified(node, user),
        package.id,
        seq=len(tokens) + 1,
    )
    return token


def _use(
    session: Session,
    package: EvidencePackage,
    use: str,
    user: str,
    proceeding: str = "",
    recipient: str = "",
    note: str = "",
) -> EvidenceUse:
    row = EvidenceUse(
        package_id=package.id,
        use=use,
        user=user,
        proceeding=proceeding,
        recipient=recipient,
        note=note[:2000],
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------------------- import and offer


def import_package(
    session: Session,
    node: Node,
    folder: Path,
    user: str,
    on_bytes: ByteProgress | None = None,
    link: bool = False,
) -> EvidencePackage:
    """Take a package sealed by this node (`comity evidence seal`) into the node's store, after
    verifying it completely. Idempotent for the same package.

    With `link`, each file enters the store as a hard link where the folder is on the store's
    filesystem: no second copy of a large image is written, and the package's files become
    read-only. Elsewhere it is copied as without `link`."""
    directory = directory_service.current(session)
    report = verify_package(folder, directory)
    if not report.ok:
        raise EvidenceError(
            # The folder by its name: the node's own paths are never shown to a caller.
            f"the package {folder.name!r} does not verify: " + "; ".join(report.problems)
        )
    token = manifest_token(folder)
    manifest = read_manifest_unverified(token)[1]
    if manifest.producer != node.participant_id:
        raise EvidenceError(
            f"package {manifest.package_id} was sealed by {manifest.producer}: this node only"
            " imports its own packages; packages of others arrive by transfer"
        )
    existing = session.get(EvidencePackage, manifest.package_id)
    if existing is not None:
        if existing.manifest_token == token:
            return existing
        raise Conflict(f"another package with id {manifest.package_id} is already held")
    store = blobs(node)
    for entry in manifest.files:
        path = folder / FILES_DIR / entry.path
        if link:
            try:
                if store.link_in(path, entry.sha256, on_bytes):
                    continue
            except BlobCorrupted:
                raise EvidenceError(
                    f"file {entry.path} changed while it was being imported"
                ) from None
        digest = store.put_file(path, on_bytes)
        if digest != entry.sha256:
            raise EvidenceError(f"file {entry.path} changed while it was being imported")
    package = EvidencePackage(
        id=manifest.package_id,
        case_id=manifest.answers_request,
        producer=manifest.producer,
        supplier="",
        status="verified",
        manifest_token=token,
        description=manifest.description,
        conditions=manifest.conditions_on_use,
        permitted_proceedings=list(manifest.permitted_proceedings),
        confidential=manifest.confidential,
        file_count=len(manifest.files),
        total_size=manifest.total_size,
        verified_at=utc_now(),
    )
    session.add(package)
    for event_token in read_chain(folder / CUSTODY_NAME):
        _store_event(session, package.id, event_token)
    session.flush()
    audit.record(
        session,
        "evidence:package:imported",
        qualified(node, user),
        package.id,
        files=package.file_count,
        bytes=package.total_size,
    )
    return package


def granted_consent(session: Session, package_id: str, recipient: str) -> EvidenceConsent | None:
    return session.execute(
        select(EvidenceConsent)
        .where(
            EvidenceConsent.package_id == package_id,
            EvidenceConsent.recipient == recipient,
            EvidenceConsent.status == "granted",
        )
        .limit(1)
    ).scalar_one_or_none()


def offer(session: Session, node: Node, package_id: str, to: str, user: str) -> EvidenceTransfer:
    """Offer a verified package to `to`: fresh content keys per file travel in a signed and
    encrypted `evidence-offer` envelope; the chunks follow over the transfer endpoint (`push`).
    Passing on a package received from another party needs that party's consent."""
    package = get_package(session, package_id)
    if package.status != "verified":
        raise NotVerified(f"package {package.id} is not verified: it cannot be sent on")
    if to == node.participant_id:
        raise EvidenceError("a package cannot be sent to this node itself", field="to")
    earlier = sent_to(session, package.id, to)
    if earlier is not None:
        raise AlreadySent(
            f"package {package.id} was already sent to {to} (transfer {earlier.id}): it is not"
            " sent twice",
            field="package",
        )
    directory = directory_service.current(session)
    directory_service.endpoint(directory, to)
    onward = bool(package.supplier) and to != package.supplier
    consent = None
    if onward:
        consent = granted_consent(session, package.id, to)
        if consent is None:
            raise ConsentRequired(
                f"package {package.id} was supplied by {package.supplier}: passing it on to {to}"
                " needs the supplier's consent (ask for it first)"
            )
    manifest = manifest_of(package)
    chunk_size = node.settings.evidence_chunk_size
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise EvidenceError(f"evidence_chunk_size must be {MIN_CHUNK_SIZE}..{MAX_CHUNK_SIZE}")
    transfer = EvidenceTransfer(
        id=str(uuid.uuid4()),
        package_id=package.id,
        direction="out",
        peer=to,
        conversation_id=consent.id if consent is not None else package.case_id,
        status="sending",
        chunk_size=chunk_size,
        keys=[
            {"key": _b64(new_key()), "header": _b64(StreamHeader.new(chunk_size).to_bytes())}
            for _ in manifest.files
        ],
        created_by=qualified(node, user),
    )
    session.add(transfer)
    session.flush()
    returning = bool(package.supplier) and to == package.supplier
    action = CustodyAction.RETURNED if returning else CustodyAction.SENT
    record_custody(
        session,
        node,
        package,
        action,
        user,
        {
            "to": to,
            "transfer": transfer.id,
            "files": package.file_count,
            "bytes": package.total_size,
            "consent": consent.id if consent is not None else None,
        },
    )
    if onward:
        _use(
            session,
            package,
            "onward-transfer",
            qualified(node, user),
            recipient=to,
            note=f"consent {consent.id if consent else ''}",
        )
    outbox.enqueue(
        session,
        node,
        to,
        transfer.conversation_id,
        OFFER_MESSAGE,
        {
            "transfer_id": transfer.id,
            "package_id": package.id,
            "manifest": package.manifest_token,
            "custody": chain(session, package.id),
            "chunk_size": chunk_size,
            "files": [
                {"path": entry.path, **keys}
                for entry, keys in zip(manifest.files, transfer.keys, strict=True)
            ],
        },
    )
    audit.record(
        session,
        "evidence:transfer:offered",
        qualified(node, user),
        transfer.id,
        package=package.id,
        to=to,
    )
    return transfer


def receive_offer(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Inbox handler: record an offered package as `receiving`, after checking its manifest
    signature and the custody chain it arrives with. Nothing can be opened yet."""
    payload = opened.payload
    sender = opened.header.sender
    try:
        transfer_id = str(uuid.UUID(str(payload["transfer_id"])))
        token = str(payload["manifest"])
        tokens = [str(t) for t in payload["custody"]]
        chunk_size = int(payload["chunk_size"])
        files = [dict(f) for f in payload["files"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedEnvelope(f"evidence offer lacks or garbles {exc}") from exc
    directory = directory_service.current(session)
    manifest, problems = check_manifest(token, directory)
    if manifest is None or problems:
        raise EvidenceError("evidence offer refused: " + "; ".join(problems))
    if str(payload.get("package_id")) != manifest.package_id:
        raise EvidenceError("evidence offer refused: package id differs from the manifest's")
    chain_problems, events = verify_chain(tokens, token, directory)
    if chain_problems:
        raise EvidenceError("evidence offer refused: " + "; ".join(chain_problems))
    last = events[-1]
    if (
        last.action not in (CustodyAction.SENT, CustodyAction.RETURNED)
        or last.node != sender
        or last.details.get("to") != node.participant_id
        or last.details.get("transfer") != transfer_id
    ):
        raise EvidenceError(
            "evidence offer refused: its custody chain does not end with the sending of this"
            f" transfer by {sender} to {node.participant_id}"
        )
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise EvidenceError(f"evidence offer refused: unusable chunk size {chunk_size}")
    if [f.get("path") for f in files] != [e.path for e in manifest.files]:
        raise EvidenceError("evidence offer refused: its file keys do not match the manifest")
    for entry in files:
        StreamHeader.from_bytes(_unb64(str(entry["header"])))
        if len(_unb64(str(entry["key"]))) != 32:
            raise EvidenceError("evidence offer refused: a file key is not 32 bytes")
    if session.get(EvidencePackage, manifest.package_id) is not None:
        raise Conflict(f"this node already holds evidence package {manifest.package_id}")
    session.add(
        EvidencePackage(
            id=manifest.package_id,
            case_id=opened.header.conversation_id,
            producer=manifest.producer,
            supplier=sender,
            status="receiving",
            manifest_token=token,
            description=manifest.description,
            conditions=manifest.conditions_on_use,
            permitted_proceedings=list(manifest.permitted_proceedings),
            confidential=manifest.confidential,
            file_count=len(manifest.files),
            total_size=manifest.total_size,
        )
    )
    session.add(
        EvidenceTransfer(
            id=transfer_id,
            package_id=manifest.package_id,
            direction="in",
            peer=sender,
            conversation_id=opened.header.conversation_id,
            status="receiving",
            chunk_size=chunk_size,
            keys=[{"key": f["key"], "header": f["header"]} for f in files],
            created_by=sender,
        )
    )
    for event_token in tokens:
        _store_event(session, manifest.package_id, event_token)
    session.flush()
    audit.record(
        session,
        "evidence:transfer:offer-received",
        sender,
        transfer_id,
        package=manifest.package_id,
    )


# ---------------------------------------------------------------------------- receiving chunks
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


def transfer_status(session: Session, transfer: EvidenceTransfer) -> dict[str, Any]:
    """What the receiver has confirmed, per file: `confirmed`, the chunks confirmed without a
    gap from chunk 0 (where a sender resumes), and `ahead`, chunks confirmed beyond the first
    gap (a sender need not send them again)."""
    package = get_package(session, transfer.package_id)
    manifest = manifest_of(package)
    done = transfer.status in ("verified",)
    files = []
    for file_no, entry in enumerate(manifest.files):
        total = chunk_count(entry.size, transfer.chunk_size)
        prefix, ahead = (total, []) if done else confirmed_prefix(session, transfer, file_no)
        files.append({"file": file_no, "chunks": total, "confirmed": prefix, "ahead": ahead})
    return {
        "transfer_id": transfer.id,
        "package_id": package.id,
        "status": transfer.status,
        "problems": package.problems,
        "files": files,
    }


@dataclass
class ChunkResult:
    status: dict[str, Any]
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
    if transfer.status != "receiving":
        if transfer.status == "verified":
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
    if transfer.status != "receiving":
        # Finished while this chunk was staged: its staging folder may have been recreated.
        if transfer.status == "verified":
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
) -> dict[str, Any]:
    """The short answer to an intermediate chunk: which chunk it was, and how many of the
    transfer's chunks (all files) are confirmed, with no further query."""
    return {
        "transfer_id": transfer.id,
        "package_id": package.id,
        "status": transfer.status,
        "problems": package.problems,
        "chunk": {"file": plan.file_no, "index": plan.index},
        "progress": {"confirmed": confirmed, "chunks": total},
    }


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
        package.status = transfer.status = "rejected"
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
        package.status = transfer.status = "verified"
        package.verified_at = now
    transfer.keys = []
    session.execute(delete(EvidenceChunk).where(EvidenceChunk.transfer_id == transfer.id))
    outbox.enqueue(
        session,
        node,
        transfer.peer,
        transfer.conversation_id,
        RECEIVED_MESSAGE,
        {
            "transfer_id": transfer.id,
            "package_id": package.id,
            "verified": not problems,
            "problems": problems,
            "custody": chain(session, package.id)[-2 if not problems else -1 :],
        },
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


def receive_received(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Inbox handler: the receiver says whether the package verified on its side."""
    payload = opened.payload
    transfer = session.get(EvidenceTransfer, str(payload.get("transfer_id")))
    if transfer is None or transfer.direction != "out":
        raise NotFound(f"no outgoing transfer {payload.get('transfer_id')} on this node")
    if transfer.peer != opened.header.sender:
        raise WrongParty(f"{opened.header.sender} was not the receiver of this transfer")
    transfer.status = "verified" if payload.get("verified") is True else "rejected"
    transfer.completed_at = utc_now()
    audit.record(
        session,
        f"evidence:transfer:peer-{transfer.status}",
        opened.header.sender,
        transfer.id,
        package=transfer.package_id,
    )


# ---------------------------------------------------------------------------- use


def open_package(
    session: Session,
    node: Node,
    package_id: str,
    user: str,
    acknowledge_conditions: bool,
    proceeding: str = "",
    details: dict[str, DetailValue] | None = None,
) -> EvidencePackage:
    """Open a verified package: for a package supplied by another party, only after the user
    acknowledges its conditions, and only for a permitted proceeding. Recorded as `opened`."""
    package = get_package(session, package_id)
    if package.status != "verified":
        raise NotVerified(
            f"package {package.id} is {package.status}: nobody may open it before it is verified"
            " against its manifest"
        )
    if package.supplier:
        if not acknowledge_conditions:
            raise ConditionsNotAcknowledged(
                f"package {package.id} was supplied by {package.supplier} under conditions;"
                " acknowledge them to open it. Conditions: "
                f"{package.conditions or 'none stated'}; permitted proceedings: "
                f"{', '.join(package.permitted_proceedings) or 'none named'}",
                conditions=package.conditions,
                permitted_proceedings=package.permitted_proceedings,
            )
        if package.permitted_proceedings and proceeding not in package.permitted_proceedings:
            raise UseNotPermitted(
                f"package {package.id} may only be used in: "
                f"{'; '.join(package.permitted_proceedings)} (name one as the proceeding)",
                field="proceeding",
            )
    record_custody(
        session,
        node,
        package,
        CustodyAction.OPENED,
        user,
        {
            "proceeding": proceeding[:500],
            "conditions_acknowledged": acknowledge_conditions,
            "conditions_sha256": sha256_hex(package.conditions.encode("utf-8")),
            **(details or {}),
        },
    )
    _use(session, package, "opened", qualified(node, user), proceeding=proceeding)
    return package


def require_opened(session: Session, node: Node, package: EvidencePackage, user: str) -> None:
    """Refuse access to a package's files unless it is verified and `user` opened it (which
    means acknowledging the supplier's conditions and naming a permitted proceeding)."""
    if package.status != "verified":
        raise NotVerified(f"package {package.id} is not verified")
    opened = session.execute(
        select(EvidenceUse.id).where(
            EvidenceUse.package_id == package.id,
            EvidenceUse.use == "opened",
            EvidenceUse.user == qualified(node, user),
        )
    ).first()
    if opened is None:
        raise ConditionsNotAcknowledged(
            f"open package {package.id} first (acknowledging its conditions)"
        )


def read_file(
    session: Session, node: Node, package_id: str, path: str, user: str
) -> tuple[BinaryIO, int]:
    """A verified file's content for a user who has opened the package (blob re-hashed)."""
    package = get_package(session, package_id)
    require_opened(session, node, package, user)
    entry = next((e for e in manifest_of(package).files if e.path == path), None)
    if entry is None:
        raise NotFound(f"package {package.id} has no file {path}", field="path")
    return blobs(node).open(entry.sha256, verify=True), entry.size


def export_package(
    session: Session, node: Node, package_id: str, out: Path, on_bytes: ByteProgress | None = None
) -> Path:
    """Write the package as a folder (manifest, this node's custody chain, files) that
    `comity evidence verify` checks offline. Call after `open_package`."""
    package = get_package(session, package_id)
    if package.status != "verified":
        raise NotVerified(f"package {package.id} is not verified")
    if out.exists() and any(out.iterdir()):
        raise EvidenceError(f"{out} already exists and is not empty: choose a new folder")
    store = blobs(node)
    for entry in manifest_of(package).files:
        target = out / FILES_DIR / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with store.open(entry.sha256, verify=True) as source, target.open("xb") as sink:
            while block := source.read(4 * 1024 * 1024):
                sink.write(block)
                if on_bytes is not None:
                    on_bytes(len(block))
    (out / MANIFEST_NAME).write_text(package.manifest_token + "\n", encoding="ascii")
    lines = "".join(custody_line(t) + "\n" for t in chain(session, package.id))
    (out / CUSTODY_NAME).write_text(lines, encoding="ascii")
    return out


def request_consent(
    session: Session, node: Node, package_id: str, user: str, recipient: str, purpose: str
) -> EvidenceConsent:
    """Ask the supplier for consent to pass the package on to `recipient`."""
    package = get_package(session, package_id)
    if not package.supplier:
        raise EvidenceError(f"package {package.id} is this node's own: no consent is needed")
    consent = EvidenceConsent(
        id=str(uuid.uuid4()),
        package_id=package.id,
        holder=node.participant_id,
        supplier=package.supplier,
        recipient=recipient,
        purpose=purpose,
        status="requested",
        requested_by=qualified(node, user),
    )
    session.add(consent)
    session.flush()
    outbox.enqueue(
        session,
        node,
        package.supplier,
        package.case_id,
        CONSENT_REQUEST_MESSAGE,
        {
            "consent_id": consent.id,
            "package_id": package.id,
            "recipient": recipient,
            "purpose": purpose,
            "requested_by": consent.requested_by,
        },
    )
    audit.record(
        session,
        "evidence:consent:requested",
        consent.requested_by,
        consent.id,
        package=package.id,
        recipient=recipient,
    )
    return consent


def receive_consent_request(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    payload = opened.payload
    package_id = str(payload.get("package_id"))
    sent = session.execute(
        select(EvidenceTransfer.id).where(
            EvidenceTransfer.package_id == package_id,
            EvidenceTransfer.direction == "out",
            EvidenceTransfer.peer == opened.header.sender,
        )
    ).first()
    if sent is None:
        raise WrongParty(f"this node did not supply package {package_id} to {opened.header.sender}")
    consent = EvidenceConsent(
        id=str(uuid.UUID(str(payload.get("consent_id")))),
        package_id=package_id,
        holder=opened.header.sender,
        supplier=node.participant_id,
        recipient=str(payload.get("recipient", ""))[:200],
        purpose=str(payload.get("purpose", ""))[:5000],
        status="requested",
        requested_by=str(payload.get("requested_by", ""))[:200],
    )
    session.add(consent)
    session.flush()
    audit.record(
        session, "evidence:consent:asked", opened.header.sender, consent.id, package=package_id
    )


def decide_consent(
    session: Session, node: Node, consent_id: str, user: str, granted: bool, conditions: str = ""
) -> EvidenceConsent:
    """The supplier grants or refuses a consent asked of it; the holder is told."""
    consent = session.get(EvidenceConsent, consent_id)
    if consent is None or consent.supplier != node.participant_id:
        raise NotFound(f"no consent request {consent_id} asked of this node")
    if consent.status != "requested":
        raise Conflict(f"consent {consent_id} was already {consent.status}")
    consent.status = "granted" if granted else "refused"
    consent.conditions = conditions
    consent.decided_by = qualified(node, user)
    consent.decided_at = utc_now()
    package = session.get(EvidencePackage, consent.package_id)
    conversation = package.case_id if package is not None else consent.package_id
    transfer = session.execute(
        select(EvidenceTransfer)
        .where(
            EvidenceTransfer.package_id == consent.package_id,
            EvidenceTransfer.direction == "out",
            EvidenceTransfer.peer == consent.holder,
        )
        .limit(1)
    ).scalar_one_or_none()
    if transfer is not None:
        conversation = transfer.conversation_id
    outbox.enqueue(
        session,
        node,
        consent.holder,
        conversation,
        CONSENT_MESSAGE,
        {
            "consent_id": consent.id,
            "package_id": consent.package_id,
            "granted": granted,
            "conditions": conditions,
            "decided_by": consent.decided_by,
        },
    )
    audit.record(
        session,
        f"evidence:consent:{consent.status}",
        consent.decided_by,
        consent.id,
        package=consent.package_id,
    )
    return consent


def receive_consent(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    payload = opened.payload
    consent = session.get(EvidenceConsent, str(payload.get("consent_id")))
    if consent is None or consent.holder != node.participant_id:
        raise NotFound(f"no consent request {payload.get('consent_id')} from this node")
    if consent.supplier != opened.header.sender:
        raise WrongParty(f"{opened.header.sender} is not the supplier asked for this consent")
    consent.status = "granted" if payload.get("granted") is True else "refused"
    consent.conditions = str(payload.get("conditions", ""))[:5000]
    consent.decided_by = str(payload.get("decided_by", ""))[:200]
    consent.decided_at = utc_now()
    audit.record(
        session,
        f"evidence:consent:answer-{consent.status}",
        opened.header.sender,
        consent.id,
        package=consent.package_id,
    )


def disclose(
    session: Session,
    node: Node,
    package_id: str,
    user: str,
    recipient: str,
    proceeding: str = "",
    exculpatory: bool = False,
    notice: str = "prior",
    note: str = "",
) -> EvidenceUse:
    """Record a disclosure of the package to `recipient`. Material supplied by another party:
    exculpatory disclosure needs notice to the supplier (sent here; `prior`, or `after` where
    prior notice was impossible); any other disclosure needs the supplier's consent."""
    package = get_package(session, package_id)
    if package.status != "verified":
        raise NotVerified(f"package {package.id} is not verified")
    if notice not in ("prior", "after"):
        raise EvidenceError("notice is 'prior' or 'after'", field="notice")
    if package.supplier:
        if exculpatory:
            outbox.enqueue(
                session,
                node,
                package.supplier,
                package.case_id,
                NOTICE_MESSAGE,
                {
                    "package_id": package.id,
                    "kind": "exculpatory-disclosure",
                    "recipient": recipient,
                    "timing": notice,
                    "proceeding": proceeding,
                    "note": note[:2000],
                    "by": qualified(node, user),
                },
            )
        elif granted_consent(session, package.id, recipient) is None:
            raise ConsentRequired(
                f"disclosing package {package.id} to {recipient} needs the consent of"
                f" {package.supplier}, unless it is exculpatory (then with notice)"
            )
    record_custody(
        session,
        node,
        package,
        CustodyAction.DISCLOSED,
        user,
        {
            "to": recipient[:200],
            "exculpatory": exculpatory,
            "notice": notice if exculpatory and package.supplier else None,
        },
    )
    return _use(
        session,
        package,
        "disclosed-exculpatory" if exculpatory else "disclosed",
        qualified(node, user),
        proceeding,
        recipient,
        note,
    )


def receive_notice(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    payload = opened.payload
    audit.record(
        session,
        "evidence:notice:received",
        opened.header.sender,
        str(payload.get("package_id", ""))[:200],
        kind=str(payload.get("kind", ""))[:40],
        timing=str(payload.get("timing", ""))[:10],
        recipient=str(payload.get("recipient", ""))[:200],
    )


def request_use_report(
    session: Session, node: Node, package_id: str, user: str
) -> list[EvidenceUseReport]:
    """Ask every party this node supplied the package to for a report of its uses."""
    holders = sorted({t.peer for t in transfers_of(session, package_id) if t.direction == "out"})
    if not holders:
        raise NotFound(f"this node supplied package {package_id} to nobody")
    reports = []
    for holder in holders:
        transfer = next(t for t in transfers_of(session, package_id) if t.peer == holder)
        report = EvidenceUseReport(
            id=str(uuid.uuid4()),
            package_id=package_id,
            holder=holder,
            requested_by=qualified(node, user),
        )
        session.add(report)
        session.flush()
        outbox.enqueue(
            session,
            node,
            holder,
            transfer.conversation_id,
            USE_REPORT_REQUEST_MESSAGE,
            {"report_id": report.id, "package_id": package_id},
        )
        reports.append(report)
    audit.record(session, "evidence:use-report:requested", qualified(node, user), package_id)
    return reports


def use_view(use: EvidenceUse) -> dict[str, Any]:
    return {
        "use": use.use,
        "user": use.user,
        "proceeding": use.proceeding,
        "recipient": use.recipient,
        "note": use.note,
        "at": format_time(use.at),
    }


def receive_use_report_request(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Inbox handler: answer the supplier with every recorded use of its package."""
    payload = opened.payload
    package = session.get(EvidencePackage, str(payload.get("package_id")))
    if package is None or package.supplier != opened.header.sender:
        raise WrongParty(
            f"{opened.header.sender} did not supply package {payload.get('package_id')}"
        )
    outbox.enqueue(
        session,
        node,
        opened.header.sender,
        opened.header.conversation_id,
        USE_REPORT_MESSAGE,
        {
            "report_id": str(payload.get("report_id")),
            "package_id": package.id,
            "uses": [use_view(u) for u in uses_of(session, package.id)],
        },
    )
    audit.record(session, "evidence:use-report:sent", node.participant_id, package.id)


def receive_use_report(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    payload = opened.payload
    report = session.get(EvidenceUseReport, str(payload.get("report_id")))
    if report is None or report.holder != opened.header.sender:
        raise NotFound(f"no use report {payload.get('report_id')} asked of {opened.header.sender}")
    uses = payload.get("uses")
    if not isinstance(uses, list):
        raise MalformedEnvelope("a use report lists the uses")
    report.uses = uses
    report.received_at = utc_now()
    audit.record(
        session,
        "evidence:use-report:received",
        opened.header.sender,
        report.id,
        package=report.package_id,
        uses=len(uses),
    )


def message_handlers() -> dict[str, MessageHandler]:
    return {
        OFFER_MESSAGE: receive_offer,
        RECEIVED_MESSAGE: receive_received,
        CONSENT_REQUEST_MESSAGE: receive_consent_request,
        CONSENT_MESSAGE: receive_consent,
        NOTICE_MESSAGE: receive_notice,
        USE_REPORT_REQUEST_MESSAGE: receive_use_report_request,
        USE_REPORT_MESSAGE: receive_use_report,
    }
