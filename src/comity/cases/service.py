"""Requests as conversations: create a draft, perform our acts, receive the peer's acts.

Every act goes through the kind's transition table (the same on both nodes), is recorded as a
case event with who, when and why, is audited, and — when it is ours — is queued in the outbox
in the same transaction. Services flush; the edge commits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.cases import offers, rules, workflow
from comity.cases.errors import CaseChanged
from comity.cases.messages import (
    ACT_MESSAGE,
    RECEIPT_MESSAGE,
    ActMessage,
    ReceiptMessage,
    parse,
)
from comity.cases.models import Case, CaseEvent
from comity.cases.workflow import Origin
from comity.directory import service as directory_service
from comity.kit import batch
from comity.kit.clock import utc_now
from comity.kit.errors import NotFound
from comity.kit.settings import NodeSettings
from comity.law import checking
from comity.law.acts import ActWarning
from comity.law.checking import BlockingFindings
from comity.messaging import outbox
from comity.messaging.models import InboxMessage, OutboxMessage, ReceiptRecord
from comity.nodes.runtime import Node
from comity.protocol.acts import Act, ActBody, EmptyBody, Side, SubmitBody, parse_act_body
from comity.protocol.envelope import OpenedEnvelope
from comity.protocol.errors import ActNotAllowed, InvalidActBody, MalformedEnvelope, WrongParty
from comity.protocol.kinds import table_for
from comity.protocol.receipts import Evidence, Receipt, verify_receipt
from comity.timers import service as timers

ANSWERS = (Act.EXECUTE, Act.EXECUTE_PARTIALLY)


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
    named = instrument or str(request.get("instrument") or "")
    chosen = rules.choose_instrument(session, node.participant_id, counterpart, kind, named)
    case = Case(
        kind=kind,
        side=Side.REQUESTING.value,
        our_party=node.participant_id,
        counterpart=counterpart,
        state=table_for(kind).initial,
        instrument=chosen,
        # The document names the instrument it is made under, and carries it to the
        # requested node with the submission.
        request={**request, "instrument": chosen},
        created_by=actor,
    )
    session.add(case)
    session.flush()
    audit.record(
        session,
        "cases:request:created",
        actor,
        case.id,
        kind=kind,
        to=counterpart,
        instrument=chosen,
        evaluated=not named,
    )
    return case


def get_case(session: Session, case_id: str, *, for_update: bool = False) -> Case:
    """The request `case_id`; `for_update` to change it (see `lock_case`)."""
    case = lock_case(session, case_id) if for_update else session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no request {case_id} on this node", field="case_id")
    return case


def lock_case(session: Session, case_id: str) -> Case | None:
    """The request `case_id`, read afresh and locked until the end of the transaction, so
    two acts on one request apply one after the other (PostgreSQL: `SELECT ... FOR UPDATE`;
    SQLite serialises every writer from its BEGIN IMMEDIATE).

    Locks are taken in one order everywhere: the audit chain's first (every change is
    audited, and appends to the chain are serialised), then the request's row. A transaction
    that audited something before it reaches a request (an inbound batch, a timer run) holds
    them in that order already; taking the row first here would let the two wait on each
    other."""
    audit.lock_chain(session)
    return session.get(Case, case_id, with_for_update=True, populate_existing=True)


def _find_case(session: Session, case_id: str) -> Case | None:
    """The request `case_id`, locked for a change, or None; in a batch scope the batch's
    requests are read (and locked, in one order) once."""
    scope = batch.current(session)
    if scope is None or case_id not in scope.conversation_ids:
        return lock_case(session, case_id)
    known: dict[str, Case] | None = scope.memo.get(_BATCH_CASES)
    if known is None:
        audit.lock_chain(session)
        found = session.execute(
            select(Case)
            .where(Case.id.in_(scope.conversation_ids))
            .order_by(Case.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
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
    settings: NodeSettings,
    case: Case,
    act: Act,
    by: Side,
    body: dict[str, Any],
    actor: str,
    message_id: str = "",
    *,
    origin: Origin,
) -> CaseEvent:
    """Apply `act` by `by` to `case` under the kind's transition table and the law's checks."""
    target = table_for(case.kind).next_state(case.state, act, by)
    parsed = parse_act_body(act, body)
    if not case.instrument:
        rules.evaluate_instrument(session, case)
    warnings = rules.check_act(session, case, act, parsed)
    session.info.setdefault(_ACT_WARNINGS, []).extend(warnings)
    for warning in warnings:
        # What only an unverified rule would have refused goes through, on the record: the
        # rule and the field, never the act's content.
        audit.record(
            session,
            "cases:act:unverified-rule",
            actor,
            case.id,
            act=act.value,
            field=warning.field,
            citation=warning.citation,
        )
    return _step(
        session,
        settings,
        case,
        act,
        by,
        target,
        parsed,
        actor,
        message_id,
        origin=origin,
        audit_tag=f"cases:act:{act.value}",
    )


#: The warnings of the acts applied in a transaction (rules not verified that would have
#: refused them), for the edge that answers the officer.
_ACT_WARNINGS = "comity.cases.act-warnings"


def act_warnings(session: Session) -> list[ActWarning]:
    """What unverified rules said of the acts applied in this transaction: each let the act
    through, and the officer should know which article would have refused it."""
    return list(session.info.get(_ACT_WARNINGS, []))


def _step(
    session: Session,
    settings: NodeSettings,
    case: Case,
    act: Act,
    by: Side,
    target: str,
    parsed: ActBody,
    actor: str,
    message_id: str,
    *,
    origin: Origin,
    audit_tag: str,
) -> CaseEvent:
    """Record an allowed step: the event (who, when, from which state to which, why), the
    request's new state and the act's effects, the audit entry, and what follows on this
    node. Every change of a request's state goes through here."""
    body = parsed.model_dump(mode="json")
    event = CaseEvent(
        case_id=case.id,
        seq=case.act_count + 1,
        act=act.value,
        by_side=by.value,
        actor=actor,
        from_state=case.state,
        to_state=target,
        body=body,
        message_id=message_id,
        note=_why(parsed),
    )
    session.add(event)
    rules.apply_effects(case, act, parsed)
    case.state = target
    case.state_at = utc_now()
    case.act_count += 1
    audit.record(
        session,
        audit_tag,
        actor,
        case.id,
        kind=case.kind,
        side=by.value,
        from_state=event.from_state,
        to_state=target,
    )
    workflow.after_act(session, settings, case, event, origin)
    return event


