"""Procedural acts between two in-process nodes on both databases: consultation before refusal
and postponement, grounds from the law, conditions that bind and travel with the answer,
withdrawal, and acts refused with the state unchanged on both nodes."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from comity.audit.service import entries
from comity.cases.models import CaseEvent
from comity.cases.rules import ConditionsMismatch, ConsultationRequired
from comity.directory import service as directory_service
from comity.evidence.errors import ConsentRequired
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.law import ReasonsRequired, RefusalGroundNotAllowed
from comity.messaging import inbox
from comity.protocol.envelope import EnvelopeHeader, seal
from comity.protocol.errors import ActNotAllowed, WrongParty
from tests.cases.conversation import act, case_of, create, pump, state
from tests.support import World, in_days

INTERCEPTION = {
    "instrument": "untoc",
    "facts_summary": "botnet",
    "transnational_nature": True,
    "organized_criminal_group": True,
    "maximum_penalty_years": 10,
}
MLA = {"instrument": "budapest", "facts_summary": "ransomware"}


def submitted(world: World, sender: str, to: str, kind: str, request: dict) -> str:
    case_id = create(world, sender, to, kind, request)
    act(world, sender, case_id, "submit")
    pump(world)
    return case_id


def test_refusal_under_untoc_needs_consultation_first(world: World) -> None:
    case_id = submitted(world, "XB", "XC", "interception", INTERCEPTION)
    with pytest.raises(ConsultationRequired, match=r"untoc 18\(26\)"):
        act(world, "XC", case_id, "refuse", grounds=["essential-interests"], reasons="political")
    assert state(world, "XC", case_id) == "delivered"
    act(
        world,
        "XC",
        case_id,
        "consult",
        subject="connected with a political offence?",
        considering=["partial", "conditional"],
    )
    pump(world)
    act(world, "XB", case_id, "provide-information", information="It is not political.")
    pump(world)
    act(world, "XC", case_id, "refuse", grounds=["essential-interests"], reasons="Political.")
    pump(world)
    assert state(world, "XB", case_id) == state(world, "XC", case_id) == "refused"
    with world.nodes["XB"].sessions() as session:
        refusal = session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.act == "refuse")
        ).scalar_one()
    assert refusal.body["grounds"] == ["essential-interests"]
    assert refusal.note == "Political."


def test_postponement_needs_consultation_and_an_allowed_ground(world: World) -> None:
    case_id = submitted(
        world,
        "XB",
        "XC",
        "mla",
        {
            "instrument": "untoc",
            "transnational_nature": True,
            "organized_criminal_group": True,
            "maximum_penalty_years": 10,
        },
    )
    act(world, "XC", case_id, "acknowledge")
    with pytest.raises(ConsultationRequired):
        act(world, "XC", case_id, "postpone", grounds=["ongoing-investigation"], reasons="r")
    act(world, "XC", case_id, "consult", subject="Our own investigation is ongoing")
    with pytest.raises(RefusalGroundNotAllowed):
        act(world, "XC", case_id, "postpone", grounds=["political-offence"], reasons="r")
    act(world, "XC", case_id, "postpone", grounds=["ongoing-investigation"], reasons="Trial.")
    pump(world)
    assert state(world, "XB", case_id) == "postponed"


@pytest.mark.parametrize("ground", ["bank-secrecy", "fiscal-matters"])
def test_bank_secrecy_and_fiscal_matters_are_never_grounds(world: World, ground: str) -> None:
    case_id = submitted(world, "XA", "XB", "mla", MLA)
    with pytest.raises(RefusalGroundNotAllowed) as refused:
        act(world, "XB", case_id, "refuse", grounds=[ground], reasons="no")
    assert "18(" in refused.value.message or "25(4)" in refused.value.message
    assert state(world, "XB", case_id) == "delivered"


def test_accepted_conditions_bind_and_travel_with_the_answer(world: World) -> None:
    case_id = submitted(world, "XA", "XB", "mla", MLA)
    act(world, "XB", case_id, "acknowledge")
    act(
        world,
        "XB",
        case_id,
        "propose-conditions",
        conditions=["Use only in case 42"],
        permitted_proceedings=["XA v. Nightowl"],
        confidential=True,
    )
    pump(world)
    assert state(world, "XA", case_id) == "conditions-proposed"
    act(world, "XA", case_id, "accept-conditions")
    pump(world)
    both = [case_of(world, p, case_id).conditions["accepted"] for p in ("XA", "XB")]
    assert both[0] == both[1]
    assert both[0]["conditions"] == ["Use only in case 42"]
    act(world, "XB", case_id, "execute", summary="Disk image sent")
    pump(world)
    assert state(world, "XA", case_id) == "executed"
    with pytest.raises(ConsentRequired):
        _check_transfer(world, case_id, "XC")


def _check_transfer(world: World, case_id: str, to: str) -> None:
    from comity.cases import rules

    rules.check_onward_transfer(case_of(world, "XA", case_id), to)


def test_answer_with_other_conditions_is_refused_by_the_receiver(world: World) -> None:
    case_id = submitted(world, "XA", "XB", "mla", MLA)
    act(world, "XB", case_id, "acknowledge")
    act(world, "XB", case_id, "propose-conditions", conditions=["Only case 42"])
    pump(world)
    act(world, "XA", case_id, "accept-conditions")
    pump(world)
    forged = _envelope(
        world,
        "XB",
        "XA",
        case_id,
        {
            "act": "execute",
            "kind": "mla",
            "from_state": "accepted",
            "body": {"summary": "x"},
            "conditions": {"conditions": ["anything"]},
        },
    )
    with pytest.raises(ConditionsMismatch):
        inbox.accept(world.nodes["XA"], forged.encode(), inbox_handlers())
    assert state(world, "XA", case_id) == "accepted"


def test_declined_conditions_return_to_consultation(world: World) -> None:
    case_id = submitted(world, "XA", "XB", "mla", MLA)
    act(world, "XB", case_id, "acknowledge")
    act(world, "XB", case_id, "propose-conditions", conditions=["Only case 42"])
    pump(world)
    act(world, "XA", case_id, "decline-conditions", reasons="We need it for two cases")
    pump(world)
    assert state(world, "XB", case_id) == "consulting"
    assert "declined" in case_of(world, "XB", case_id).conditions


def test_withdrawal_is_seen_at_once_and_ends_every_timer(world: World) -> None:
    case_id = submitted(world, "XA", "XB", "preservation", {"instrument": "budapest"})
    act(world, "XB", case_id, "acknowledge")
    act(world, "XB", case_id, "accept", preserved_until=in_days(90))
    pump(world)
    act(world, "XA", case_id, "withdraw", reasons="Suspect arrested; data found on his laptop")
    pump(world)
    assert state(world, "XB", case_id) == "withdrawn"
    act(world, "XB", case_id, "close", note="Preservation lifted")
    pump(world)
    assert state(world, "XA", case_id) == "closed"
    from comity.timers import service as timers

    for party in ("XA", "XB"):
        with world.nodes[party].sessions() as session:
            assert timers.pending(session, case_id) == []


def test_status_query_and_report_leave_the_state_and_clear_the_reminder(world: World) -> None:
    case_id = submitted(world, "XA", "XB", "mla", MLA)
    act(world, "XA", case_id, "status-query")
    pump(world)
    from comity.timers import service as timers

    with world.nodes["XB"].sessions() as session:
        assert [t.kind for t in timers.pending(session, case_id)] == ["status-answer-due"]
    act(world, "XB", case_id, "status-report", status="Being examined by the prosecutor")
    pump(world)
    assert state(world, "XA", case_id) == state(world, "XB", case_id) == "delivered"
    with world.nodes["XB"].sessions() as session:
        assert timers.pending(session, case_id) == []


def test_formal_confirmation_follows_an_urgent_request(world: World) -> None:
    case_id = submitted(world, "XA", "XB", "emergency-disclosure", {"instrument": "budapest-p2"})
    act(world, "XA", case_id, "confirm-formally", reference="MoJ XA 2026/118")
    pump(world)
    events = [e.act for e in _events(world, "XB", case_id)]
    assert events[-1] == "confirm-formally"


def test_exculpatory_use_is_notified_after_execution(world: World) -> None:
    case_id = submitted(world, "XA", "XB", "mla", MLA)
    act(world, "XB", case_id, "acknowledge")
    act(world, "XB", case_id, "execute", summary="Logs")
    pump(world)
    act(world, "XA", case_id, "notify-disclosure", description="Logs disclosed to the defence")
    pump(world)
    assert [e.act for e in _events(world, "XB", case_id)][-1] == "notify-disclosure"


def test_act_not_allowed_is_refused_and_changes_nothing(world: World) -> None:
    case_id = submitted(world, "XA", "XB", "preservation", {"instrument": "budapest"})
    with pytest.raises(ActNotAllowed):
        act(world, "XB", case_id, "accept", preserved_until=in_days(90))
    with pytest.raises(WrongParty):
        act(world, "XB", case_id, "withdraw", reasons="not ours")
    assert state(world, "XA", case_id) == state(world, "XB", case_id) == "delivered"
    assert len(_events(world, "XB", case_id)) == 2


def test_act_from_a_third_party_is_refused_audited_and_changes_nothing(world: World) -> None:
    case_id = submitted(world, "XA", "XB", "preservation", {"instrument": "budapest"})
    forged = _envelope(
        world,
        "XC",
        "XB",
        case_id,
        {
            "act": "withdraw",
            "kind": "preservation",
            "from_state": "delivered",
            "body": {"reasons": "I am not XA"},
        },
    )
    with pytest.raises(WrongParty):
        inbox.accept(world.nodes["XB"], forged.encode(), inbox_handlers())
    assert state(world, "XB", case_id) == "delivered"
    with world.nodes["XB"].sessions() as session:
        codes = [e.details["code"] for e in entries(session, "inbox:envelope:rejected")]
    assert codes == ["wrong_party"]


def test_act_out_of_turn_from_the_counterpart_is_refused(world: World) -> None:
    case_id = submitted(world, "XA", "XB", "preservation", {"instrument": "budapest"})
    forged = _envelope(
        world,
        "XB",
        "XA",
        case_id,
        {
            "act": "execute",
            "kind": "preservation",
            "from_state": "delivered",
            "body": {"summary": "skipped acceptance"},
        },
    )
    with pytest.raises(ActNotAllowed):
        inbox.accept(world.nodes["XA"], forged.encode(), inbox_handlers())
    assert state(world, "XA", case_id) == "delivered"


def inbox_handlers():
    from comity.transport.wiring import message_handlers

    return message_handlers()


def _events(world: World, who: str, case_id: str) -> list[CaseEvent]:
    from comity.cases import service as cases

    with world.nodes[who].sessions() as session:
        return cases.events(session, case_id)


def _envelope(world: World, sender: str, recipient: str, case_id: str, payload: dict) -> str:
    with world.nodes[recipient].sessions() as session:
        directory = directory_service.current(session)
    header = EnvelopeHeader(
        message_id=str(uuid.uuid4()),
        conversation_id=case_id,
        sender=sender,
        recipient=recipient,
        message_type="act",
        created_at=utc_now(),
        directory_version=directory.version,
    )
    with transaction(world.nodes[sender].sessions):
        pass
    return seal(
        header,
        payload,
        world.nodes[sender].keyring.signing_key(),
        directory_service.encryption_key(directory, recipient),
    )


def test_blank_reasons_are_refused_citing_budapest_27_7(world: World) -> None:
    """Budapest 27(7): "Reasons shall be given for any refusal or postponement of the
    request." Whitespace passes the body's length check but is no reason: the act is refused
    on the requested node, citing the article, and nothing changes on either side."""
    case_id = submitted(world, "XA", "XB", "mla", MLA)
    with pytest.raises(ReasonsRequired) as refused:
        act(world, "XB", case_id, "refuse", grounds=["political-offence"], reasons="   ")
    assert refused.value.details["article"] == "budapest 27(7)"
    act(world, "XB", case_id, "acknowledge")
    with pytest.raises(ReasonsRequired):
        act(world, "XB", case_id, "postpone", grounds=["ongoing-investigation"], reasons="\n ")
    pump(world)
    assert state(world, "XA", case_id) == state(world, "XB", case_id) == "acknowledged"
