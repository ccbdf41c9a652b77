"""Kind-specific checks on acts and their effects on the request, from the law data and the
procedural data (never hard-coded law). Run on both nodes: the sender before it sends, the
receiver when the act arrives, so both refuse the same act with the same error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from comity import law
from comity.audit import service as audit
from comity.cases.models import Case
from comity.cases.procedure import consultation_rule, procedure
from comity.directory import service as directory_service
from comity.evidence.errors import ConsentRequired
from comity.kit.clock import utc_now
from comity.kit.errors import ComityError
from comity.law.acts import ActWarning, check_grounds, preservation_shortfall
from comity.law.errors import NoApplicableInstrument, UnknownParty
from comity.protocol.acts import (
    AcceptBody,
    Act,
    ActBody,
    ConditionsBody,
    ConsentBody,
    ExtendBody,
    PostponeBody,
    RefuseBody,
    Side,
)
from comity.protocol.errors import InvalidActBody


class ConsultationRequired(ComityError):
    """The instrument requires consulting the requesting party before this act."""

    status_code = 409
    code = "consultation_required"


class ConditionsMismatch(ComityError):
    status_code = 409
    code = "conditions_mismatch"


def check_counterpart(session: Session, us: str, counterpart: str) -> None:
    directory = directory_service.current(session)
    if counterpart == us:
        raise UnknownParty("a request cannot be addressed to this node itself", field="to")
    if directory.participant(counterpart) is None:
        raise UnknownParty(
            f"{counterpart} is not in directory version {directory.version}", field="to"
        )


def instrument_of(case: Case) -> str:
    """The instrument the request was recorded under; there is no default instrument, so a
    request without one (recorded before instruments were evaluated) cannot be acted on
    under any instrument's rules."""
    if not case.instrument:
        raise NoApplicableInstrument(
            f"request {case.id} records no instrument; the rules of no instrument can be"
            " applied to it",
            field="instrument",
        )
    return case.instrument


def choose_instrument(
    session: Session, requesting: str, requested: str, kind: str, named: str = ""
) -> str:
    """The instrument a `kind` request from `requesting` to `requested` is made under today:
    `named` if it binds the pair, else the preferred one the law finds in the directory
    (treaty priority, fallback). Raises the law's typed error when none applies (or `named`
    does not): never a default instrument."""
    directory = directory_service.current(session)
    on = utc_now().date()
    return law.route(directory, requesting, requested, kind, on, named or None).instrument


def received_instrument(session: Session, case: Case, named: str) -> tuple[str, str | None]:
    """The instrument the requested node records for a request it receives, evaluated from
    its own directory: the requester's `named` instrument when it binds the pair here too,
    otherwise the one this node finds, with the reason the two differ (None when they agree).
    Raises the law's typed error when no instrument binds the pair here."""
    directory = directory_service.current(session)
    on = utc_now().date()
    ours = law.route(directory, case.counterpart, case.our_party, case.kind, on).instrument
    if not named:
        return ours, "the requesting party named no instrument"
    if named == ours:
        return ours, None
    try:
        law.route(directory, case.counterpart, case.our_party, case.kind, on, named)
    except law.LawError as exc:
        return ours, exc.message
    return named, None


def evaluate_instrument(session: Session, case: Case) -> None:
    """A request recorded without an instrument (before this node evaluated instruments)
    gets one from this node's directory before the law is applied to an act on it — never a
    default; recorded and audited like the evaluation on receipt. Raises the law's typed error
    when no instrument binds the pair."""
    if case.side == Side.REQUESTING.value:
        case.instrument = choose_instrument(session, case.our_party, case.counterpart, case.kind)
    else:
        case.instrument, _ = received_instrument(session, case, "")
    audit.record(
        session,
        "cases:request:instrument-evaluated",
        case.our_party,
        case.id,
        named="",
        recorded=case.instrument,
        reason="the request was recorded without an instrument",
    )


def _check_preserved_until(case: Case, until: date | None) -> list[ActWarning]:
    if until is None:
        raise InvalidActBody(
            "accepting a preservation request needs 'preserved_until'", field="preserved_until"
        )
    short = preservation_shortfall(instrument_of(case), until, utc_now().date())
    if short is not None and short.verified:
        raise InvalidActBody(short.message, field="preserved_until")
    return [short] if short else []


def _check_consulted(case: Case, act: Act) -> None:
    rule = consultation_rule(instrument_of(case), case.kind, act.value)
    if rule is not None and case.consulted_at is None:
        raise ConsultationRequired(
            f"{rule.citation}: consult the requesting party (act 'consult') and consider partial"
            f" or conditional execution before you {act.value}",
            article=rule.citation,
        )


