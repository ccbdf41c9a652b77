"""Benchmark: durable timers on PostgreSQL with 100,000 open requests and their pending timers.

A fresh database (schema from the migrations) is filled with N open requests (`cases`) and one
pending timer per request, due 1 to 60 days ahead — the preservation warnings and deadlines of a
busy node. Then:

* tick     — `timers.fire_due` (the worker's scheduler tick: claim due timers with
  FOR UPDATE SKIP LOCKED, run each handler in a savepoint, commit) when 100 timers are due;
  the handler touches the timer's request, as the real ones do. Also the idle tick (none due).
* baseline — in the same run, the plain indexed SELECT of the same 100 due rows
  (`WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= now ORDER BY due_at LIMIT
  100`), no lock, no update, no handler: the floor a tick cannot beat.
* lag      — under load: a producer schedules timers due 0.5-1.5 s ahead at `--rate` per
  second for `--seconds`, while `--workers` worker loops tick as `node worker` does (poll every
  0.2 s when idle). Lag = when the handler ran − due time, per timer.

Prints its figures and, last, one JSON line with `tick_ms` and `lag_p99_s`. Goal: lag p99 < 1 s.
Run `.venv/bin/python bench/timers.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from comity.cases.models import Case
from comity.kit.clock import utc_now
from comity.kit.db import make_engine, make_session_factory, transaction
from comity.store.migrate import upgrade
from comity.timers import service as timers
from comity.timers.models import Timer

DEFAULT_PG = os.environ.get(
    "COMITY_BENCH_POSTGRES_URL",
    os.environ.get(
        "COMITY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
)
KIND = "bench-deadline"


def create_database(admin_url: str) -> tuple[str, str]:
    name = f"comity_bench_timers_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url, pool_size=1, max_overflow=0)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(admin_url: str, name: str) -> None:
    admin = make_engine(admin_url, pool_size=1, max_overflow=0)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fill(engine: sa.Engine, requests: int) -> list[str]:
    """N open requests, each with one pending timer 1-60 days ahead."""
    now = utc_now()
    ids = [str(uuid.uuid4()) for _ in range(requests)]
    rng = random.Random(7)
    with engine.begin() as connection:
        for start in range(0, requests, 5000):
            chunk = ids[start : start + 5000]
            connection.execute(
                sa.insert(Case),
                [
                    {
                        "id": case_id,
                        "kind": "preservation",
                        "side": "requested",
                        "our_party": "XB",
                        "counterpart": "XA",
                        "state": "accepted",
                        "instrument": "budapest",
                        "request": {},
                        "conditions": {},
                        "created_by": "bench",
                        "created_at": now,
                        "state_at": now,
                        "act_count": 4,
                    }
                    for case_id in chunk
                ],
            )
            connection.execute(
                sa.insert(Timer),
                [
                    {
                        "kind": KIND,
                        "subject": f"future:{case_id}",
                        "due_at": now + timedelta(seconds=rng.uniform(86400, 60 * 86400)),
                        "data": {},
                        "created_at": now,
                        "case_id": case_id,
                    }
                    for case_id in chunk
                ],
            )
        connection.execute(sa.text("ANALYZE"))
    return ids


class Fired:
    """What the handler saw: the wall time each timer ran, against its due time."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.lock = threading.Lock()

    def handler(self, session: Session, timer: Timer) -> None:
        if timer.case_id:
            session.execute(
                sa.update(Case).where(Case.id == timer.case_id).values(state_at=utc_now())
            )
        lag = (utc_now() - timer.due_at).total_seconds()
        with self.lock:
            self.lags.append(lag)


def schedule_due(sessions: Any, case_ids: list[str], n: int, tag: str) -> None:
    past = utc_now() - timedelta(seconds=1)
    with transaction(sessions) as session:
        for i in range(n):
            timers.schedule(session, KIND, f"{tag}:{i}", past, case_id=case_ids[i])


