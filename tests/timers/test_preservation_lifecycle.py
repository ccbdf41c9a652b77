"""Preservation over time, with the clock moved: warnings before expiry on both sides, an
extension, a follow-up request that keeps the data past its date until a decision, then
expiry closes it — each timer fires once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from comity.audit.models import AuditEntry
from comity.cases import service as cases
from comity.kit.db import transaction
from comity.notifications.models import Notification
from comity.protocol.errors import ActNotAllowed
from comity.timers import service as timers
from tests.cases.conversation import act, case_of, create, days, frozen, pump, state, tick
from tests.support import World, in_days

PRESERVATION = {"instrument": "budapest", "facts_summary": "ransomware"}


def _notes(world: World, who: str, topic: str) -> int:
    with world.nodes[who].sessions() as session:
        return int(
            session.execute(
                select(func.count()).select_from(Notification).where(Notification.topic == topic)
            ).scalar_one()
        )


def _accepted_preservation(world: World, until_days: int = 60) -> str:
    case_id = create(world, "XA", "XB", "preservation", PRESERVATION)
    act(world, "XA", case_id, "submit")
    pump(world)
    act(world, "XB", case_id, "acknowledge")
    act(world, "XB", case_id, "accept", preserved_until=in_days(until_days))
    pump(world)
    return case_id


def _pending_kinds(world: World, who: str, case_id: str) -> list[str]:
    with world.nodes[who].sessions() as session:
        kinds = (t.kind for t in timers.pending(session, case_id))
        return sorted(k for k in kinds if k.startswith("preservation-"))


def test_accepting_sets_warnings_and_expiry_on_both_sides(world: World) -> None:
    case_id = _accepted_preservation(world)
    expected = ["preservation-expiry", "preservation-warning", "preservation-warning"]
    assert _pending_kinds(world, "XA", case_id) == expected
    assert _pending_kinds(world, "XB", case_id) == expected


def test_preservation_expires_after_its_date_without_followup(world: World) -> None:
    with frozen() as clock:
        case_id = _accepted_preservation(world)
        clock.advance(days(47))
        for who in ("XA", "XB"):
            assert tick(world, who) >= 1
            assert tick(world, who) == 0
            assert _notes(world, who, "preservation-expiring") == 1
        clock.advance(days(15))
        for who in ("XA", "XB"):
            assert tick(world, who) >= 2  # the 3-day warning, then expiry
            assert tick(world, who) == 0
            assert state(world, who, case_id) == "closed"
            assert _notes(world, who, "preservation-expiring") == 2
            assert _notes(world, who, "preservation-expired") == 1


def test_extended_then_followed_by_mla_is_kept_until_the_decision(world: World) -> None:
    with frozen() as clock:
        case_id = _accepted_preservation(world)
        act(world, "XB", case_id, "extend", preserved_until=in_days(120))
        pump(world)
        assert (
            case_of(world, "XA", case_id).preserved_until
            == case_of(world, "XB", case_id).preserved_until
        )
        mla = create(
            world, "XA", "XB", "mla", {"instrument": "budapest", "follows_preservation": case_id}
        )
        act(world, "XA", mla, "submit")
        pump(world)
        assert case_of(world, "XB", mla).linked_to == case_id
        assert case_of(world, "XA", mla).linked_to == case_id
        clock.advance(days(62))
        for who in ("XA", "XB"):
            tick(world, who)
            assert state(world, who, case_id) == "accepted", "the old date no longer applies"
        clock.advance(days(60))
        world.republish()
        for who in ("XA", "XB"):
            tick(world, who)
            assert state(world, who, case_id) == "accepted", "held by the undecided MLA"
            assert _notes(world, who, "preservation-held") == 1
        act(world, "XB", mla, "acknowledge")
        act(world, "XB", mla, "accept")
        pump(world)
        for who in ("XA", "XB"):
            assert tick(world, who) >= 1
            assert state(world, who, case_id) == "closed"
            assert tick(world, who) == 0


def test_disclosed_traffic_data_offers_a_prefilled_preservation_to_the_third_state(
    world: World,
) -> None:
    from comity.cases import service as cases
    from comity.cases.models import Case
    from comity.kit.db import transaction
    from comity.protocol.acts import Act

    case_id = _accepted_preservation(world)
    node = world.nodes["XB"]
    with transaction(node.sessions) as session:
        cases.perform(
            session,
            node,
            case_id,
            Act.EXECUTE_PARTIALLY,
            {"summary": "relay found"},
            "xb",
            disclosure={
                "provider": "Carpania Relay SA",
                "provider_state": "XC",
                "communication": "198.51.100.23 -> 203.0.113.9 2026-08-14 23:02",
                "traffic_data": "src 203.0.113.9:44321, relay account r-77",
            },
        )
    pump(world)
    with world.nodes["XA"].sessions() as session:
        offer = session.execute(
            select(Case).where(Case.counterpart == "XC", Case.kind == "preservation")
        ).scalar_one()
    assert offer.state == "draft"
    assert offer.request["preservation_reference"] == case_id
    assert "Carpania Relay SA" in offer.request["custodian_or_location"]
    assert offer.request["facts_summary"] == "ransomware"
    assert _notes(world, "XA", "preservation-offer") == 1


def test_expiry_is_recorded_like_an_act_on_both_sides(world: World) -> None:
    with frozen() as clock:
        case_id = _accepted_preservation(world)
        clock.advance(days(62))
        for who in ("XA", "XB"):
            tick(world, who)
            with world.nodes[who].sessions() as session:
                last = cases.events(session, case_id)[-1]
                closed = session.execute(
                    select(AuditEntry).where(
                        AuditEntry.tag == "cases:preservation:expired",
                        AuditEntry.subject == case_id,
                    )
                ).scalar_one()
            assert (last.seq, last.act, last.actor) == (
                case_of(world, who, case_id).act_count,
                "close",
                "system",
            )
            assert (last.from_state, last.to_state) == ("accepted", "closed")
            assert last.note == "preserved-until date passed"
            assert closed.details["to_state"] == "closed"


def test_only_a_held_preservation_expires(world: World) -> None:
    case_id = create(world, "XA", "XB", "preservation", PRESERVATION)
    act(world, "XA", case_id, "submit")
    pump(world)
    xb = world.nodes["XB"]
    with transaction(xb.sessions) as session:
        case = cases.get_case(session, case_id, for_update=True)
        with pytest.raises(ActNotAllowed):
            cases.close_by_time(session, xb.settings, case, "too early")
    assert state(world, "XB", case_id) == "delivered"
