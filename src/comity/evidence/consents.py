"""Consent to pass on evidence supplied by another party: the holder asks
(`evidence-consent-request`), the supplier decides, the holder is told (`evidence-consent`).
A consent has one answer (`CONSENT_TRANSITIONS`): the same answer delivered again changes
nothing; a different one is refused (409) and the refusal audited by the inbox, without the
answer's content."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.evidence.errors import ConsentAlreadyDecided, EvidenceError
from comity.evidence.models import (
    ConsentStatus,
    EvidenceConsent,
    EvidencePackage,
    EvidenceTransfer,
    move_consent,
)
from comity.evidence.payloads import (
    CONSENT_MESSAGE,
    CONSENT_REQUEST_MESSAGE,
    PARTY_LENGTH,
    TEXT_LENGTH,
    ConsentAnswer,
    ConsentAsked,
    parse,
)
from comity.evidence.queries import get_package, qualified
from comity.kit.clock import utc_now
from comity.kit.errors import NotFound
from comity.messaging import outbox
from comity.nodes.runtime import Node
from comity.protocol.envelope import OpenedEnvelope
from comity.protocol.errors import WrongParty


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
        recipient=recipient[:PARTY_LENGTH],
        purpose=purpose[:TEXT_LENGTH],
        status=ConsentStatus.REQUESTED.value,
        requested_by=qualified(node, user)[:PARTY_LENGTH],
    )
    session.add(consent)
    session.flush()
    asked = ConsentAsked(
        consent_id=uuid.UUID(consent.id),
        package_id=package.id,
        recipient=consent.recipient,
        purpose=consent.purpose,
        requested_by=consent.requested_by,
    )
    outbox.enqueue(
        session, node, package.supplier, package.case_id, CONSENT_REQUEST_MESSAGE, asked.body()
    )
    audit.record(
        session,
        "evidence:consent:requested",
        consent.requested_by,
        consent.id,
        package=package.id,
        recipient=consent.recipient,
    )
    return consent


def receive_consent_request(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Inbox handler (supplier): a holder asks consent to pass on a package supplied to it."""
    asked = parse(ConsentAsked, opened)
    sent = session.execute(
        select(EvidenceTransfer.id).where(
            EvidenceTransfer.package_id == asked.package_id,
            EvidenceTransfer.direction == "out",
            EvidenceTransfer.peer == opened.header.sender,
        )
    ).first()
    if sent is None:
        raise WrongParty(
            f"this node did not supply package {asked.package_id} to {opened.header.sender}"
        )
    consent = EvidenceConsent(
        id=str(asked.consent_id),
        package_id=asked.package_id,
        holder=opened.header.sender,
        supplier=node.participant_id,
        recipient=asked.recipient,
        purpose=asked.purpose,
        status=ConsentStatus.REQUESTED.value,
        requested_by=asked.requested_by,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        "evidence:consent:asked",
        opened.header.sender,
        consent.id,
        package=asked.package_id,
    )


def _answer(granted: bool) -> ConsentStatus:
    return ConsentStatus.GRANTED if granted else ConsentStatus.REFUSED


def decide_consent(
    session: Session, node: Node, consent_id: str, user: str, granted: bool, conditions: str = ""
) -> EvidenceConsent:
    """The supplier grants or refuses a consent asked of it; the holder is told. A consent is
    decided once: deciding again is refused (409)."""
    consent = session.get(EvidenceConsent, consent_id)
    if consent is None or consent.supplier != node.participant_id:
        raise NotFound(f"no consent request {consent_id} asked of this node")
    if consent.status != ConsentStatus.REQUESTED:
        raise ConsentAlreadyDecided(
            f"consent {consent_id} was already {consent.status}", status=consent.status
        )
    move_consent(consent, _answer(granted))
    consent.conditions = conditions[:TEXT_LENGTH]
    consent.decided_by = qualified(node, user)[:PARTY_LENGTH]
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
    answer = ConsentAnswer(
        consent_id=consent.id,
        package_id=consent.package_id,
        granted=granted,
        conditions=consent.conditions,
        decided_by=consent.decided_by,
    )
    outbox.enqueue(session, node, consent.holder, conversation, CONSENT_MESSAGE, answer.body())
    audit.record(
        session,
        f"evidence:consent:{consent.status}",
        consent.decided_by,
        consent.id,
        package=consent.package_id,
    )
    return consent


def receive_consent(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Inbox handler (holder): the supplier's answer. The same answer again (a redelivered
    message) is accepted without change; a different answer to a consent already decided is
    refused with `ConsentAlreadyDecided` — the first answer stands — and the inbox audits the
    refusal (code and reason, which never quote the conditions)."""
    answer = parse(ConsentAnswer, opened)
    consent = session.get(EvidenceConsent, answer.consent_id)
    if consent is None or consent.holder != node.participant_id:
        raise NotFound(f"no consent request {answer.consent_id} from this node")
    if consent.supplier != opened.header.sender:
        raise WrongParty(f"{opened.header.sender} is not the supplier asked for this consent")
    target = _answer(answer.granted)
    if consent.status != ConsentStatus.REQUESTED:
        if consent.status == target and consent.conditions == answer.conditions:
            return
        raise ConsentAlreadyDecided(
            f"consent {consent.id} was already answered ({consent.status}); a different answer"
            f" ({target}{', other conditions' if consent.status == target else ''}) is refused",
            status=consent.status,
        )
    move_consent(consent, target)
    consent.conditions = answer.conditions
    consent.decided_by = answer.decided_by
    consent.decided_at = utc_now()
    audit.record(
        session,
        f"evidence:consent:answer-{consent.status}",
        opened.header.sender,
        consent.id,
        package=consent.package_id,
    )