def measure_ticks(sessions: Any, case_ids: list[str], rounds: int) -> dict[str, float]:
    fired = Fired()
    handlers: dict[str, timers.TimerHandler] = {KIND: fired.handler}
    tick_ms, select_ms, idle_ms = [], [], []
    due_query = (
        sa.select(Timer.id)
        .where(
            Timer.fired_at.is_(None),
            Timer.cancelled_at.is_(None),
            Timer.due_at <= sa.bindparam("now"),
        )
        .order_by(Timer.due_at)
        .limit(100)
    )
    for r in range(rounds):
        schedule_due(sessions, case_ids[r * 100 :], 100, f"tick{r}")
        # Baseline and tick alternate on the same 100 due rows, so drift weighs on both.
        with sessions() as session:
            started = time.perf_counter()
            rows = session.execute(due_query, {"now": utc_now()}).all()
            select_ms.append((time.perf_counter() - started) * 1000)
        if len(rows) != 100:
            raise SystemExit(f"baseline saw {len(rows)} due rows, expected 100")
        started = time.perf_counter()
        count = timers.fire_due(sessions, handlers, "bench", limit=100)
        tick_ms.append((time.perf_counter() - started) * 1000)
        if count != 100:
            raise SystemExit(f"tick fired {count}, expected 100")
        started = time.perf_counter()
        timers.fire_due(sessions, handlers, "bench", limit=100)
        idle_ms.append((time.perf_counter() - started) * 1000)
    return {
        "tick_ms": statistics.median(tick_ms),
        "baseline_select_ms": statistics.median(select_ms),
        "idle_tick_ms": statistics.median(idle_ms),
    }


def measure_lag(
    sessions: Any, case_ids: list[str], rate: int, seconds: float, workers: int, poll: float
) -> dict[str, float]:
    fired = Fired()
    handlers: dict[str, timers.TimerHandler] = {KIND: fired.handler}
    stop = threading.Event()
    produced = 0

    def worker(name: str) -> None:
        while not stop.is_set():
            if not timers.fire_due(sessions, handlers, name, limit=100):
                stop.wait(poll)

    def producer() -> None:
        nonlocal produced
        rng = random.Random(11)
        batch = max(1, rate // 10)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            now = utc_now()
            with transaction(sessions) as session:
                for _ in range(batch):
                    timers.schedule(
                        session,
                        KIND,
                        f"load:{produced}",
                        now + timedelta(seconds=rng.uniform(0.5, 1.5)),
                        case_id=case_ids[produced % len(case_ids)],
                    )
                    produced += 1
            time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    producer()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with fired.lock:
            if len(fired.lags) >= produced:
                break
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join()
    lags = sorted(fired.lags)
    if len(lags) != produced:
        raise SystemExit(f"fired {len(lags)} of {produced} timers")
    return {
        "fired": float(produced),
        "lag_p50_s": lags[len(lags) // 2],
        "lag_p99_s": lags[min(len(lags) - 1, int(len(lags) * 0.99))],
        "lag_max_s": lags[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_PG, help="admin URL of the server")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30, help="tick measurements")
    parser.add_argument("--rate", type=int, default=500, help="timers scheduled per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the load")
    parser.add_argument("--workers", type=int, default=2, help="worker loops under load")
    parser.add_argument("--poll", type=float, default=0.2, help="idle poll interval (s)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    url, name = create_database(args.postgres)
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        started = time.perf_counter()
        case_ids = fill(engine, args.requests)
        print(
            f"filled {args.requests} open requests and pending timers"
            f" in {time.perf_counter() - started:.1f} s"
        )
        ticks = measure_ticks(sessions, case_ids, args.rounds)
        print(
            f"tick (100 due among {args.requests} pending): {ticks['tick_ms']:.1f} ms median;"
            f" idle tick {ticks['idle_tick_ms']:.1f} ms"
        )
        print(
            f"baseline plain indexed SELECT of the 100 due rows: "
            f"{ticks['baseline_select_ms']:.2f} ms median"
            f" (tick/baseline = {ticks['tick_ms'] / ticks['baseline_select_ms']:.0f}x)"
        )
        lag = measure_lag(sessions, case_ids, args.rate, args.seconds, args.workers, args.poll)
        print(
            f"lag under load ({args.rate}/s for {args.seconds:.0f} s, {args.workers} workers,"
            f" poll {args.poll} s): p50 {lag['lag_p50_s']:.3f} s, p99 {lag['lag_p99_s']:.3f} s,"
            f" max {lag['lag_max_s']:.3f} s over {int(lag['fired'])} timers"
        )
        result = {
            "requests": args.requests,
            "tick_ms": round(ticks["tick_ms"], 2),
            "idle_tick_ms": round(ticks["idle_tick_ms"], 2),
            "baseline_select_ms": round(ticks["baseline_select_ms"], 3),
            "tick_vs_baseline": round(ticks["tick_ms"] / ticks["baseline_select_ms"], 1),
            "lag_p50_s": round(lag["lag_p50_s"], 3),
            "lag_p99_s": round(lag["lag_p99_s"], 3),
            "lag_max_s": round(lag["lag_max_s"], 3),
            "fired_under_load": int(lag["fired"]),
            "goal_lag_p99_s": 1.0,
        }
        print(json.dumps(result))
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(args.postgres, name)


if __name__ == "__main__":
    main()
