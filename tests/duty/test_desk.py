"""The 24/7 desk: an urgent incoming request goes to the officer on duty (time zones count),
is escalated to the next officer and the supervisor when not acknowledged in time, and handed
off to the central authority when nobody answers; an acknowledgement stops the chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from comity.duty import queries
from comity.duty import service as duty
from comity.duty.models import ALLOWED_STATUS_TRANSITIONS, AssignmentStatus, RosterEntry
from comity.kit.db import transaction
from comity.notifications.models import Notification
from tests.cases.conversation import act, create, frozen, pump, tick
from tests.support import World

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _roster(world: World) -> None:
    with transaction(world.nodes["XB"].sessions) as session:
        # Tokyo night shift: 12:00-15:00 UTC is 21:00-24:00 there, outside 02:00-06:00.
        duty.put_entry(
            session,
            "admin",
            "night",
            rank=1,
            timezone="Asia/Tokyo",
            shift_start="02:00",
            shift_end="06:00",
        )
        duty.put_entry(session, "o1", "o1", rank=2, email="o1@xb.invalid")
        duty.put_entry(
            session,
            "o2",
            "o2",
            rank=3,
            timezone="America/New_York",
            shift_start="06:00",
            shift_end="18:00",
        )
        duty.put_entry(session, "sup", "sup", rank=9, role="supervisor", email="sup@xb.invalid")
        duty.put_entry(session, "ca", "ca", rank=10, role="central-authority")


def _urgent(world: World) -> str:
    case_id = create(world, "XA", "XB", "preservation", {"instrument": "budapest"})
    act(world, "XA", case_id, "submit")
    pump(world)
    return case_id


def _assigned(world: World, case_id: str) -> list[tuple[str, str]]:
    with world.nodes["XB"].sessions() as session:
        return [(a.user, a.status) for a in duty.assignments(session, case_id)]


def _audiences(world: World, topic: str) -> list[str]:
    with world.nodes["XB"].sessions() as session:
        return list(
            session.execute(
                select(Notification.audience).where(Notification.topic == topic)
            ).scalars()
        )


def test_on_duty_follows_the_officers_time_zone() -> None:
    night = RosterEntry(
        user="n", timezone="Asia/Tokyo", shift_start="22:00", shift_end="06:00", active=True
    )
    assert not duty.on_duty(night, NOON)
    assert duty.on_duty(night, NOON + timedelta(hours=2))


def test_urgent_request_goes_to_the_officer_on_duty(world: World) -> None:
    with frozen(NOON):
        _roster(world)
        case_id = _urgent(world)
    assert _assigned(world, case_id) == [("o1", "open")]
    assert _audiences(world, "duty-assignment") == ["user:o1"]


def test_unacknowledged_request_escalates_then_hands_off(world: World) -> None:
    with frozen(NOON) as clock:
        _roster(world)
        case_id = _urgent(world)
        clock.advance(timedelta(minutes=61))
        tick(world, "XB")
        assert _assigned(world, case_id) == [("o1", "escalated"), ("o2", "open")]
        assert "user:sup" in _audiences(world, "duty-escalation")
        clock.advance(timedelta(minutes=61))
        tick(world, "XB")
        assert _assigned(world, case_id)[-1] == ("sup", "open")
        clock.advance(timedelta(minutes=61))
        tick(world, "XB")
        assert _assigned(world, case_id)[-1] == ("sup", "handed-off")
        assert set(_audiences(world, "duty-hand-off")) == {
            "role:central-authority-officer",
            "user:ca",
        }
        clock.advance(timedelta(hours=5))
        tick(world, "XB")
        assert len(_assigned(world, case_id)) == 3


def test_acknowledgement_stops_the_escalation(world: World) -> None:
    with frozen(NOON) as clock:
        _roster(world)
        case_id = _urgent(world)
        clock.advance(timedelta(minutes=61))
        tick(world, "XB")
        act(world, "XB", case_id, "acknowledge", note="sup on it")
        clock.advance(timedelta(hours=3))
        tick(world, "XB")
    assert _assigned(world, case_id) == [("o1", "escalated"), ("o2", "acknowledged")]


def test_ordinary_mla_does_not_go_to_the_duty_desk(world: World) -> None:
    _roster(world)
    case_id = create(world, "XA", "XB", "mla", {"instrument": "budapest"})
    act(world, "XA", case_id, "submit")
    pump(world)
    assert _assigned(world, case_id) == []


def test_empty_roster_hands_off_at_once(world: World) -> None:
    case_id = _urgent(world)
    assert _assigned(world, case_id) == []
    assert _audiences(world, "duty-hand-off") == ["role:central-authority-officer"]


def test_an_assignment_moves_only_along_its_transition_table(world: World) -> None:
    with frozen(NOON):
        _roster(world)
        case_id = _urgent(world)
        act(world, "XB", case_id, "acknowledge", note="on it")
    with transaction(world.nodes["XB"].sessions) as session:
        (done,) = duty.assignments(session, case_id)
        assert done.status == AssignmentStatus.ACKNOWLEDGED
        for later in (AssignmentStatus.ESCALATED, AssignmentStatus.HANDED_OFF):
            with pytest.raises(duty.AssignmentClosed) as refused:
                duty.change_status(done, later)
            assert refused.value.status_code == 409
            assert refused.value.code == "duty_assignment_status"
        assert done.status == AssignmentStatus.ACKNOWLEDGED
    assert set(ALLOWED_STATUS_TRANSITIONS) == set(AssignmentStatus)


def _waiting(world: World, now: datetime) -> list[queries.Waiting]:
    xb = world.nodes["XB"]
    with xb.sessions() as session:
        return queries.desk(session, now, xb.settings.duty_ack_seconds).waiting


def test_a_handed_off_request_stays_on_the_desk_until_someone_acknowledges(
    world: World,
) -> None:
    """The safety defect of issue 18: an escalated, handed-off emergency used to drop off the
    desk (which then read "nothing waiting")."""
    with frozen(NOON) as clock:
        _roster(world)
        case_id = _urgent(world)
        (first,) = _waiting(world, NOON + timedelta(minutes=1))
        assert (first.case_id, first.referral, first.escalations) == (
            case_id,
            queries.Referral.ASSIGNED,
            0,
        )
        assert first.assignment is not None
        assert first.assignment.user == "o1"
        assert not first.late
        clock.advance(timedelta(minutes=61))
        tick(world, "XB")
        (second,) = _waiting(world, NOON + timedelta(minutes=62))
        assert (second.referral, second.escalations) == (queries.Referral.ESCALATED, 1)
        assert second.assignment is not None
        assert second.assignment.user == "o2"
        for _ in range(2):
            clock.advance(timedelta(minutes=61))
            tick(world, "XB")
        assert _assigned(world, case_id)[-1] == ("sup", "handed-off")
        later = NOON + timedelta(hours=4)
        (handed,) = _waiting(world, later)
        assert handed.referral is queries.Referral.HANDED_OFF
        assert handed.handed_off
        assert handed.late
        assert handed.escalations == 2
        assert handed.assignment is not None
        assert handed.assignment.user == "sup"
        assert handed.seconds_left == (handed.assignment.ack_due_at - later).total_seconds() < 0
        act(world, "XB", case_id, "acknowledge", note="central authority on it")
        assert _waiting(world, later) == []


def test_a_request_handed_off_on_receipt_is_on_the_desk(world: World) -> None:
    """Nobody on the roster: no assignment at all, the central authority has it at once, and
    the desk still shows it, measured against the desk's deadline from its arrival."""
    with frozen(NOON):
        case_id = _urgent(world)
        ordinary = create(world, "XA", "XB", "mla", {"instrument": "budapest"})
        act(world, "XA", ordinary, "submit")
        pump(world)
    ack = world.nodes["XB"].settings.duty_ack_seconds
    (waiting,) = _waiting(world, NOON + timedelta(seconds=ack + 5))
    assert waiting.case_id == case_id
    assert waiting.referral is queries.Referral.HANDED_OFF_ON_RECEIPT
    assert waiting.assignment is None
    assert waiting.seconds_left == -5
    act(world, "XB", case_id, "acknowledge", note="on it")
    assert _waiting(world, NOON) == []
