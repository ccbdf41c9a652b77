"""What a node stores about evidence: packages it holds, transfers in and out, received
chunks, its own custody chain, consents, uses and use reports. File content lives in the
blob store (content-addressed by SHA-256, which is also the manifest's digest of each file)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from comity.evidence.errors import StatusNotAllowed
from comity.kit.clock import utc_now
from comity.store.base import Base, new_id, status_check


class PackageStatus(StrEnum):
    """`receiving` while its chunks arrive (nobody may open it); `verified` once every file
    matched the manifest (an own package is verified on import); `rejected` when a file did
    not. Verified and rejected are final."""

    RECEIVING = "receiving"
    VERIFIED = "verified"
    REJECTED = "rejected"


class TransferStatus(StrEnum):
    """Outgoing: `sending` until the receiver reports `verified` or `rejected`. Incoming:
    `receiving` until the last chunk is in and the files are checked. Both ends are final."""

    SENDING = "sending"
    RECEIVING = "receiving"
    VERIFIED = "verified"
    REJECTED = "rejected"


class ConsentStatus(StrEnum):
    """`requested` until the supplier decides; `granted` or `refused` is its one answer."""

    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"


class UseReportStatus(StrEnum):
    """A use report asked of a holder is `requested` until its answer is `received` (no
    column: `received_at` says which). One answer per report; asking again makes a new one."""

    REQUESTED = "requested"
    RECEIVED = "received"


# Which status may follow which; anything else is refused with a typed error (409). Setting
# a status to the one it already has is not a transition: a redelivered message that says the
# same again is accepted without change by the service, a different answer is refused.
PACKAGE_TRANSITIONS: dict[PackageStatus, frozenset[PackageStatus]] = {
    PackageStatus.RECEIVING: frozenset({PackageStatus.VERIFIED, PackageStatus.REJECTED}),
    PackageStatus.VERIFIED: frozenset(),
    PackageStatus.REJECTED: frozenset(),
}
TRANSFER_TRANSITIONS: dict[TransferStatus, frozenset[TransferStatus]] = {
    TransferStatus.SENDING: frozenset({TransferStatus.VERIFIED, TransferStatus.REJECTED}),
    TransferStatus.RECEIVING: frozenset({TransferStatus.VERIFIED, TransferStatus.REJECTED}),
    TransferStatus.VERIFIED: frozenset(),
    TransferStatus.REJECTED: frozenset(),
}
CONSENT_TRANSITIONS: dict[ConsentStatus, frozenset[ConsentStatus]] = {
    ConsentStatus.REQUESTED: frozenset({ConsentStatus.GRANTED, ConsentStatus.REFUSED}),
    ConsentStatus.GRANTED: frozenset(),
    ConsentStatus.REFUSED: frozenset(),
}
USE_REPORT_TRANSITIONS: dict[UseReportStatus, frozenset[UseReportStatus]] = {
    UseReportStatus.REQUESTED: frozenset({UseReportStatus.RECEIVED}),
    UseReportStatus.RECEIVED: frozenset(),
}

# The CHECK constraints (and migration 0005) list exactly these values, in this order.
PACKAGE_STATUSES = [s.value for s in PackageStatus]
TRANSFER_STATUSES = [s.value for s in TransferStatus]
CONSENT_STATUSES = [s.value for s in ConsentStatus]


class EvidencePackage(Base):
    """A package this node holds. `supplier` is empty for a package the node sealed itself,
    else the party that gave it to us (whose conditions bind us). Nobody opens it before
    `status` is `verified`."""

    __tablename__ = "evidence_packages"
    __table_args__ = (
        CheckConstraint(status_check("status", PACKAGE_STATUSES), name="status"),
        Index("ix_evidence_packages_case", "case_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(200), doc="Conversation the package came in")
    producer: Mapped[str] = mapped_column(String(64))
    supplier: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16))
    manifest_token: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    permitted_proceedings: Mapped[list[str]] = mapped_column(JSON, default=list)
    confidential: Mapped[bool] = mapped_column(Boolean, default=True)
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    total_size: Mapped[int] = mapped_column(BigInteger, default=0)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)


class EvidenceTransfer(Base):
    """One transfer of a package to or from a peer. `keys` holds, per file number, the content
    key and stream header (base64url): the sender needs them to resume, the receiver to decrypt;
    the receiver wipes them once the package is verified."""

    __tablename__ = "evidence_transfers"
    __table_args__ = (
        CheckConstraint(status_check("direction", ["out", "in"]), name="direction"),
        CheckConstraint(status_check("status", TRANSFER_STATUSES), name="status"),
        Index("ix_evidence_transfers_package", "package_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    package_id: Mapped[str] = mapped_column(String(36))
    direction: Mapped[str] = mapped_column(String(3))
    peer: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    chunk_size: Mapped[int] = mapped_column(Integer)
    confirmed_chunks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Incoming: chunks confirmed so far, all files together, kept under the row lock with
    each confirmation, so that telling whether the transfer is complete costs the same at the
    millionth chunk as at the first (counting the chunk rows each time grew with the file)."""
    keys: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class EvidenceChunk(Base):
    """A confirmed encrypted chunk of an incoming transfer, kept at its place in the file's
    staging file (`service.staging_file`) until the transfer finishes."""

    __tablename__ = "evidence_chunks"
    __table_args__ = (
        Index("ix_evidence_chunks_position", "transfer_id", "file_no", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(String(36))
    file_no: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utc_now)


class CustodyRecord(Base):
    """One signed custody event of this node's chain for a package (README §4)."""

    __tablename__ = "evidence_custody"
    __table_args__ = (Index("ix_evidence_custody_seq", "package_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    node: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    token: Mapped[str] = mapped_column(Text)


class EvidenceConsent(Base):
    """A request for the supplier's consent to pass a package on, and its answer; the same id
    on the holder's and the supplier's node."""

    __tablename__ = "evidence_consents"
    __table_args__ = (
        CheckConstraint(status_check("status", CONSENT_STATUSES), name="status"),
        Index("ix_evidence_consents_package", "package_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    package_id: Mapped[str] = mapped_column(String(36))
    holder: Mapped[str] = mapped_column(String(64), doc="Party that asks")
    supplier: Mapped[str] = mapped_column(String(64), doc="Party that decides")
    recipient: Mapped[str] = mapped_column(String(200), doc="Who the evidence would go to")
    purpose: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    conditions: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(200), default="")
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    requested_at: Mapped[datetime] = mapped_column(default=utc_now)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)


class EvidenceUse(Base):
    """One use of a package on this node (opened, disclosed, passed on, put in a bundle):
    what the supplier may ask to be reported."""

    __tablename__ = "evidence_uses"
    __table_args__ = (Index("ix_evidence_uses_package", "package_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(String(36))
    use: Mapped[str] = mapped_column(String(40))
    user: Mapped[str] = mapped_column(String(200))
    proceeding: Mapped[str] = mapped_column(String(500), default="")
    recipient: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utc_now)


class EvidenceUseReport(Base):
    """A use report asked of a holder (on the supplier's node), and the uses it reported."""

    __tablename__ = "evidence_use_reports"
    __table_args__ = (Index("ix_evidence_use_reports_package", "package_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    package_id: Mapped[str] = mapped_column(String(36))
    holder: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(200), default="")
    requested_at: Mapped[datetime] = mapped_column(default=utc_now)
    received_at: Mapped[datetime | None] = mapped_column(default=None)
    uses: Mapped[list[Any] | None] = mapped_column(JSON, default=None)

    @property
    def status(self) -> UseReportStatus:
        return UseReportStatus.REQUESTED if self.received_at is None else UseReportStatus.RECEIVED


def _check(what: str, current: str, target: str, table: dict[Any, frozenset[Any]]) -> None:
    allowed = table.get(current, frozenset())
    if target not in allowed:
        raise StatusNotAllowed(
            f"{what} is {current}: it cannot become {target}"
            + (f" (only {', '.join(sorted(allowed))})" if allowed else " (that is final)"),
            field="status",
            status=current,
            target=target,
        )


def move_package(package: EvidencePackage, target: PackageStatus) -> None:
    """Set a package's status through `PACKAGE_TRANSITIONS`, or refuse with 409."""
    _check(f"package {package.id}", package.status, target, PACKAGE_TRANSITIONS)
    package.status = target.value


def move_transfer(transfer: EvidenceTransfer, target: TransferStatus) -> None:
    """Set a transfer's status through `TRANSFER_TRANSITIONS`, or refuse with 409."""
    _check(f"transfer {transfer.id}", transfer.status, target, TRANSFER_TRANSITIONS)
    transfer.status = target.value


def move_consent(consent: EvidenceConsent, target: ConsentStatus) -> None:
    """Set a consent's status through `CONSENT_TRANSITIONS`, or refuse with 409."""
    _check(f"consent {consent.id}", consent.status, target, CONSENT_TRANSITIONS)
    consent.status = target.value


def check_use_report(report: EvidenceUseReport, target: UseReportStatus) -> None:
    """Refuse a use report change `USE_REPORT_TRANSITIONS` does not allow (409)."""
    _check(f"use report {report.id}", report.status, target, USE_REPORT_TRANSITIONS)
