"""The inbox service: requests sorted by what is due next, with the emergency, near-expiry and
overdue marks computed from the law data, the node's settings and the request's timers; and
the request page's service: timeline, acts open to a role, grounds from the law."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from comity.cases import inbox, timeline
from comity.cases.models import Case
from comity.kit.db import transaction
from comity.law.loader import get_law
from comity.protocol.acts import Act
from tests.cases.conversation import act, create, days, frozen, pump
from tests.support import World

T0 = datetime.now(UTC).replace(microsecond=0)


def submitted(world: World, kind: str, request: dict) -> str:
    case_id = create(world, "XA", "XB", kind, request)
    act(world, "XA", case_id, "submit")
    pump(world)
    return case_id


def build(world: World) -> dict[str, str]:
    """On XB: an MLA with a deadline soon, a preservation accepted for 61 days, an MLA with a
    later deadline and an emergency disclosure without any deadline."""
    made = {
        "soon": submitted(
            world,
            "mla",
            {
                "instrument": "budapest",
                "deadline": (T0 + days(10)).isoformat(),
                "deadline_reasons": "trial date",
            },
        ),
        "preservation": submitted(world, "preservation", {"instrument": "budapest"}),
        "later": submitted(
            world,
            "mla",
            {
                "instrument": "budapest",
                "deadline": (T0 + days(100)).isoformat(),
                "deadline_reasons": "limitation period",
            },
        ),
        "emergency": submitted(world, "emergency-disclosure", {"instrument": "budapest-p2"}),
    }
    act(world, "XB", made["preservation"], "acknowledge")
    act(
        world,
        "XB",
        made["preservation"],
        "accept",
        preserved_until=(T0 + days(61)).date().isoformat(),
    )
    pump(world)
    return made


def test_emergency_kinds_are_those_the_law_data_marks_emergency() -> None:
    marked = {k.id for k in get_law().kinds.values() if k.emergency}
    assert inbox.emergency_kinds() == marked == {"emergency-disclosure", "emergency-mla"}


def test_inbox_sorts_by_due_next_and_marks_what_must_not_be_missed(world: World) -> None:
    with frozen(T0) as clock:
        made = build(world)
        clock.advance(days(55))
        node = world.nodes["XB"]
        with transaction(node.sessions) as session:
            found = inbox.inbox(session, node.settings)
            rows = {r.id: r for r in found.rows}
            order = [r.id for r in found.rows]
    # The emergency was never acknowledged (nobody on XB's roster): the acknowledgement it owes
    # since it arrived is the most overdue thing in the inbox, so it comes first.
    assert order == [made["emergency"], made["soon"], made["preservation"], made["later"]]
    assert rows[made["soon"]].overdue
    assert rows[made["soon"]].due_what in (
        inbox.DUE_DEADLINE,
        "request-deadline",
    )
    assert not rows[made["later"]].overdue
    assert rows[made["preservation"]].expiring
    assert rows[made["preservation"]].due_what == "preservation-warning"
    assert rows[made["emergency"]].emergency
    assert rows[made["emergency"]].due_what == inbox.DUE_ACK_OWED
    assert rows[made["emergency"]].overdue
    assert not any(rows[made[k]].emergency for k in ("soon", "later", "preservation"))
    assert found.counts == {
        "all": 4,
        "incoming": 4,
        "outgoing": 0,
        "emergency": 1,
        "expiring": 1,
        "overdue": 2,
    }


def test_inbox_filters_and_sees_both_directions(world: World) -> None:
    with frozen(T0):
        made = build(world)
        node = world.nodes["XA"]
        with transaction(node.sessions) as session:
            everything = inbox.inbox(session, node.settings)
            preservations = inbox.inbox(session, node.settings, kind="preservation")
            incoming = inbox.inbox(session, node.settings, direction=inbox.INCOMING)
            accepted = inbox.inbox(session, node.settings, state="accepted")
    assert everything.counts["outgoing"] == 4
    assert [r.id for r in preservations.rows] == [made["preservation"]]
    assert incoming.rows == []
    assert [r.id for r in accepted.rows] == [made["preservation"]]
    # The requesting side owes no answer: a passed deadline is not overdue there.
    assert not any(r.overdue for r in everything.rows)


def test_an_answered_request_is_no_longer_overdue(world: World) -> None:
    with frozen(T0) as clock:
        made = build(world)
        act(world, "XB", made["soon"], "acknowledge")
        act(world, "XB", made["soon"], "accept")
        act(world, "XB", made["soon"], "execute", summary="done")
        clock.advance(days(20))
        node = world.nodes["XB"]
        with transaction(node.sessions) as session:
            rows = {r.id: r for r in inbox.inbox(session, node.settings).rows}
    assert not rows[made["soon"]].overdue


def test_timeline_merges_acts_receipts_and_timers_in_time_order(world: World) -> None:
    with frozen(T0) as clock:
        made = build(world)
        node = world.nodes["XB"]
        clock.advance(timedelta(hours=1))
        with transaction(node.sessions) as session:
            from comity.cases import service as cases

            case = cases.open_case(session, node, made["preservation"], "xb-officer")
            entries = timeline.timeline(session, case, cases.events(session, case.id))
    kinds = [(e.type, e.what) for e in entries]
    assert ("act", "submit") in kinds
    assert ("act", "accept") in kinds
    assert ("receipt", "retrieved") in kinds
    assert ("timer", "preservation-expiry") in kinds
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    pending = [e for e in entries if e.type == "timer" and e.status == "pending"]
    assert pending
    assert all(e.due_at is not None for e in pending)


def test_allowed_acts_follow_the_table_our_side_and_the_roles(world: World) -> None:
    with frozen(T0):
        case_id = submitted(world, "mla", {"instrument": "budapest"})
        with world.nodes["XB"].sessions() as session:
            case = session.get(Case, case_id)
            assert case is not None
            officer = timeline.allowed_acts(case, {"central-authority-officer"})
            provider = timeline.allowed_acts(case, {"provider-responder"})
            drafter = timeline.allowed_acts(case, {"drafter"})
    assert Act.ACKNOWLEDGE in officer
    assert Act.CONSULT in officer
    assert Act.CONSULT not in provider
    assert Act.ACKNOWLEDGE in provider
    assert drafter == []
    assert Act.WITHDRAW not in officer, "withdrawal is the requesting party's act"


def test_grounds_come_from_the_instrument_with_citations(world: World) -> None:
    with frozen(T0):
        case_id = submitted(
            world,
            "mla",
            {
                "instrument": "untoc",
                "transnational_nature": True,
                "organized_criminal_group": True,
                "maximum_penalty_years": 10,
            },
        )
        with world.nodes["XB"].sessions() as session:
            case = session.get(Case, case_id)
            assert case is not None
            refusal, listed = timeline.grounds(session, case, "refusal")
            postponement, _ = timeline.grounds(session, case, "postponement")
    codes = {g.code for g in refusal}
    assert "essential-interests" in codes
    assert "bank-secrecy" not in codes
    assert listed
    assert all(g.citation for g in refusal)
    assert {g.code for g in postponement} == {"ongoing-investigation"}
