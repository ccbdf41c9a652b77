"""Durable timers: fire once, survive a restart, keep going when one handler fails, and never
fire twice with two workers on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from comity.audit.service import entries
from comity.kit.clock import FrozenClock, use_clock, utc_now
from comity.kit.db import transaction
from comity.kit.settings import load_settings
from comity.nodes.runtime import Node, open_node
from comity.timers import service as timers
from comity.timers.models import Timer
from tests.support import PASSPHRASE, World


def _schedule(node: Node, n: int, kind: str = "test", due_in: float = -1) -> None:
    with transaction(node.sessions) as session:
        for i in range(n):
            timers.schedule(session, kind, f"s{i}", utc_now() + timedelta(seconds=due_in))


def test_due_timers_fire_once_and_a_second_tick_finds_none(world: World) -> None:
    node = world.nodes["XA"]
    fired: list[str] = []
    _schedule(node, 5)
    _schedule(node, 3, kind="later", due_in=3600)
    handlers = {"test": lambda _s, t: fired.append(t.subject)}
    assert timers.fire_due(node.sessions, handlers, "w1") == 5
    assert timers.fire_due(node.sessions, handlers, "w1") == 0
    assert sorted(fired) == [f"s{i}" for i in range(5)]


def test_pending_timers_survive_a_restart(world: World) -> None:
    node = world.nodes["XA"]
    _schedule(node, 2)
    home = node.settings.home
    node.close()
    reopened = open_node(load_settings(home, key_passphrase=PASSPHRASE))
    world.nodes["XA"] = reopened
    fired: list[int] = []
    assert timers.fire_due(reopened.sessions, {"test": lambda _s, t: fired.append(t.id)}, "w") == 2
    assert len(fired) == 2


def test_a_failing_handler_is_recorded_and_does_not_block_the_others(world: World) -> None:
    node = world.nodes["XA"]
    _schedule(node, 3)

    def handler(session, timer: Timer) -> None:
        timer.data = {"touched": True}
        if timer.subject == "s1":
            raise RuntimeError("boom")

    assert timers.fire_due(node.sessions, {"test": handler}, "w") == 3
    with node.sessions() as session:
        rows = {t.subject: t for t in session.execute(select(Timer)).scalars()}
    assert rows["s1"].error == "RuntimeError"
    assert rows["s1"].attempts == 1
    assert rows["s1"].data == {}, "the failed handler's changes were kept"
    assert rows["s0"].error is None
    assert rows["s0"].data == {"touched": True}
    # Not due again before its retry time.
    assert timers.fire_due(node.sessions, {"test": handler}, "w") == 0


def test_a_failed_timer_is_retried_with_back_off_and_fires_once_the_fault_passes(
    world: World,
) -> None:
    node = world.nodes["XA"]
    clock = FrozenClock(utc_now())
    previous = use_clock(clock)
    try:
        _schedule(node, 1)
        fired: list[str] = []
        faults = [ConnectionError("mail server down"), TimeoutError("db restarting")]

        def handler(session, timer: Timer) -> None:
            if faults:
                raise faults.pop(0)
            fired.append(timer.subject)

        assert timers.fire_due(node.sessions, {"test": handler}, "w") == 1  # fails
        clock.advance(timers.RETRY_AFTER[0] - timedelta(seconds=1))
        assert timers.fire_due(node.sessions, {"test": handler}, "w") == 0
        clock.advance(timedelta(seconds=1))
        assert timers.fire_due(node.sessions, {"test": handler}, "w") == 1  # fails again
        clock.advance(timers.RETRY_AFTER[1])
        assert timers.fire_due(node.sessions, {"test": handler}, "w") == 1  # succeeds

        assert fired == ["s0"]
        with node.sessions() as session:
            (row,) = session.execute(select(Timer)).scalars()
            assert row.fired_at is not None
            assert row.attempts == 2
            assert row.error == "TimeoutError"  # the last failure stays on record
    finally:
        use_clock(previous)


def test_a_timer_that_keeps_failing_is_given_up_and_audited(world: World) -> None:
    node = world.nodes["XA"]
    clock = FrozenClock(utc_now())
    previous = use_clock(clock)
    try:
        with transaction(node.sessions) as session:
            timers.schedule(session, "test", "s0", utc_now(), case_id="case-1")

        def handler(session, timer: Timer) -> None:
            raise RuntimeError("always")

        tries = 0
        for _ in range(10):
            tries += timers.fire_due(node.sessions, {"test": handler}, "w")
            clock.advance(timedelta(hours=2))

        assert tries == len(timers.RETRY_AFTER) + 1
        with node.sessions() as session:
            (row,) = session.execute(select(Timer)).scalars()
            assert row.fired_at is not None
            given_up = entries(session, "timers:timer:failed")
        assert [(e.subject, e.details["attempts"], e.details["error"]) for e in given_up] == [
            ("case-1", len(timers.RETRY_AFTER) + 1, "RuntimeError")
        ]
    finally:
        use_clock(previous)


def test_cancelled_timers_do_not_fire(world: World) -> None:
    node = world.nodes["XA"]
    _schedule(node, 2)
    with transaction(node.sessions) as session:
        assert timers.cancel(session, "test", "s0") == 1
    assert timers.fire_due(node.sessions, {}, "w") == 1


@pytest.mark.postgres
def test_two_workers_fire_each_timer_once_on_postgresql(world: World) -> None:
    node = world.nodes["XA"]
    if node.engine.dialect.name != "postgresql":
        pytest.skip("concurrent claiming is a PostgreSQL feature; SQLite has one writer")
    _schedule(node, 400)
    seen: list[str] = []
    lock = threading.Lock()

    def handler(_session, timer: Timer) -> None:
        with lock:
            seen.append(timer.subject)

    def work(name: str) -> None:
        while timers.fire_due(node.sessions, {"test": handler}, name, limit=25):
            pass

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == sorted(f"s{i}" for i in range(400))
    with node.sessions() as session:
        workers = set(session.execute(select(Timer.fired_by)).scalars())
    assert len(workers) > 1