def refusing(session: Session, case: Case) -> law.Refusing:
    """The parties of the request for the grounds check, read from this node's directory:
    the requested party is the one that refuses or postpones."""
    requesting, requested = (
        (case.our_party, case.counterpart)
        if case.side == Side.REQUESTING.value
        else (case.counterpart, case.our_party)
    )
    request = case.request if isinstance(case.request, dict) else {}
    return law.Refusing(
        directory_service.current(session), requesting, requested, utc_now().date(), request
    )


def check_act(session: Session, case: Case, act: Act, body: ActBody) -> list[ActWarning]:
    """Refuse an act whose content the applicable law does not allow; what only an unverified
    rule would refuse comes back as warnings instead (issue 13)."""
    warnings: list[ActWarning] = []
    if case.kind == "preservation" and act is Act.ACCEPT:
        if not isinstance(body, AcceptBody):
            raise InvalidActBody("accept needs an accept body")
        warnings += _check_preserved_until(case, body.preserved_until)
    grounded = {Act.REFUSE: (RefuseBody, "refusal"), Act.POSTPONE: (PostponeBody, "postponement")}
    if act in grounded:
        kind_of_body, part = grounded[act]
        if not isinstance(body, kind_of_body):
            raise InvalidActBody(f"{act.value} needs grounds and reasons")
        warnings += check_grounds(
            refusing(session, case),
            case.kind,
            instrument_of(case),
            body.grounds,
            body.reasons,
            part,
        )
        _check_consulted(case, act)
    if act is Act.EXTEND:
        if not isinstance(body, ExtendBody):
            raise InvalidActBody("extend needs the new 'preserved_until'")
        if case.preserved_until is not None and body.preserved_until <= case.preserved_until:
            raise InvalidActBody(
                f"an extension must go beyond the current date {case.preserved_until.isoformat()}",
                field="preserved_until",
            )
    if act is Act.ACCEPT_CONDITIONS and not _conditions_offered(case):
        raise InvalidActBody("there are no conditions to accept on this request")
    return warnings


def _conditions_offered(case: Case) -> dict[str, Any] | None:
    if "proposed" in case.conditions:
        proposed: dict[str, Any] = case.conditions["proposed"]
        return proposed
    offered = case.request.get("conditions") if isinstance(case.request, dict) else None
    if offered:
        return {
            "conditions": [offered] if isinstance(offered, str) else list(offered),
            "permitted_proceedings": list(case.request.get("permitted_proceedings", [])),
            "confidential": bool(case.request.get("confidential", False)),
        }
    return None


def apply_effects(case: Case, act: Act, body: ActBody) -> None:
    """What an act changes on the request besides its state (on both nodes alike)."""
    now = utc_now()
    if isinstance(body, AcceptBody) and body.preserved_until is not None:
        case.preserved_until = body.preserved_until
    if isinstance(body, ExtendBody):
        case.preserved_until = body.preserved_until
    if act is Act.CONSULT:
        case.consulted_at = now
    if act is Act.PROPOSE_CONDITIONS and isinstance(body, ConditionsBody):
        case.conditions = {"proposed": body.model_dump(mode="json")}
    if act is Act.ACCEPT_CONDITIONS:
        offered = _conditions_offered(case) or {}
        case.conditions = {"accepted": offered, "accepted_at": now.isoformat()}
    if act is Act.DECLINE_CONDITIONS:
        case.conditions = {"declined": case.conditions.get("proposed", {})}
    if act is Act.SUBMIT:
        case.deadline_at = requested_deadline(case.request)
    if act is Act.CONSENT and isinstance(body, ConsentBody):
        consented = sorted({*case.conditions.get("consented_transfers", []), body.to})
        case.conditions = {**case.conditions, "consented_transfers": consented}


def requested_deadline(request: dict[str, Any]) -> datetime | None:
    """A deadline the requesting party gave with its reasons (UNTOC 18(24)); without reasons
    it is not a deadline the requested party must take into account."""
    raw, reasons = request.get("deadline"), request.get("deadline_reasons")
    if not raw or not reasons:
        return None
    try:
        parsed = datetime.fromisoformat(str(raw))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def accepted_conditions(case: Case) -> dict[str, Any] | None:
    accepted = case.conditions.get("accepted")
    return accepted if isinstance(accepted, dict) else None


def check_conditions_travel(case: Case, carried: dict[str, Any] | None) -> None:
    """An answer carries the conditions both sides accepted; a different set is refused."""
    if carried is None:
        return
    if carried != accepted_conditions(case):
        raise ConditionsMismatch(
            f"request {case.id}: the answer carries conditions other than those accepted"
        )


def check_onward_transfer(case: Case, to: str) -> None:
    """Information supplied on accepted conditions may not go to another state without the
    supplier's consent."""
    accepted = accepted_conditions(case)
    if accepted and to not in case.conditions.get("consented_transfers", []):
        rule = procedure().onward_transfer
        raise ConsentRequired(
            f"{rule.citation}: the information of request {case.id} was supplied on conditions;"
            f" passing it to {to} needs {case.counterpart}'s consent first",
            article=rule.citation,
        )
