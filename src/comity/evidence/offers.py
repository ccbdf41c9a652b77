"""Taking evidence in and offering it: import a package this node sealed, offer a verified
package to a peer (its content keys in a signed and encrypted `evidence-offer`; the chunks
follow over the transfer endpoint, `transfer.py`), record an offer that arrives, and the
receiver's word on whether it verified.

Services flush; the edge commits."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.directory import service as directory_service
from comity.evidence.chunks import (
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    ChunkCipher,
    StreamHeader,
    new_key,
)
from comity.evidence.custody import CustodyAction, read_chain, verify_chain
from comity.evidence.custody_log import record_custody, record_use, store_event
from comity.evidence.errors import (
    AlreadySent,
    BlobCorrupted,
    ConsentRequired,
    EvidenceError,
    NotVerified,
)
from comity.evidence.manifest import ByteProgress, Manifest, read_manifest_unverified
from comity.evidence.models import (
    EvidencePackage,
    EvidenceTransfer,
    PackageStatus,
    TransferStatus,
    move_transfer,
)
from comity.evidence.package import CUSTODY_NAME, FILES_DIR, manifest_token
from comity.evidence.payloads import (
    OFFER_MESSAGE,
    Offer,
    OfferedFile,
    Received,
    parse,
)
from comity.evidence.queries import (
    blobs,
    chain,
    get_package,
    granted_consent,
    manifest_of,
    qualified,
    sent_to,
)
from comity.evidence.verify import check_manifest, verify_package
from comity.kit.clock import utc_now
from comity.kit.errors import Conflict, NotFound
from comity.messaging import outbox
from comity.nodes.runtime import Node
from comity.protocol.envelope import OpenedEnvelope
from comity.protocol.errors import WrongParty


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
    package = _package_row(manifest, token, manifest.answers_request, "", PackageStatus.VERIFIED)
    package.verified_at = utc_now()
    session.add(package)
    for event_token in read_chain(folder / CUSTODY_NAME):
        store_event(session, package.id, event_token)
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


def offer(session: Session, node: Node, package_id: str, to: str, user: str) -> EvidenceTransfer:
    """Offer a verified package to `to`: fresh content keys per file travel in a signed and
    encrypted `evidence-offer` envelope; the chunks follow over the transfer endpoint (`push`).
    Passing on a package received from another party needs that party's consent."""
    package = get_package(session, package_id)
    if package.status != PackageStatus.VERIFIED:
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
        status=TransferStatus.SENDING.value,
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
        record_use(
            session,
            package,
            "onward-transfer",
            qualified(node, user),
            recipient=to,
            note=f"consent {consent.id if consent else ''}",
        )
    offered = Offer(
        transfer_id=uuid.UUID(transfer.id),
        package_id=package.id,
        manifest=package.manifest_token,
        custody=chain(session, package.id),
        chunk_size=chunk_size,
        files=[
            OfferedFile(path=entry.path, key=keys["key"], header=keys["header"])
            for entry, keys in zip(manifest.files, transfer.keys, strict=True)
        ],
    )
    outbox.enqueue(session, node, to, transfer.conversation_id, OFFER_MESSAGE, offered.body())
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
    offered = parse(Offer, opened)
    sender = opened.header.sender
    transfer_id = str(offered.transfer_id)
    token = offered.manifest
    tokens = offered.custody
    chunk_size = offered.chunk_size
    files = offered.files
    directory = directory_service.current(session)
    manifest, problems = check_manifest(token, directory)
    if manifest is None or problems:
        raise EvidenceError("evidence offer refused: " + "; ".join(problems))
    if offered.package_id != manifest.package_id:
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
    if [f.path for f in files] != [e.path for e in manifest.files]:
        raise EvidenceError("evidence offer refused: its file keys do not match the manifest")
    for entry in files:
        StreamHeader.from_bytes(_unb64(entry.header))
        if len(_unb64(entry.key)) != 32:
            raise EvidenceError("evidence offer refused: a file key is not 32 bytes")
    if session.get(EvidencePackage, manifest.package_id) is not None:
        raise Conflict(f"this node already holds evidence package {manifest.package_id}")
    session.add(
        _package_row(
            manifest, token, opened.header.conversation_id, sender, PackageStatus.RECEIVING
        )
    )
    session.add(
        EvidenceTransfer(
            id=transfer_id,
            package_id=manifest.package_id,
            direction="in",
            peer=sender,
            conversation_id=opened.header.conversation_id,
            status=TransferStatus.RECEIVING.value,
            chunk_size=chunk_size,
            keys=[{"key": f.key, "header": f.header} for f in files],
            created_by=sender,
        )
    )
    for event_token in tokens:
        store_event(session, manifest.package_id, event_token)
    session.flush()
    audit.record(
        session,
        "evidence:transfer:offer-received",
        sender,
        transfer_id,
        package=manifest.package_id,
    )


def receive_received(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Inbox handler: the receiver says whether the package verified on its side. The same
    word again (a redelivered message) changes nothing; a different one is refused."""
    answer = parse(Received, opened)
    transfer = session.get(EvidenceTransfer, answer.transfer_id)
    if transfer is None or transfer.direction != "out":
        raise NotFound(f"no outgoing transfer {answer.transfer_id} on this node")
    if transfer.peer != opened.header.sender:
        raise WrongParty(f"{opened.header.sender} was not the receiver of this transfer")
    target = TransferStatus.VERIFIED if answer.verified else TransferStatus.REJECTED
    if transfer.status == target:
        return
    move_transfer(transfer, target)
    transfer.completed_at = utc_now()
    audit.record(
        session,
        f"evidence:transfer:peer-{transfer.status}",
        opened.header.sender,
        transfer.id,
        package=transfer.package_id,
    )


def _package_row(
    manifest: Manifest, token: str, case_id: str, supplier: str, status: PackageStatus
) -> EvidencePackage:
    """The row of a package this node holds, as its signed manifest describes it."""
    return EvidencePackage(
        id=manifest.package_id,
        case_id=case_id,
        producer=manifest.producer,
        supplier=supplier,
        status=status.value,
        manifest_token=token,
        description=manifest.description,
        conditions=manifest.conditions_on_use,
        permitted_proceedings=list(manifest.permitted_proceedings),
        confidential=manifest.confidential,
        file_count=len(manifest.files),
        total_size=manifest.total_size,
    )
