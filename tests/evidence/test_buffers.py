"""The chunk buffers: reused rather than allocated per chunk, bounded when idle, and the
encrypt/decrypt-into paths that use them give the same bytes as the allocating ones."""

from __future__ import annotations

import io
import os

import pytest

from comity.evidence.buffers import BufferPool, read_full
from comity.evidence.chunks import TAG_SIZE, ChunkCipher, StreamHeader, new_key
from comity.evidence.errors import ChunkRefused

CHUNK = 4096


def test_a_returned_buffer_is_reused_for_the_next_chunk() -> None:
    pool = BufferPool(keep_bytes=10 * CHUNK)
    for _ in range(100):
        with pool.borrow(CHUNK) as view:
            view[:] = os.urandom(CHUNK)
    assert pool.allocated == 1


def test_a_borrowed_view_has_exactly_the_size_asked_even_from_a_larger_buffer() -> None:
    pool = BufferPool(keep_bytes=10 * CHUNK)
    pool.give(bytearray(CHUNK + TAG_SIZE))
    with pool.borrow(100) as view:
        assert len(view) == 100
    assert pool.allocated == 0


def test_idle_buffers_are_kept_only_up_to_the_limit_preferring_larger_ones() -> None:
    pool = BufferPool(keep_bytes=3 * CHUNK)
    buffers = [pool.take(CHUNK) for _ in range(5)]
    for buffer in buffers:
        pool.give(buffer)
    assert pool.idle == 3
    pool.give(bytearray(2 * CHUNK))
    # 2*CHUNK + CHUNK fit; the other small ones are dropped.
    assert pool.idle == 2
    with pool.borrow(2 * CHUNK):
        assert pool.idle == 1


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="keep_bytes"):
        BufferPool(keep_bytes=-1)


def test_read_full_fills_across_short_reads_and_stops_at_the_end() -> None:
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            count = min(3, len(buffer), len(self.data))
            buffer[:count] = self.data[:count]
            self.data = self.data[count:]
            return count

    target = memoryview(bytearray(10))
    assert read_full(Trickle(b"abcdefghijkl"), target) == 10
    assert bytes(target) == b"abcdefghij"
    assert read_full(Trickle(b"abcd"), memoryview(bytearray(10))) == 4


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK])
def test_encrypting_into_a_buffer_gives_the_same_chunk(size: int) -> None:
    key, header = new_key(), StreamHeader.new(CHUNK)
    cipher = ChunkCipher(key, "f1", header)
    plaintext = os.urandom(size)
    out = memoryview(bytearray(CHUNK + TAG_SIZE))
    sealed = cipher.encrypt_chunk_into(7, memoryview(plaintext), True, out)
    assert bytes(sealed) == cipher.encrypt_chunk(7, plaintext, True)


def test_decrypting_into_a_second_buffer_restores_the_plaintext() -> None:
    cipher = ChunkCipher(new_key(), "f1", StreamHeader.new(CHUNK))
    plaintext = os.urandom(CHUNK)
    body = memoryview(bytearray(cipher.encrypt_chunk(3, plaintext, False)))
    out = memoryview(bytearray(CHUNK))
    assert bytes(cipher.decrypt_chunk_into(3, body, False, out)) == plaintext


def test_decrypting_over_its_own_input_is_refused_on_every_release() -> None:
    """Some releases of `cryptography` decrypt in place, 51 refuses overlapping buffers:
    comity never asks, whatever release is installed."""
    cipher = ChunkCipher(new_key(), "f1", StreamHeader.new(CHUNK))
    view = memoryview(bytearray(cipher.encrypt_chunk(3, os.urandom(CHUNK), False)))
    with pytest.raises(ValueError, match="apart from the input"):
        cipher.decrypt_chunk_into(3, view, False, view[:CHUNK])


@pytest.mark.parametrize("position", [0, CHUNK // 2, CHUNK + TAG_SIZE - 1])
def test_decrypting_into_refuses_a_flipped_bit(position: int) -> None:
    cipher = ChunkCipher(new_key(), "f1", StreamHeader.new(CHUNK))
    body = bytearray(cipher.encrypt_chunk(3, os.urandom(CHUNK), False))
    body[position] ^= 0x01
    with pytest.raises(ChunkRefused, match="does not authenticate"):
        cipher.decrypt_chunk_into(3, memoryview(body), False, memoryview(bytearray(CHUNK)))


def test_decrypting_into_refuses_a_chunk_moved_or_made_final() -> None:
    cipher = ChunkCipher(new_key(), "f1", StreamHeader.new(CHUNK))
    sealed = cipher.encrypt_chunk(3, os.urandom(CHUNK), False)
    out = memoryview(bytearray(CHUNK))
    with pytest.raises(ChunkRefused):
        cipher.decrypt_chunk_into(4, sealed, False, out)
    with pytest.raises(ChunkRefused):
        cipher.decrypt_chunk_into(3, sealed, True, out)
    with pytest.raises(ChunkRefused, match="shorter than its tag"):
        cipher.decrypt_chunk_into(3, sealed[:5], True, out)


def test_a_chunk_received_into_a_pooled_buffer_is_staged_as_its_plaintext(tmp_path) -> None:
    """The receiver's path: the body lies in a buffer borrowed from the receiving pool (as the
    chunk endpoint reads it) and is staged at its offset. On the old code, which decrypted over
    the body, cryptography 51 refused with "data and buf must not overlap"."""
    from comity.evidence.buffers import RECEIVING
    from comity.evidence.receiving import ChunkPlan, stage_chunk

    cipher = ChunkCipher(new_key(), "f1", StreamHeader.new(CHUNK))
    plaintext = os.urandom(CHUNK)
    sealed = cipher.encrypt_chunk(2, plaintext, False)
    staging = tmp_path / "transfer" / "files" / "1.part"
    plan = ChunkPlan(
        transfer_id="t1",
        file_no=1,
        index=2,
        total=4,
        final=False,
        digest="",
        size=len(sealed),
        staging=staging,
        offset=2 * CHUNK,
        cipher=cipher,
    )
    with RECEIVING.borrow(len(sealed)) as body:
        body[:] = sealed
        stage_chunk(plan, body)
    assert staging.read_bytes()[2 * CHUNK :] == plaintext
