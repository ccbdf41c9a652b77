"""This node's chain of custody for a package, and its record of uses: every handling is a
signed custody event (README §4), stored in order, and audited; every use is what the
supplier may ask to have reported."""

from __future__ import annotations

from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.evidence.custody import (
    CustodyAction,
    CustodyEvent,
    DetailValue,
    append_event,
)
from comity.evidence.models import CustodyRecord, EvidencePackage, EvidenceUse
from comity.evidence.queries import chain, qualified
from comity.nodes.runtime import Node
from comity.protocol.signed import read_unverified


def store_event(session: Session, package_id: str, token: str) -> CustodyEvent:
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
    store_event(session, package.id, token)
    session.flush()
    audit.record(
        session,
        f"evidence:custody:{action.value}",
        qualified(node, user),
        package.id,
        seq=len(tokens) + 1,
    )
    return token


def record_use(
    session: Session,
    package: EvidencePackage,
    use: str,
    user: str,
    proceeding: str = "",
    recipient: str = "",
    note: str = "",
) -> EvidenceUse:
    """Record one use of the package on this node (`use` says which: opened, disclosed, ...)."""
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
