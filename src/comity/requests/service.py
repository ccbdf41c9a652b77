"""Drafting requests: create, edit with live validation, approve (four eyes), reopen, and
dispatch through the outbox to the route the law evaluator chose.

Every operation, reads included, is audited with ids and codes only, never request content.
Services flush; the edge commits. Dispatch creates the case and queues the sealed submit in the
same transaction, so a request is either dispatched and queued, or neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.cases import service as cases
from comity.cases.permissions import require_any
from comity.directory import service as directory_service
from comity.directory.document import Directory
from comity.kit.clock import utc_now
from comity.law import Finding, LawError, checking, error_finding, party_profile, route
from comity.law.checking import BlockingFindings, MalformedRequest
from comity.law.loader import get_law
from comity.law.parties import participant
from comity.law.routing import kind_of
from comity.nodes.runtime import Node
from comity.protocol.acts import Act
from comity.requests import permissions, repository
from comity.requests.errors import DraftNotEditable, FourEyes, StaleDraft
from comity.requests.models import ALLOWED_STATUS_TRANSITIONS, DraftStatus, RequestDraft
from comity.requests.schemas import ProfileView


@dataclass(frozen=True, slots=True)
class Officer:
    """The person acting, with the roles of their API token."""

    user: str
    roles: frozenset[str]


def today() -> date:
    return utc_now().date()


def current_directory(session: Session) -> Directory:
    return directory_service.current(session)


def check_document(
    session: Session, document: dict[str, Any], on: date | None = None
) -> checking.Check:
    """Findings on a request document against this node's current directory."""
    return checking.check(current_directory(session), document, on or today())


def profile(session: Session, us: str, party: str, on: date | None = None) -> ProfileView:
    """What a drafter in `us` needs to know before writing to `party`."""
    day = on or today()
    return ProfileView.of(party_profile(current_directory(session), us, party, day), us, day)


def findings(session: Session, draft: RequestDraft, on: date | None = None) -> list[Finding]:
    """The draft's findings today. A problem the law raises as an error (an instrument not in
    force, an unknown party) is shown as a blocking finding so the draft can still be saved."""
    try:
        return checking.check(current_directory(session), draft.document, on or today()).findings
    except (LawError, MalformedRequest) as exc:
        return [error_finding(exc)]


def _consistent(
    document: dict[str, Any], kind: str, requesting: str, requested: str
) -> dict[str, Any]:
    """The document with the draft's kind and parties, refusing a contradiction."""
    document = checking.require_object(document, "document")
    result = dict(document)
    for name, expected in (
        ("kind", kind),
        ("requesting_party", requesting),
        ("requested_party", requested),
    ):
        given = document.get(name)
        if given in (None, ""):
            result[name] = expected
        elif given != expected:
            raise MalformedRequest(
                f"{name}: the document says {given!r} but this draft is {expected!r}; "
                "start a new draft to change it",
                field=name,
            )
    return result


def _move(draft: RequestDraft, target: DraftStatus) -> None:
    current = DraftStatus(draft.status)
    if target not in ALLOWED_STATUS_TRANSITIONS[current]:
        hint = {
            DraftStatus.APPROVED: "an approved draft cannot change; reopen it first",
            DraftStatus.DISPATCHED: "it has been dispatched as request " + str(draft.case_id),
            DraftStatus.DRAFT: "it must be approved first",
        }[current]
        raise DraftNotEditable(
            f"request draft {draft.id} is {current.value}: {hint}",
            field="status",
            status=current.value,
        )
    draft.status = target.value
    draft.updated_at = utc_now()


def _require_version(draft: RequestDraft, version: int) -> None:
    if draft.version != version:
        raise StaleDraft(
            f"request draft {draft.id} is at version {draft.version}, not {version}: someone "
            "changed it since you read it; reload it",
            field="version",
            current=draft.version,
        )


def _blocking_counts(found: list[Finding]) -> int:
    return sum(1 for f in found if f.severity == "blocking")


def create_draft(
    session: Session,
    node: Node,
    kind: str,
    requested: str,
    document: dict[str, Any],
    officer: Officer,
) -> tuple[RequestDraft, list[Finding]]:
    """Start a draft of `kind` to `requested`; returns it with its findings."""
    require_any(set(officer.roles), permissions.DRAFT_ROLES, "drafting a request")
    kind_of(get_law(), kind)
    directory = current_directory(session)
    participant(directory, requested, "requested_party")
    if requested == node.participant_id:
        raise MalformedRequest(
            f"requested_party: {requested} is this node's own party", field="requested_party"
        )
    draft = RequestDraft(
        kind=kind,
        requesting=node.participant_id,
        requested=requested,
        document=_consistent(document, kind, node.participant_id, requested),
        status=DraftStatus.DRAFT.value,
        drafter=officer.user,
        editors=[officer.user],
    )
    repository.add(session, draft)
    found = findings(session, draft)
    audit.record(
        session,
        "requests:draft:created",
        officer.user,
        draft.id,
        kind=kind,
        requested=requested,
        blocking=_blocking_counts(found),
    )
    return draft, found