def _why(body: ActBody) -> str:
    """The reason an act gives, kept on its event (who and when are columns)."""
    for key in ("reasons", "note", "subject", "status", "summary"):
        value = getattr(body, key, None)
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
    Budapest 30) travels with a partial execution of a preservation.

    The request is locked first: an act performed at the same time waits, then finds the new
    state (and is refused by the table if it no longer fits). A collision that gets through
    anyway is `CaseChanged` (409), never a server error."""
    case = get_case(session, case_id, for_update=True)
    if act is Act.DELIVER:
        raise WrongParty("delivery is recorded by the system from receipts, not performed")
    by = Side(case.side)
    if act is Act.SUBMIT:
        check_law_before_sending(session, case)
        body = {"kind": case.kind, "request": case.request}
    from_state = case.state
    event = _apply(session, node.settings, case, act, by, body, actor, origin=Origin.OURS)
    _flush_act(session, case, act)
    message = ActMessage(
        act=act,
        kind=case.kind,
        from_state=from_state,
        body=event.body,
        conditions=rules.accepted_conditions(case) if act in ANSWERS else None,
        disclosure=None if disclosure is None else offers.parse_disclosure(disclosure),
    )
    sent = outbox.enqueue(session, node, case.counterpart, case.id, ACT_MESSAGE, message.payload())
    event.message_id = sent.message_id
    return case


def _flush_act(session: Session, case: Case, act: Act) -> None:
    """Write the act now, so that a collision with another act on the request (the event's
    sequence number taken twice, a timer of the same step) is refused as `CaseChanged`."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise CaseChanged(
            f"request {case.id} changed while '{act.value}' was being applied: nothing was"
            " recorded; read the request again",
            case_id=case.id,
        ) from exc


def check_law_before_sending(session: Session, case: Case) -> None:
    """Refuse to submit a request the law binding the two parties does not allow today: its
    blocking findings (a mandatory content missing, an instrument not in force between them, a
    language the requested party does not accept…) are the same a draft shows before
    approval. A request made through the drafts was checked at dispatch; one created directly
    (`POST /v1/cases`) is checked here, so no path sends what the law data forbids."""
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
    message = parse(ActMessage, opened.payload)
    act, kind, body = message.act, message.kind, message.body
    sender = opened.header.sender
    message_id = opened.header.message_id
    settings = node.settings
    case = _find_case(session, opened.header.conversation_id)
    if act is Act.SUBMIT and case is None:
        case = _received(session, node, opened, message)
        _apply(
            session,
            settings,
            case,
            act,
            Side.REQUESTING,
            body,
            sender,
            message_id,
            origin=Origin.THEIRS,
        )
        _apply(
            session,
            settings,
            case,
            Act.DELIVER,
            Side.REQUESTED,
            {},
            node.participant_id,
            message_id,
            origin=Origin.THEIRS,
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
            settings,
            case,
            Act.DELIVER,
            Side.REQUESTED,
            {},
            sender,
            message_id,
            origin=Origin.THEIRS,
        )
    if act in ANSWERS:
        rules.check_conditions_travel(case, message.conditions)
    _apply(session, settings, case, act, by, body, sender, message_id, origin=Origin.THEIRS)
    if message.disclosure is not None and case.side == Side.REQUESTING.value:
        offers.offer_preservation(session, node, case, message.disclosure)


