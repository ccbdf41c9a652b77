"""Requests as conversations: create a draft, perform our acts, receive the peer's acts.

Every act goes through the kind's transition table (the same on both nodes), is recorded as a
case event with who, when and why, is audited, and — when it is ours — is queued in the outbox
in the same transaction. Services flush; the edge commits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.cases import offers, rules, workflow
from comity.cases.models import Case, CaseEvent
from comity.kit import batch
from comity.kit.clock import utc_now
from comity.kit.errors import NotFound
from comity.messaging import outbox
from comity.messaging.delivery import keep_own_evidence
from comity.messaging.models import OutboxMessage, ReceiptRecord
from comity.nodes.runtime import Node
from comity.protocol.acts import Act, Side, SubmitBody, parse_act_body
from comity.protocol.envelope import OpenedEnvelope
from comity.protocol.errors import InvalidActBody, MalformedEnvelope, WrongParty
from comity.protocol.kinds import table_for
from comity.protocol.receipts import Evidence, Receipt, verify_receipt
from comity.timers import service as timers
from comity.timers.models import Timer

ACT_MESSAGE = "act"
ANSWERS = (Act.EXECUTE, Act.EXECUTE_PARTIALLY)
RECEIPT_MESSAGE = "receipt"
RETRIEVAL_DEADLINE = "retrieval-deadline"


def create_request(
    session: Session,
    node: Node,
    kind: str,
    counterpart: str,
    request: dict[str, Any],
    actor: str,
    instrument: str = "",
) -> Case:
    """A new draft request on the requesting side."""
    table_for(kind)
    rules.check_counterpart(session, node.participant_id, counterpart)
    case = Case(
        kind=kind,
        side=Side.REQUESTING.value,
        our_party=node.participant_id,
        counterpart=counterpart,
        state=table_for(kind).initial,
        instrument=instrument or str(request.get("instrument", "")),
        request=request,
        created_by=actor,
    )
    session.add(case)
    session.flush()
    audit.record(session, "cases:request:created", actor, case.id, kind=kind, to=counterpart)
    return case


def get_case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no request {case_id} on this node", field="case_id")
    return case


def _find_case(session: Session, case_id: str) -> Case | None:
    """The request `case_id`, or None; in a batch scope the batch's requests are read once."""
    scope = batch.current(session)
    if scope is None or case_id not in scope.conversation_ids:
        return session.get(Case, case_id)
    known: dict[str, Case] | None = scope.memo.get(_BATCH_CASES)
    if known is None:
        found = session.execute(select(Case).where(Case.id.in_(scope.conversation_ids)))
        known = {case.id: case for case in found.scalars()}
        scope.memo[_BATCH_CASES] = known
    return known.get(case_id)


_BATCH_CASES = "cases.by_id"


def events(session: Session, case_id: str) -> list[CaseEvent]:
    return list(
        session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        ).scalars()
    )


def _apply(
    session: Session,
    case: Case,
    act: Act,
    by: Side,
    body: dict[str, Any],
    actor: str,
    message_id: str = "",
    *,
    node: Node,
    ours: bool,
) -> CaseEvent:
    table = table_for(case.kind)
    target = table.next_state(case.state, act, by)
    parsed = parse_act_body(act, body)
    rules.check_act(case, act, parsed)
    event = CaseEvent(
        case_id=case.id,
        seq=case.act_count + 1,
        act=act.value,
        by_side=by.value,
        actor=actor,
        from_state=case.state,
        to_state=target,
        body=parsed.model_dump(mode="json"),
        message_id=message_id,
        note=_why(parsed.model_dump(mode="json")),
    )
    session.add(event)
    rules.apply_effects(case, act, parsed)
    case.state = target
    case.state_at = utc_now()
    case.act_count += 1
    audit.record(
        session,
        f"cases:act:{act.value}",
        actor,
        case.id,
        kind=case.kind,
        side=by.value,
        from_state=event.from_state,
        to_state=target,
    )
    workflow.after_act(session, node.settings, case, event, ours)
    return event


