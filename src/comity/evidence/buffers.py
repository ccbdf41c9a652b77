"""Reusable byte buffers for chunk work, so that a transfer's memory is a fixed few buffers
instead of fresh allocations per chunk.

Why: a fresh 1 MiB `bytes` per chunk is freed only when nothing refers to it, and httpx's
request and response objects refer to each other, so the body of each PUT stays alive until
the cyclic garbage collector runs; measured on a 256 MiB push, twenty sealed chunks (20 MiB)
were alive at once with a window of four. A buffer borrowed from a pool and given back when its
chunk is answered makes the number of chunk-sized buffers a property of the code (the window
plus one), not of the garbage collector's timing or of malloc's per-thread arenas.

A pool keeps idle buffers up to `keep_bytes` in all; beyond that a returned buffer is dropped,
so a burst of concurrent chunks does not pin its peak for the life of the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class BufferPool:
    """Idle buffers, each handed out as a memoryview of exactly the size asked for."""

    def __init__(self, keep_bytes: int) -> None:
        if keep_bytes < 0:
            raise ValueError("keep_bytes must be ≥ 0")
        self.keep_bytes = keep_bytes
        self._idle: list[bytearray] = []
        self._lock = threading.Lock()
        self.allocated = 0
        """How many buffers this pool has created (for tests and the benchmark)."""

    def take(self, size: int) -> bytearray:
        """An idle buffer of at least `size` bytes (the smallest such), or a new one."""
        with self._lock:
            fitting = [b for b in self._idle if len(b) >= size]
            if fitting:
                chosen = min(fitting, key=len)
                self._idle.remove(chosen)
                return chosen
            self.allocated += 1
        return bytearray(size)

    def give(self, buffer: bytearray) -> None:
        """Return a buffer; kept for reuse while the idle ones stay within `keep_bytes`,
        preferring larger buffers (they serve any smaller size too)."""
        with self._lock:
            self._idle.append(buffer)
            self._idle.sort(key=len, reverse=True)
            held = 0
            for position, idle in enumerate(self._idle):
                held += len(idle)
                if held > self.keep_bytes:
                    del self._idle[position:]
                    break

    @contextmanager
    def borrow(self, size: int) -> Iterator[memoryview]:
        """A writable view of exactly `size` bytes, given back when the block ends. The view
        must not be kept past the block: the next borrower overwrites it."""
        buffer = self.take(size)
        view = memoryview(buffer)[:size]
        try:
            yield view
        finally:
            view.release()
            self.give(buffer)

    @property
    def idle(self) -> int:
        with self._lock:
            return len(self._idle)


class Readable(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


def read_full(source: Readable, view: memoryview) -> int:
    """Fill `view` from `source` until it is full or the stream ends; returns the bytes read
    (fewer than `len(view)` only at the end of the stream)."""
    filled = 0
    while filled < len(view):
        count = source.readinto(view[filled:])
        if not count:
            break
        filled += count
    return filled


RECEIVING = BufferPool(keep_bytes=16 * 1024 * 1024)
"""The chunk endpoint's buffers (request bodies and decrypted chunks), shared by the nodes of a
process: with 1 MiB chunks, eight of them stay ready between requests."""
