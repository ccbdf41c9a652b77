"""Timer handlers of requests: deadlines, acknowledgement times, status reminders, and the
preservation lifecycle (warnings, expiry, kept alive by a follow-up request).

Each runs inside `timers.fire_due`'s transaction, so its effect and the timer's `fired_at`
commit together: a timer fires once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.cases import service, workflow
from comity.cases.models import Case
from comity.kit.clock import utc_now
from comity.kit.settings import NodeSettings
from comity.messaging.delivery import keep_own_evidence
from comity.messaging.models import ReceiptRecord
from comity.nodes.runtime import Node
from comity.protocol.receipts import Evidence
from comity.timers.models import Timer
from comity.timers.service import TimerHandler


def _case(session: Session, timer: Timer) -> Case | None:
    return session.get(Case, timer.case_id) if timer.case_id else None


def _open(case: Case | None) -> bool:
    return case is not None and case.state not in workflow.ENDED


def acknowledgement_expected(session: Session, timer: Timer) -> None:
    case = _case(session, timer)
    if case is None or case.state not in ("submitted", "delivered"):
        return
    audit.record(session, "cases:request:not-acknowledged", "system", case.id)
    workflow.tell_desk(
        session,
        case,
        "not-acknowledged",
        f"{case.counterpart} has not acknowledged {case.kind} request {case.id} in time;"
        " consider a status query or another channel.",
    )


def request_deadline(session: Session, timer: Timer) -> None:
    case = _case(session, timer)
    if not _open(case) or case is None or case.state == "executed":
        return
    audit.record(session, f"cases:deadline:{timer.kind}", "system", case.id)
    what = str(timer.data.get("citation") or "the deadline given with reasons")
    workflow.tell_desk(
        session,
        case,
        "deadline-passed",
        f"{case.kind} request {case.id} ({case.side} side): {what} has passed"
        f" and the request is '{case.state}'.",
    )


def status_reminder(session: Session, timer: Timer) -> None:
    case = _case(session, timer)
    if not _open(case) or case is None or case.state == "executed":
        return
    workflow.tell_desk(
        session,
        case,
        "status-reminder",
        f"No news from {case.counterpart} on {case.kind} request {case.id}: send a status query.",
    )


def status_answer_due(session: Session, timer: Timer) -> None:
    case = _case(session, timer)
    if not _open(case) or case is None:
        return
    audit.record(session, "cases:status:unanswered", "system", case.id)
    workflow.tell_desk(
        session,
        case,
        "status-query-unanswered",
        f"{case.counterpart} asked for the status of {case.kind} request {case.id};"
        " answer with a status report.",
    )


def preservation_warning(session: Session, timer: Timer) -> None:
    case = _case(session, timer)
    if not _open(case) or case is None or case.preserved_until is None:
        return
    workflow.tell_desk(
        session,
        case,
        "preservation-expiring",
        f"Data preserved under request {case.id} ({case.side} side, with {case.counterpart})"
        f" expires after {case.preserved_until.isoformat()} unless extended or followed up.",
    )


def preservation_expiry(session: Session, timer: Timer, settings: NodeSettings) -> None:
    """Expiry closes the preservation, unless a follow-up request is still undecided."""
    case = service.lock_case(session, timer.case_id) if timer.case_id else None
    if not _open(case) or case is None or case.preserved_until is None:
        return
    now = utc_now()
    if workflow.expiry_time(case) > now:
        return  # extended since this timer was set
    follow_up = workflow.open_follow_up(session, case.id)
    if follow_up is not None:
        audit.record(session, "cases:preservation:held", "system", case.id, follow_up=follow_up.id)
        workflow.tell_desk(
            session,
            case,
            "preservation-held",
            f"Preservation {case.id} is kept beyond {case.preserved_until.isoformat()} until a"
            f" decision on follow-up request {follow_up.id}.",
        )
        return
    service.close_by_time(session, settings, case, "preserved-until date passed")
    workflow.tell_desk(
        session,
        case,
        "preservation-expired",
        f"Preservation {case.id} with {case.counterpart} expired and is closed.",
    )


def retrieval_deadline(session: Session, timer: Timer, node: Node) -> None:
    """Our request was delivered but not opened in time: keep signed `not-retrieved` evidence."""
    got = session.execute(
        select(ReceiptRecord.id).where(
            ReceiptRecord.message_id == timer.subject,
            ReceiptRecord.evidence == Evidence.RETRIEVED.value,
        )
    ).first()
    if got:
        return
    conversation_id = str(timer.data.get("conversation_id", ""))
    keep_own_evidence(
        session,
        node,
        Evidence.NOT_RETRIEVED,
        timer.subject,
        conversation_id,
        str(timer.data.get("envelope_sha256", "")),
        str(timer.data.get("recipient", "")),
        "not opened by the requested party in time",
    )
    audit.record(
        session, "cases:request:not-retrieved", "system", conversation_id, message=timer.subject
    )


def handlers(node: Node) -> dict[str, TimerHandler]:
    """The timer handlers of requests, by timer kind (assembled in `transport.wiring`)."""

    def expiry(session: Session, timer: Timer) -> None:
        preservation_expiry(session, timer, node.settings)

    def retrieval(session: Session, timer: Timer) -> None:
        retrieval_deadline(session, timer, node)

    return {
        workflow.ACK_EXPECTED: acknowledgement_expected,
        workflow.REQUEST_DEADLINE: request_deadline,
        workflow.LAW_DEADLINE: request_deadline,
        workflow.STATUS_REMINDER: status_reminder,
        workflow.STATUS_ANSWER: status_answer_due,
        workflow.PRESERVATION_WARNING: preservation_warning,
        workflow.PRESERVATION_EXPIRY: expiry,
        workflow.RETRIEVAL_DEADLINE: retrieval,
    }