def _why(body: dict[str, Any]) -> str:
    """The reason an act gives, kept on its event (who and when are columns)."""
    for key in ("reasons", "note", "subject", "status", "summary"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value[:4000]
    return ""


def perform(
    session: Session,
    node: Node,
    case_id: str,
    act: Act,
    body: dict[str, Any],
    actor: str,
    disclosure: dict[str, Any] | None = None,
) -> Case:
    """Perform `act` as this node's party and queue it for the counterpart. An answer carries
    the accepted conditions; `disclosure` (traffic data revealing a provider in a third state,
    Budapest 30) travels with a partial execution of a preservation."""
    case = get_case(session, case_id)
    if act is Act.DELIVER:
        raise WrongParty("delivery is recorded by the system from receipts, not performed")
    by = Side(case.side)
    if act is Act.SUBMIT:
        check_law_before_sending(session, case)
        body = {"kind": case.kind, "request": case.request}
    from_state = case.state
    event = _apply(session, case, act, by, body, actor, node=node, ours=True)
    payload: dict[str, Any] = {
        "act": act.value,
        "kind": case.kind,
        "from_state": from_state,
        "body": event.body,
    }
    if act in ANSWERS and rules.accepted_conditions(case) is not None:
        payload["conditions"] = rules.accepted_conditions(case)
    if disclosure is not None:
        payload["disclosure"] = disclosure
    message = outbox.enqueue(session, node, case.counterpart, case.id, ACT_MESSAGE, payload)
    event.message_id = message.message_id
    return case


def check_law_before_sending(session: Session, case: Case) -> None:
    """Refuse to submit a request the law binding the two parties does not allow today: its
    blocking findings (a mandatory content missing, an instrument not in force between them, a
    language the requested party does not accept…) are the same a draft shows before
    approval. A request made through the drafts was checked at dispatch; one created directly
    (`POST /v1/cases`) is checked here, so no path sends what the law data forbids."""
    from comity.directory import service as directory_service
    from comity.law import checking
    from comity.law.checking import BlockingFindings

    document = dict(case.request)
    document.setdefault("kind", case.kind)
    document.setdefault("requesting_party", case.our_party)
    document.setdefault("requested_party", case.counterpart)
    if case.instrument:
        document.setdefault("instrument", case.instrument)
    found = checking.check(directory_service.current(session), document, utc_now().date())
    blocking = [f for f in found.findings if f.severity == "blocking"]
    if blocking:
        raise BlockingFindings.of("sent", blocking)


def receive_act(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Apply an act performed by the counterpart (inbox handler)."""
    payload = opened.payload
    try:
        act = Act(str(payload["act"]))
        kind = str(payload["kind"])
        body = payload["body"]
    except (KeyError, ValueError) as exc:
        raise MalformedEnvelope(f"act message lacks or garbles {exc}") from exc
    if not isinstance(body, dict):
        raise MalformedEnvelope("act body must be a JSON object")
    sender = opened.header.sender
    case = _find_case(session, opened.header.conversation_id)
    if act is Act.SUBMIT and case is None:
        submitted = parse_act_body(act, body)
        if not isinstance(submitted, SubmitBody):
            raise InvalidActBody("submit needs the request and its kind")
        if submitted.kind != kind:
            raise InvalidActBody("submitted kind differs from the message kind", field="kind")
        table_for(kind)
        case = Case(
            id=opened.header.conversation_id,
            kind=kind,
            side=Side.REQUESTED.value,
            our_party=node.participant_id,
            counterpart=sender,
            state=table_for(kind).initial,
            instrument=str(submitted.request.get("instrument", "")),
            request=submitted.request,
            created_by=sender,
            # The column defaults, set now: the row is inserted with the rest of the
            # transaction (no flush per request), and the acts below read these fields.
            preserved_until=None,
            created_at=utc_now(),
            retrieved_at=None,
            act_count=0,
            conditions={},
            consulted_at=None,
            linked_to=None,
            deadline_at=None,
        )
        case.state_at = case.created_at
        session.add(case)
        scope = batch.current(session)
        if scope is not None and _BATCH_CASES in scope.memo:
            scope.memo[_BATCH_CASES][case.id] = case
        _apply(
            session,
            case,
            act,
            Side.REQUESTING,
            body,
            sender,
            opened.header.message_id,
            node=node,
            ours=False,
        )
        _apply(
            session,
            case,
            Act.DELIVER,
            Side.REQUESTED,
            {},
            node.participant_id,
            opened.header.message_id,
            node=node,
            ours=False,
        )
        return
    if case is None:
        raise NotFound(f"no request {opened.header.conversation_id} on this node")
    if case.counterpart != sender:
        raise WrongParty(f"{sender} is not a party to request {case.id}")
    if case.kind != kind:
        raise InvalidActBody(f"request {case.id} is a {case.kind} request, not {kind}")
    by = Side.REQUESTED if case.side == Side.REQUESTING.value else Side.REQUESTING
    if by is Side.REQUESTED and case.state == "submitted" and act is not Act.DELIVER:
        # The counterpart acting proves it received our request even if its receipt is still
        # on the way back to us.
        _apply(
            session,
            case,
            Act.DELIVER,
            Side.REQUESTED,
            {},
            sender,
            opened.header.message_id,
            node=node,
            ours=False,
        )
    if act in ANSWERS:
        rules.check_conditions_travel(case, payload.get("conditions"))
    _apply(session, case, act, by, body, sender, opened.header.message_id, node=node, ours=False)
    disclosure = payload.get("disclosure")
    if isinstance(disclosure, dict) and case.side == Side.REQUESTING.value:
        offers.offer_preservation(session, node, case, disclosure)


def on_delivered(session: Session, node: Node, message: OutboxMessage, receipt: Receipt) -> None:
    """Delivery hook: a delivered submit moves our request to 'delivered'."""
    if message.message_type != ACT_MESSAGE:
        return
    case = _find_case(session, message.conversation_id)
    if case is None or case.side != Side.REQUESTING.value:
        return
    first = session.execute(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.act == Act.SUBMIT.value)
    ).scalar_one_or_none()
    if first is None or first.message_id != message.message_id:
        return
    if case.state == "submitted":
        _apply(
            session,
            case,
            Act.DELIVER,
            Side.REQUESTED,
            {},
            receipt.issuer,
            message.message_id,
            node=node,
            ours=False,
        )
    timers.schedule(
        session,
        RETRIEVAL_DEADLINE,
        message.message_id,
        utc_now() + timedelta(seconds=node.settings.retrieval_deadline_seconds),
        case_id=case.id,
        conversation_id=case.id,
        recipient=message.recipient,
        envelope_sha256=message.envelope_sha256,
    )


def open_case(session: Session, node: Node, case_id: str, actor: str) -> Case:
    """An officer opens a request. The first opening of a received request sends the
    requesting party a signed `retrieved` receipt."""
    case = get_case(session, case_id)
    audit.record(session, "cases:request:read", actor, case.id)
    if case.side == Side.REQUESTED.value and case.retrieved_at is None:
        case.retrieved_at = utc_now()
        submit = session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.act == "submit")
        ).scalar_one()
        from comity.messaging.models import InboxMessage

        inbound = session.get(InboxMessage, submit.message_id)
        if inbound is None:
            raise NotFound(f"the envelope that carried request {case.id} is missing")
        receipt = Receipt(
            evidence=Evidence.RETRIEVED,
            message_id=inbound.message_id,
            conversation_id=case.id,
            envelope_sha256=inbound.envelope_sha256,
            sender=case.counterpart,
            recipient=node.participant_id,
            issuer=node.participant_id,
            at=case.retrieved_at,
            reason=f"opened by {actor}",
        )
        token = receipt.sign(node.keyring.signing_key())
        session.add(
            ReceiptRecord(
                message_id=inbound.message_id,
                conversation_id=case.id,
                evidence=Evidence.RETRIEVED.value,
                issuer=node.participant_id,
                token=token,
                at=case.retrieved_at,
            )
        )
        outbox.enqueue(
            session, node, case.counterpart, case.id, RECEIPT_MESSAGE, {"receipt": token}
        )
    return case


def receive_receipt(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """A `retrieved` receipt from the counterpart (inbox handler)."""
    from comity.directory import service as directory_service

    token = opened.payload.get("receipt")
    if not isinstance(token, str):
        raise MalformedEnvelope("receipt message lacks the signed receipt")
    directory = directory_service.current(session)
    receipt = verify_receipt(
        token,
        lambda issuer, kid: directory_service.verification_key(directory, issuer, kid, utc_now()),
    )
    if receipt.issuer != opened.header.sender or receipt.evidence is not Evidence.RETRIEVED:
        raise MalformedEnvelope("receipt was not issued by the sender as retrieved evidence")
    sent = session.execute(
        select(OutboxMessage).where(OutboxMessage.message_id == receipt.message_id)
    ).scalar_one_or_none()
    if (
        sent is None
        or sent.envelope_sha256 != receipt.envelope_sha256
        or sent.recipient != receipt.issuer
        or sent.conversation_id != receipt.conversation_id
        or receipt.sender != node.participant_id
        or receipt.recipient != receipt.issuer
    ):
        raise MalformedEnvelope("receipt refers to no envelope this node sent to its issuer")
    already = session.execute(
        select(func.count())
        .select_from(ReceiptRecord)
        .where(
            ReceiptRecord.message_id == receipt.message_id,
            ReceiptRecord.evidence == Evidence.RETRIEVED.value,
        )
    ).scalar_one()
    if not already:
        session.add(
            ReceiptRecord(
                message_id=receipt.message_id,
                conversation_id=receipt.conversation_id,
                evidence=Evidence.RETRIEVED.value,
                issuer=receipt.issuer,
                token=token,
                at=receipt.at,
            )
        )
    timers.cancel(session, RETRIEVAL_DEADLINE, receipt.message_id)


def retrieval_deadline_handler(node: Node) -> Any:
    def fire(session: Session, timer: Timer) -> None:
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
            session,
            "cases:request:not-retrieved",
            "system",
            conversation_id,
            message=timer.subject,
        )

    return fire


def list_cases(session: Session, state: str | None = None) -> list[Case]:
    query = select(Case).order_by(Case.created_at.desc())
    if state:
        query = query.where(Case.state == state)
    return list(session.execute(query).scalars())
