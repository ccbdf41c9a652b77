"""Checks and views of a package held in this node's store (not a folder): the full
verification again on demand (manifest signature and Merkle root, every stored file re-hashed
against the manifest, the whole custody chain), each custody event with whether its hash link
holds, and how far a transfer has come. Pure data access for the pages and the API; no HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.directory import service as directory_service
from comity.evidence import queries
from comity.evidence.custody import CustodyEvent, genesis_hash, token_hash, verify_chain
from comity.evidence.errors import ConditionsNotAcknowledged, NotVerified, PackageMalformed
from comity.evidence.models import EvidencePackage, EvidenceTransfer
from comity.evidence.receiving import total_chunks
from comity.evidence.verify import check_manifest
from comity.kit.errors import NotFound
from comity.nodes.runtime import Node
from comity.protocol.errors import MalformedEnvelope
from comity.protocol.signed import read_unverified

FILE_OK = "ok"
FILE_MISSING = "missing"
FILE_ALTERED = "altered"
FILE_PENDING = "pending"


@dataclass
class FileCheck:
    path: str
    size: int
    sha256: str
    outcome: str  # FILE_OK, FILE_MISSING, FILE_ALTERED or FILE_PENDING (not received yet)


@dataclass
class HeldReport:
    """The outcome of verifying a held package again: `ok` only when every check holds."""

    package_id: str
    directory_version: int | None
    manifest_problems: list[str] = field(default_factory=list)
    files: list[FileCheck] = field(default_factory=list)
    custody_problems: list[str] = field(default_factory=list)
    events_checked: int = 0

    @property
    def files_failed(self) -> list[FileCheck]:
        return [f for f in self.files if f.outcome != FILE_OK]

    @property
    def ok(self) -> bool:
        return not (self.manifest_problems or self.files_failed or self.custody_problems)


def verify_held(session: Session, node: Node, package: EvidencePackage, user: str) -> HeldReport:
    """Verify `package` completely against the node's current directory and blob store, and
    audit that it was done and how it came out (never the content)."""
    directory = directory_service.current(session)
    report = HeldReport(package.id, directory.version)
    manifest, problems = check_manifest(package.manifest_token, directory)
    report.manifest_problems = list(problems)
    if manifest is not None:
        store = queries.blobs(node)
        for entry in manifest.files:
            if package.status == "receiving":
                outcome = FILE_PENDING
            elif not store.has(entry.sha256):
                outcome = FILE_MISSING
            else:
                outcome = FILE_OK if store.verify(entry.sha256) else FILE_ALTERED
            report.files.append(FileCheck(entry.path, entry.size, entry.sha256, outcome))
    chain_problems, events = verify_chain(
        queries.chain(session, package.id), package.manifest_token, directory
    )
    report.custody_problems = chain_problems
    report.events_checked = len(events)
    audit.record(
        session,
        "evidence:package:rechecked",
        queries.qualified(node, user),
        package.id,
        ok=report.ok,
        files_failed=len(report.files_failed),
        problems=len(report.manifest_problems) + len(report.custody_problems),
    )
    return report


@dataclass
class CustodyRow:
    seq: int
    event: CustodyEvent | None
    link_ok: bool
    signer: str
    key_id: str


def custody_rows(manifest_token: str, tokens: list[str]) -> list[CustodyRow]:
    """Each event of a chain with whether it links to the one before (or, for the first, to
    the manifest). Signatures are checked by `verify_chain`; this shows where a link breaks."""
    rows: list[CustodyRow] = []
    expected = genesis_hash(manifest_token)
    for position, token in enumerate(tokens, 1):
        try:
            header, payload = read_unverified(token)
            event: CustodyEvent | None = CustodyEvent.from_json(payload)
        except (MalformedEnvelope, PackageMalformed):
            header, event = {}, None
        link_ok = event is not None and event.prev_hash == expected
        rows.append(
            CustodyRow(
                seq=event.seq if event is not None else position,
                event=event,
                link_ok=link_ok,
                signer=str(header.get("iss", "")),
                key_id=str(header.get("kid", "")),
            )
        )
        expected = token_hash(token)
    return rows


def manifest_signer(manifest_token: str) -> tuple[str, str]:
    """(issuer, key id) named by the manifest's signature header."""
    try:
        header, _ = read_unverified(manifest_token)
    except MalformedEnvelope:
        return "", ""
    return str(header.get("iss", "")), str(header.get("kid", ""))


@dataclass
class Progress:
    done: int
    total: int

    @property
    def fraction(self) -> float:
        return 1.0 if not self.total else self.done / self.total


def incoming_progress(session: Session, transfer: EvidenceTransfer) -> Progress:
    """Confirmed chunks of an incoming transfer out of all its chunks."""
    if transfer.direction != "in":
        raise NotFound(f"transfer {transfer.id} is not coming to this node")
    package = queries.get_package(session, transfer.package_id)
    manifest = queries.manifest_of(package)
    total = total_chunks(manifest, transfer.chunk_size)
    if transfer.status == "verified":
        return Progress(total, total)
    return Progress(transfer.confirmed_chunks or 0, total)


def opened_by(session: Session, node: Node, package_id: str, user: str) -> bool:
    """Whether `user` has opened the package (acknowledged its conditions) on this node."""
    try:
        queries.require_opened(session, node, queries.get_package(session, package_id), user)
    except ConditionsNotAcknowledged:
        return False
    except NotVerified:
        return False
    return True
