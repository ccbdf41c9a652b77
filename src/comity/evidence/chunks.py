"""Files encrypted in fixed-size chunks for transfer: AES-256-GCM per chunk in the STREAM
construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015), so each chunk is authenticated with
its position and whether it is the last one. Reordered, dropped, truncated, extended or altered
streams are refused; a transfer can resume from any chunk; memory stays at a few chunks.

Stream layout (all integers big-endian):

    header  = "COMITYC1" (8) || chunk_size u32 || salt (16) || nonce_prefix (7)       35 bytes
    chunk i = AES-256-GCM(key_f, nonce_i, plaintext_i, aad_i) = ciphertext_i || tag (16)

    key_f   = HKDF-SHA256(ikm=key, salt=salt, info="comity-evidence-chunk/1" || file_id, L=32)
    nonce_i = nonce_prefix || i u32 || final u8                                       12 bytes
    aad_i   = "comity-chunk/1" || len(file_id) u16 || file_id (UTF-8) || i u32 || final u8
              || chunk_size u32

Every chunk but the last holds exactly `chunk_size` plaintext bytes; the last (final = 1)
holds 0..chunk_size bytes, so an empty file is one empty final chunk.
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from comity.evidence.errors import ChunkRefused

MAGIC = b"COMITYC1"
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_CHUNK_SIZE = 64 * 1024 * 1024
MIN_CHUNK_SIZE = 1024
TAG_SIZE = 16
SALT_SIZE = 16
PREFIX_SIZE = 7
HEADER_SIZE = len(MAGIC) + 4 + SALT_SIZE + PREFIX_SIZE
MAX_CHUNKS = 2**32
KEY_INFO = b"comity-evidence-chunk/1"
AAD_LABEL = b"comity-chunk/1"

ByteProgress = Callable[[int], None]


def new_key() -> bytes:
    """A fresh random AES-256 key for one package transfer."""
    return AESGCM.generate_key(bit_length=256)


def chunk_count(size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Number of chunks for a plaintext of `size` bytes (at least one: the final chunk)."""
    return max(1, -(-size // chunk_size))


def encrypted_size(size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    return HEADER_SIZE + size + chunk_count(size, chunk_size) * TAG_SIZE


@dataclass(frozen=True)
class StreamHeader:
    chunk_size: int
    salt: bytes
    nonce_prefix: bytes

    def to_bytes(self) -> bytes:
        return MAGIC + struct.pack(">I", self.chunk_size) + self.salt + self.nonce_prefix

    @classmethod
    def new(cls, chunk_size: int = DEFAULT_CHUNK_SIZE) -> StreamHeader:
        return cls(chunk_size, secrets.token_bytes(SALT_SIZE), secrets.token_bytes(PREFIX_SIZE))

    @classmethod
    def from_bytes(cls, raw: bytes) -> StreamHeader:
        if len(raw) != HEADER_SIZE or not raw.startswith(MAGIC):
            raise ChunkRefused("not an encrypted evidence stream (bad or missing header)")
        (chunk_size,) = struct.unpack(">I", raw[8:12])
        if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise ChunkRefused(f"encrypted stream declares an unusable chunk size {chunk_size}")
        return cls(chunk_size, raw[12 : 12 + SALT_SIZE], raw[12 + SALT_SIZE :])


class ChunkCipher:
    """Encrypts and decrypts the chunks of one file; any chunk by its index, for resumption."""

    def __init__(self, key: bytes, file_id: str, header: StreamHeader) -> None:
        if len(key) != 32:
            raise ValueError("the transfer key must be 32 bytes (AES-256)")
        if not MIN_CHUNK_SIZE <= header.chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError(f"chunk size must be {MIN_CHUNK_SIZE}..{MAX_CHUNK_SIZE} bytes")
        self.header = header
        self.file_id = file_id
        encoded_id = file_id.encode("utf-8")
        if len(encoded_id) > 0xFFFF:
            raise ValueError("file id too long")
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=header.salt, info=KEY_INFO + encoded_id
        ).derive(key)
        self._aead = AESGCM(derived)
        self._aad_prefix = AAD_LABEL + struct.pack(">H", len(encoded_id)) + encoded_id

    def _nonce(self, index: int, final: bool) -> bytes:
        if not 0 <= index < MAX_CHUNKS:
            raise ChunkRefused(f"chunk index {index} is out of range")
        return self.header.nonce_prefix + struct.pack(">IB", index, int(final))

    def _aad(self, index: int, final: bool) -> bytes:
        return self._aad_prefix + struct.pack(">IBI", index, int(final), self.header.chunk_size)

    def encrypt_chunk(self, index: int, plaintext: bytes, final: bool) -> bytes:
        if len(plaintext) > self.header.chunk_size or (
            not final and len(plaintext) != self.header.chunk_size
        ):
            raise ValueError("only the final chunk may be shorter than the chunk size")
        return self._aead.encrypt(self._nonce(index, final), plaintext, self._aad(index, final))

    def encrypt_chunk_into(
        self, index: int, plaintext: memoryview, final: bool, out: memoryview
    ) -> memoryview:
        """`encrypt_chunk` into a caller's buffer (at least `len(plaintext) + TAG_SIZE` bytes,
        e.g. from a `BufferPool`); returns the view of `out` that holds the sealed chunk."""
        if len(plaintext) > self.header.chunk_size or (
            not final and len(plaintext) != self.header.chunk_size
        ):
            raise ValueError("only the final chunk may be shorter than the chunk size")
        sealed = out[: len(plaintext) + TAG_SIZE]
        self._aead.encrypt_into(
            self._nonce(index, final), plaintext, self._aad(index, final), sealed
        )
        return sealed

    def decrypt_chunk_into(
        self, index: int, sealed: bytes | bytearray | memoryview, final: bool, out: memoryview
    ) -> memoryview:
        """`decrypt_chunk` into a caller's buffer (at least `len(sealed) - TAG_SIZE` bytes);
        returns the view of `out` that holds the plaintext. Refuses as `decrypt_chunk` does;
        on refusal the buffer's content is undefined. `out` must not share memory with
        `sealed`: decrypting in place works on some releases of `cryptography` and is refused
        by others, so it is refused here on all of them."""
        if _shares_memory(sealed, out):
            raise ValueError("decrypt_chunk_into needs an output buffer apart from the input")
        if len(sealed) < TAG_SIZE:
            raise ChunkRefused(f"chunk {index} of {self.file_id} is shorter than its tag")
        plaintext = out[: len(sealed) - TAG_SIZE]
        try:
            self._aead.decrypt_into(
                self._nonce(index, final), sealed, self._aad(index, final), plaintext
            )
        except InvalidTag:
            raise self._refused(index, final) from None
        if not final and len(plaintext) != self.header.chunk_size:
            raise ChunkRefused(f"chunk {index} of {self.file_id} has the wrong length")
        return plaintext

    def _refused(self, index: int, final: bool) -> ChunkRefused:
        where = "final chunk" if final else "chunk"
        return ChunkRefused(
            f"{where} {index} of {self.file_id} does not authenticate: it was altered,"
            " moved, or the stream was truncated or extended"
        )

    def decrypt_chunk(self, index: int, sealed: bytes | bytearray, final: bool) -> bytes:
        """The plaintext of chunk `index`; refuses a chunk altered, moved or wrongly final."""
        try:
            plaintext = self._aead.decrypt(
                self._nonce(index, final), sealed, self._aad(index, final)
            )
        except InvalidTag:
            raise self._refused(index, final) from None
        if not final and len(plaintext) != self.header.chunk_size:
            raise ChunkRefused(f"chunk {index} of {self.file_id} has the wrong length")
        return plaintext


def _shares_memory(a: bytes | bytearray | memoryview, b: memoryview) -> bool:
    """Whether two buffers are views of the same object (the aliasing a caller could make with
    pooled buffers; unrelated objects never overlap)."""
    a_owner = a.obj if isinstance(a, memoryview) else a
    b_owner = b.obj
    return a_owner is b_owner


def _read_full(source: BinaryIO, size: int) -> bytes:
    """Read exactly `size` bytes unless the stream ends first."""
    parts = []
    remaining = size
    while remaining:
        block = source.read(remaining)
        if not block:
            break
        parts.append(block)
        remaining -= len(block)
    return b"".join(parts) if len(parts) != 1 else parts[0]


def encrypt_stream(
    source: BinaryIO,
    sink: BinaryIO,
    key: bytes,
    file_id: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_bytes: ByteProgress | None = None,
) -> int:
    """Encrypt `source` to `sink` (header then chunks); returns the plaintext size."""
    cipher = ChunkCipher(key, file_id, StreamHeader.new(chunk_size))
    sink.write(cipher.header.to_bytes())
    total = 0
    index = 0
    current = _read_full(source, chunk_size)
    while True:
        upcoming = _read_full(source, chunk_size) if len(current) == chunk_size else b""
        final = not upcoming
        sink.write(cipher.encrypt_chunk(index, current, final))
        total += len(current)
        if on_bytes is not None:
            on_bytes(len(current))
        if final:
            return total
        current = upcoming
        index += 1


def iter_decrypted(source: BinaryIO, key: bytes, file_id: str) -> Iterator[bytes]:
    """Plaintext chunks of an encrypted stream, each authenticated before it is yielded.

    A caller must treat what it received as unverified until the iterator ends normally: only
    then has the final chunk been authenticated and truncation ruled out.
    """
    cipher = ChunkCipher(key, file_id, StreamHeader.from_bytes(_read_full(source, HEADER_SIZE)))
    sealed_size = cipher.header.chunk_size + TAG_SIZE
    index = 0
    current = _read_full(source, sealed_size)
    while True:
        if len(current) < TAG_SIZE:
            raise ChunkRefused(
                f"encrypted stream of {file_id} ends before its final chunk: it was truncated"
            )
        upcoming = _read_full(source, sealed_size) if len(current) == sealed_size else b""
        final = not upcoming
        yield cipher.decrypt_chunk(index, current, final)
        if final:
            return
        current = upcoming
        index += 1


def encrypt_file(
    source: Path,
    target: Path,
    key: bytes,
    file_id: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_bytes: ByteProgress | None = None,
) -> int:
    """Encrypt a file to `target`; returns the plaintext size."""
    with source.open("rb") as plain, target.open("wb") as sealed:
        return encrypt_stream(plain, sealed, key, file_id, chunk_size, on_bytes)


def decrypt_file(
    source: Path,
    target: Path,
    key: bytes,
    file_id: str,
    on_bytes: ByteProgress | None = None,
) -> int:
    """Decrypt to `target`, which appears only once the whole stream has authenticated."""
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    total = 0
    try:
        with source.open("rb") as sealed, partial.open("wb") as plain:
            for block in iter_decrypted(sealed, key, file_id):
                plain.write(block)
                total += len(block)
                if on_bytes is not None:
                    on_bytes(len(block))
            plain.flush()
            os.fsync(plain.fileno())
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return total