def get_draft(session: Session, draft_id: str, officer: Officer) -> RequestDraft:
    """Open a draft (audited: drafts hold case content)."""
    require_any(set(officer.roles), permissions.READ_ROLES, "reading a request draft")
    draft = repository.get(session, draft_id)
    audit.record(session, "requests:draft:read", officer.user, draft.id, version=draft.version)
    return draft


def list_drafts(
    session: Session, officer: Officer, status: str | None = None
) -> list[RequestDraft]:
    require_any(set(officer.roles), permissions.READ_ROLES, "listing request drafts")
    return repository.list_drafts(session, status)


def edit_draft(
    session: Session, draft_id: str, version: int, document: dict[str, Any], officer: Officer
) -> tuple[RequestDraft, list[Finding]]:
    """Replace the document of a draft read at `version`; returns it with its findings."""
    require_any(set(officer.roles), permissions.DRAFT_ROLES, "editing a request draft")
    draft = repository.get(session, draft_id)
    if draft.status != DraftStatus.DRAFT.value:
        _move(draft, DraftStatus.APPROVED)  # raises with the reason for the current status
    _require_version(draft, version)
    draft.document = _consistent(document, draft.kind, draft.requesting, draft.requested)
    if officer.user not in draft.editors:
        draft.editors = [*draft.editors, officer.user]
    draft.updated_at = utc_now()
    repository.save(session, draft)
    found = findings(session, draft)
    audit.record(
        session,
        "requests:draft:edited",
        officer.user,
        draft.id,
        version=draft.version,
        blocking=_blocking_counts(found),
    )
    return draft, found


def approve(
    session: Session, draft_id: str, version: int, officer: Officer
) -> tuple[RequestDraft, list[Finding]]:
    """Approve the draft as read at `version`: an authorising officer who wrote none of it,
    and only when no finding blocks."""
    require_any(set(officer.roles), permissions.APPROVE_ROLES, "approving a request")
    draft = repository.get(session, draft_id)
    if draft.status != DraftStatus.DRAFT.value:
        _move(draft, DraftStatus.APPROVED)
    _require_version(draft, version)
    if officer.user in draft.editors:
        raise FourEyes(
            f"four eyes: {officer.user} wrote this request and cannot approve it; another "
            "authorising officer must",
            field="approver",
        )
    found = findings(session, draft)
    blocking = [f for f in found if f.severity == "blocking"]
    if blocking:
        raise BlockingFindings.of("approved", blocking)
    _move(draft, DraftStatus.APPROVED)
    draft.approver = officer.user
    draft.approved_at = utc_now()
    repository.save(session, draft)
    audit.record(session, "requests:draft:approved", officer.user, draft.id, version=draft.version)
    return draft, found


def reopen(session: Session, draft_id: str, officer: Officer) -> RequestDraft:
    """Send an approved draft back to drafting; the approval is withdrawn."""
    require_any(set(officer.roles), permissions.REOPEN_ROLES, "reopening a request draft")
    draft = repository.get(session, draft_id)
    _move(draft, DraftStatus.DRAFT)
    previous = draft.approver
    draft.approver = None
    draft.approved_at = None
    repository.save(session, draft)
    audit.record(
        session,
        "requests:draft:reopened",
        officer.user,
        draft.id,
        version=draft.version,
        approver=previous,
    )
    return draft


def dispatch(session: Session, node: Node, draft_id: str, officer: Officer) -> RequestDraft:
    """Send an approved draft: the route the law gives today decides the addressee; the case
    is created and its submit queued in the outbox in this transaction."""
    require_any(set(officer.roles), permissions.DISPATCH_ROLES, "dispatching a request")
    draft = repository.get(session, draft_id)
    if draft.status != DraftStatus.APPROVED.value:
        _move(draft, DraftStatus.DISPATCHED)
    on = today()
    # The directory or the date may have changed since approval (a ratification ended, a new
    # reservation): check again rather than send what the law no longer allows.
    blocking = [f for f in findings(session, draft, on) if f.severity == "blocking"]
    if blocking:
        raise BlockingFindings.of("dispatched", blocking)
    instrument = draft.document.get("instrument") or None
    chosen = route(
        current_directory(session), draft.requesting, draft.requested, draft.kind, on, instrument
    )
    _move(draft, DraftStatus.DISPATCHED)
    draft.dispatched_at = utc_now()
    # Flush the status first: the version guard makes a concurrent second dispatch fail here,
    # before it creates a second case.
    repository.save(session, draft)
    sent = {**draft.document, "instrument": chosen.instrument}
    case = cases.create_request(
        session, node, draft.kind, chosen.to, sent, officer.user, chosen.instrument
    )
    cases.perform(session, node, case.id, Act.SUBMIT, {}, officer.user)
    draft.case_id = case.id
    repository.save(session, draft)
    audit.record(
        session,
        "requests:draft:dispatched",
        officer.user,
        draft.id,
        case_id=case.id,
        to=chosen.to,
        channel=chosen.channel,
        instrument=chosen.instrument,
    )
    return draft
