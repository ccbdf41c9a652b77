"""Chunked AES-256-GCM: round trips at the edges, every tampering refused, memory flat."""

from __future__ import annotations

import io
import os
import resource
import tracemalloc
from pathlib import Path

import pytest

from comity.evidence.chunks import (
    HEADER_SIZE,
    TAG_SIZE,
    ChunkCipher,
    StreamHeader,
    chunk_count,
    decrypt_file,
    encrypt_file,
    encrypt_stream,
    encrypted_size,
    iter_decrypted,
    new_key,
)
from comity.evidence.errors import ChunkRefused

CHUNK = 4096
MIB = 1024 * 1024


def _encrypt(content: bytes, key: bytes, chunk: int = CHUNK, file_id: str = "f1") -> bytes:
    sink = io.BytesIO()
    encrypt_stream(io.BytesIO(content), sink, key, file_id, chunk)
    return sink.getvalue()


def _decrypt(sealed: bytes, key: bytes, file_id: str = "f1") -> bytes:
    return b"".join(iter_decrypted(io.BytesIO(sealed), key, file_id))


def _chunks(sealed: bytes, chunk: int = CHUNK) -> tuple[bytes, list[bytes]]:
    body = sealed[HEADER_SIZE:]
    step = chunk + TAG_SIZE
    return sealed[:HEADER_SIZE], [body[i : i + step] for i in range(0, len(body), step)]


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * MIB + 5], ids=str
)
def test_round_trip_at_every_edge_size(size: int) -> None:
    key = new_key()
    content = os.urandom(size)

    sealed = _encrypt(content, key)

    assert len(sealed) == encrypted_size(size, CHUNK)
    assert _decrypt(sealed, key) == content


def test_file_round_trip_with_the_default_chunk_size(tmp_path: Path) -> None:
    key = new_key()
    source, sealed, opened = tmp_path / "a.bin", tmp_path / "a.enc", tmp_path / "a.out"
    source.write_bytes(os.urandom(3 * MIB + 17))

    encrypt_file(source, sealed, key, "pkg/a.bin")
    decrypt_file(sealed, opened, key, "pkg/a.bin")

    assert opened.read_bytes() == source.read_bytes()
    assert sealed.stat().st_size == encrypted_size(source.stat().st_size)


def test_swapped_chunks_are_refused() -> None:
    key = new_key()
    header, chunks = _chunks(_encrypt(os.urandom(4 * CHUNK), key))
    chunks[1], chunks[2] = chunks[2], chunks[1]

    with pytest.raises(ChunkRefused, match="chunk 1 of f1 does not authenticate"):
        _decrypt(header + b"".join(chunks), key)


def test_a_stream_truncated_at_a_chunk_boundary_is_refused() -> None:
    key = new_key()
    header, chunks = _chunks(_encrypt(os.urandom(4 * CHUNK), key))

    with pytest.raises(ChunkRefused, match="final chunk 1 of f1"):
        _decrypt(header + b"".join(chunks[:2]), key)


def test_a_stream_cut_inside_a_chunk_is_refused() -> None:
    key = new_key()
    sealed = _encrypt(os.urandom(4 * CHUNK), key)

    with pytest.raises(ChunkRefused):
        _decrypt(sealed[:-100], key)


def test_a_dropped_final_chunk_is_refused() -> None:
    key = new_key()
    header, chunks = _chunks(_encrypt(os.urandom(3 * CHUNK + 10), key))

    with pytest.raises(ChunkRefused, match="final chunk 2"):
        _decrypt(header + b"".join(chunks[:-1]), key)


def test_an_extended_stream_is_refused() -> None:
    key = new_key()
    header, chunks = _chunks(_encrypt(os.urandom(2 * CHUNK), key))

    with pytest.raises(ChunkRefused, match="chunk 1 of f1"):
        _decrypt(header + b"".join(chunks) + chunks[0], key)


@pytest.mark.parametrize("position", [0, HEADER_SIZE + 5, -1], ids=["header", "first", "tag"])
def test_a_flipped_bit_is_refused(position: int) -> None:
    key = new_key()
    sealed = bytearray(_encrypt(os.urandom(2 * CHUNK), key))
    sealed[position] ^= 0x10

    with pytest.raises(ChunkRefused):
        _decrypt(bytes(sealed), key)


def test_a_stream_for_another_file_id_or_key_is_refused() -> None:
    key = new_key()
    sealed = _encrypt(b"evidence", key, file_id="f1")

    with pytest.raises(ChunkRefused):
        _decrypt(sealed, key, file_id="f2")
    with pytest.raises(ChunkRefused):
        _decrypt(sealed, new_key(), file_id="f1")


def test_a_refused_decryption_leaves_no_output_file(tmp_path: Path) -> None:
    key = new_key()
    sealed = tmp_path / "a.enc"
    sealed.write_bytes(_encrypt(os.urandom(3 * CHUNK), key)[:-1])

    with pytest.raises(ChunkRefused):
        decrypt_file(sealed, tmp_path / "a.out", key, "f1")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.enc"]


def test_any_chunk_can_be_encrypted_alone_so_a_transfer_resumes() -> None:
    key = new_key()
    content = os.urandom(3 * CHUNK + 100)
    sealed = _encrypt(content, key)
    header, chunks = _chunks(sealed)
    receiver = ChunkCipher(key, "f1", StreamHeader.from_bytes(header))
    count = chunk_count(len(content), CHUNK)

    resumed = [receiver.decrypt_chunk(i, chunks[i], final=i == count - 1) for i in range(2, count)]

    assert b"".join(resumed) == content[2 * CHUNK :]
    sender = ChunkCipher(key, "f1", StreamHeader.from_bytes(header))
    assert sender.encrypt_chunk(2, content[2 * CHUNK : 3 * CHUNK], final=False) == chunks[2]


def test_memory_stays_flat_while_encrypting_64_mib(tmp_path: Path) -> None:
    chunk = 1 * MIB
    source = tmp_path / "big.bin"
    block = os.urandom(MIB)
    with source.open("wb") as sink:
        for _ in range(64):
            sink.write(block)
    key = new_key()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        encrypt_file(source, tmp_path / "big.enc", key, "big", chunk)
        decrypt_file(tmp_path / "big.enc", tmp_path / "big.out", key, "big")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before

    assert peak < 5 * chunk, f"traced peak {peak / MIB:.1f} MiB"
    assert rss_growth_kib < 16 * 1024, f"RSS grew by {rss_growth_kib / 1024:.1f} MiB"
    assert (tmp_path / "big.out").stat().st_size == 64 * MIB
