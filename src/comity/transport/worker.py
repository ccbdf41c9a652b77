"""The background worker of a node: delivers the outbox, fires due timers, pulls the directory.

Runs in the `serve` process (a thread) or alone (`comity node worker`) — several workers may
share one PostgreSQL database.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import httpx

from comity.directory.pull import pull_directory
from comity.evidence import transfer as evidence_transfer
from comity.kit.errors import ComityError
from comity.messaging import delivery
from comity.nodes.runtime import Node
from comity.timers import service as timers
from comity.transport.wiring import delivery_hooks, timer_handlers
from comity.witnesses.service import CheckpointSchedule

log = logging.getLogger("comity.worker")

#: Envelopes for one peer posted together (POST /v1/envelopes/batch).
BATCH = 25
#: Bytes of a batch body besides its envelopes: `{"envelopes":[` and `]}`.
BATCH_OVERHEAD = 64


def batches(
    leases: list[delivery.Lease], size: int, max_bytes: int | None = None
) -> list[list[delivery.Lease]]:
    """Group leases by the peer's endpoint, at most `size` per group and, when `max_bytes` is
    given, at most that many bytes of envelopes per group (the peer refuses a larger batch
    body; an envelope larger on its own goes alone). Leases never hold two messages of one
    conversation, so each group can be applied by the peer in any order."""
    by_endpoint: dict[str, list[delivery.Lease]] = {}
    for lease in leases:
        by_endpoint.setdefault(lease.endpoint, []).append(lease)
    budget = (max_bytes or 0) - BATCH_OVERHEAD
    groups: list[list[delivery.Lease]] = []
    for group in by_endpoint.values():
        current: list[delivery.Lease] = []
        used = 0
        for lease in group:
            cost = len(lease.envelope) + 3  # quotes and comma
            if current and (len(current) >= size or (max_bytes and used + cost > budget)):
                groups.append(current)
                current, used = [], 0
            current.append(lease)
            used += cost
        if current:
            groups.append(current)
    return groups


class Worker:
    def __init__(self, node: Node, concurrency: int = 8) -> None:
        self.node = node
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:80]
        self.stop_event = threading.Event()
        self.client = httpx.Client(
            limits=httpx.Limits(
                max_connections=concurrency * 2, max_keepalive_connections=concurrency
            )
        )
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="deliver")
        self.concurrency = concurrency
        self.hooks = delivery_hooks()
        self.timer_handlers = timer_handlers(node)
        self._next_pull = 0.0
        self._pull_failures = 0
        self.checkpoints = CheckpointSchedule(node)
        # Evidence transfers can take hours: they are resumed on their own thread so the
        # outbox and the timers never wait for them.
        self.transfers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence")
        self._transfer_job: Future[int] | None = None
        self._next_transfer_look = time.monotonic() + node.settings.evidence_retry_seconds

    def run_once(self) -> int:
        """One pass; returns how much work was done (0 means idle)."""
        done = 0
        leases = delivery.lease_due(self.node, self.worker_id, limit=self.concurrency * BATCH)
        if leases:
            results = self.pool.map(
                lambda batch: delivery.deliver_batch(self.node, self.client, batch, self.hooks),
                batches(leases, BATCH, self.node.settings.max_batch_bytes),
            )
            done += sum(len(r) for r in results)
        done += timers.fire_due(self.node.sessions, self.timer_handlers, self.worker_id)
        self._maybe_pull_directory()
        done += self.checkpoints.run_due()
        self._maybe_resume_transfers()
        return done

    def _maybe_resume_transfers(self) -> None:
        """Resume interrupted outgoing evidence transfers from their last confirmed chunk."""
        now = time.monotonic()
        if now < self._next_transfer_look:
            return
        if self._transfer_job is not None and not self._transfer_job.done():
            return
        every = self.node.settings.evidence_retry_seconds
        self._next_transfer_look = now + every
        self._transfer_job = self.transfers.submit(
            evidence_transfer.resume_stalled, self.node, self.client, float(every)
        )

    def _maybe_pull_directory(self) -> None:
        """Pull every `directory_pull_seconds`; after a failure retry soon, with back-off, so a
        registry that was briefly unreachable does not leave the node without a directory."""
        settings = self.node.settings
        if not settings.registry_url or time.monotonic() < self._next_pull:
            return
        try:
            pull_directory(self.node, self.client)
        except (ComityError, httpx.HTTPError) as exc:
            self._pull_failures += 1
            delay = min(settings.directory_pull_seconds, 2.0 * 2 ** min(self._pull_failures, 8))
            self._next_pull = time.monotonic() + delay
            log.warning(
                "directory pull failed (retry in %.0f s): %s",
                delay,
                getattr(exc, "message", type(exc).__name__),
            )
            return
        self._pull_failures = 0
        self._next_pull = time.monotonic() + settings.directory_pull_seconds

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the loop must survive any single failure; it is logged
                log.exception("worker pass failed")
                busy = 0
            if not busy:
                self.stop_event.wait(self.node.settings.worker_poll_seconds)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="comity-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stop_event.set()
        self.pool.shutdown(wait=True)
        self.transfers.shutdown(wait=False, cancel_futures=True)
        self.client.close()
