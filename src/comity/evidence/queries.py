"""Look-ups of the evidence a node holds: packages, transfers, custody chains, consents, uses
and use reports; the node's blob store and how users are named in custody events; and the
one check every access to a package's files makes (`require_opened`). Nothing here writes."""

from __future__ import annotations

import functools

from sqlalchemy import select
from sqlalchemy.orm import Session

from comity.evidence.blobstore import BlobStore
from comity.evidence.errors import ConditionsNotAcknowledged, NotVerified
from comity.evidence.manifest import Manifest, read_manifest_unverified
from comity.evidence.models import (
    ConsentStatus,
    CustodyRecord,
    EvidenceConsent,
    EvidencePackage,
    EvidenceTransfer,
    EvidenceUse,
    EvidenceUseReport,
    PackageStatus,
    TransferStatus,
)
from comity.kit.errors import NotFound
from comity.nodes.runtime import Node


def blobs(node: Node) -> BlobStore:
    return BlobStore(node.settings.effective_blob_dir)


def qualified(node: Node, user: str) -> str:
    """A user as custody events name them: `<participant>:<login>`."""
    return user if ":" in user else f"{node.participant_id}:{user}"


def system_user(node: Node) -> str:
    return f"{node.participant_id}:system"


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
        if row.direction == "out" and row.peer == to and row.status != TransferStatus.REJECTED:
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


def granted_consent(session: Session, package_id: str, recipient: str) -> EvidenceConsent | None:
    return session.execute(
        select(EvidenceConsent)
        .where(
            EvidenceConsent.package_id == package_id,
            EvidenceConsent.recipient == recipient,
            EvidenceConsent.status == ConsentStatus.GRANTED.value,
        )
        .limit(1)
    ).scalar_one_or_none()


def require_opened(session: Session, node: Node, package: EvidencePackage, user: str) -> None:
    """Refuse access to a package's files unless it is verified and `user` opened it (which
    means acknowledging the supplier's conditions and naming a permitted proceeding)."""
    if package.status != PackageStatus.VERIFIED:
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