def _received(session: Session, node: Node, opened: OpenedEnvelope, message: ActMessage) -> Case:
    """The request a counterpart submits, new on this node (the requested side)."""
    submitted = parse_act_body(Act.SUBMIT, message.body)
    if not isinstance(submitted, SubmitBody):
        raise InvalidActBody("submit needs the request and its kind")
    if submitted.kind != message.kind:
        raise InvalidActBody("submitted kind differs from the message kind", field="kind")
    case = Case(
        id=opened.header.conversation_id,
        kind=message.kind,
        side=Side.REQUESTED.value,
        our_party=node.participant_id,
        counterpart=opened.header.sender,
        state=table_for(message.kind).initial,
        instrument="",
        request=submitted.request,
        created_by=opened.header.sender,
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
    named = str(submitted.request.get("instrument") or "")
    case.instrument, disagreement = rules.received_instrument(session, case, named)
    session.add(case)
    if disagreement is not None:
        audit.record(
            session,
            "cases:request:instrument-evaluated",
            node.participant_id,
            case.id,
            named=named,
            recorded=case.instrument,
            reason=disagreement,
        )
    scope = batch.current(session)
    if scope is not None and _BATCH_CASES in scope.memo:
        scope.memo[_BATCH_CASES][case.id] = case
    return case


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
            node.settings,
            case,
            Act.DELIVER,
            Side.REQUESTED,
            {},
            receipt.issuer,
            message.message_id,
            origin=Origin.THEIRS,
        )
    timers.schedule(
        session,
        workflow.RETRIEVAL_DEADLINE,
        message.message_id,
        utc_now() + timedelta(seconds=node.settings.retrieval_deadline_seconds),
        case_id=case.id,
        conversation_id=case.id,
        recipient=message.recipient,
        envelope_sha256=message.envelope_sha256,
    )


def open_case(session: Session, node: Node, case_id: str, actor: str) -> Case:
    """An officer opens a request. The first opening of a received request sends the
    requesting party a signed `retrieved` receipt (once: two openings at the same time wait
    for each other)."""
    case = get_case(session, case_id)
    if case.side == Side.REQUESTED.value and case.retrieved_at is None:
        case = get_case(session, case_id, for_update=True)
    audit.record(session, "cases:request:read", actor, case.id)
    if case.side == Side.REQUESTED.value and case.retrieved_at is None:
        case.retrieved_at = utc_now()
        submit = session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.act == "submit")
        ).scalar_one()
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
        session.add(ReceiptRecord.of(receipt, token))
        outbox.enqueue(
            session,
            node,
            case.counterpart,
            case.id,
            RECEIPT_MESSAGE,
            ReceiptMessage(receipt=token).model_dump(mode="json"),
        )
    return case


def receive_receipt(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """A `retrieved` receipt from the counterpart (inbox handler)."""
    token = parse(ReceiptMessage, opened.payload).receipt
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
        session.add(ReceiptRecord.of(receipt, token))
    timers.cancel(session, workflow.RETRIEVAL_DEADLINE, receipt.message_id)


def close_by_time(session: Session, settings: NodeSettings, case: Case, why: str) -> CaseEvent:
    """Close a preservation whose date passed: both nodes do this from the same date, so no
    envelope travels; the step is the system's, recorded like any act (event, audit, what
    follows). Only a request whose measure is held can expire (`workflow.held_states`)."""
    if case.state not in workflow.held_states(case.kind):
        raise ActNotAllowed(
            f"{case.kind}: a request that is '{case.state}' does not expire",
            state=case.state,
            act=Act.CLOSE.value,
        )
    return _step(
        session,
        settings,
        case,
        Act.CLOSE,
        Side(case.side),
        "closed",
        EmptyBody(note=why),
        "system",
        "",
        origin=Origin.SYSTEM,
        audit_tag="cases:preservation:expired",
    )


def list_cases(session: Session, state: str | None = None) -> list[Case]:
    query = select(Case).order_by(Case.created_at.desc())
    if state:
        query = query.where(Case.state == state)
    return list(session.execute(query).scalars())
