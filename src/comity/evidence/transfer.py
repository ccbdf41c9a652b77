"""The bulk of an evidence transfer: encrypted chunks pushed from sender to receiver over
HTTP, each request signed by the sending node, a few chunks in flight at once, resumable from
the first chunk the receiver has not confirmed. Memory stays at a few chunks whatever the file
size.

    GET /v1/evidence/transfers/{transfer}/status                     -> confirmed chunks per file
    PUT /v1/evidence/transfers/{transfer}/files/{n}/chunks/{index}   <- one sealed chunk

Each request carries `Comity-Evidence-Signature`: a compact JWS (`comity-evidence-chunk+jws`)
by the sending node over {op, transfer_id, file, index, sha256 of the body, sender, recipient,
at}. The receiver checks it with the sender's directory key, then authenticates the chunk with
the file's content key (from the `evidence-offer` envelope) before confirming it.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from comity.directory import service as directory_service
from comity.evidence import queries
from comity.evidence.buffers import BufferPool, read_full
from comity.evidence.chunks import TAG_SIZE, chunk_count
from comity.evidence.errors import EvidenceError
from comity.evidence.manifest import ByteProgress
from comity.evidence.models import EvidenceTransfer
from comity.evidence.offers import cipher_for
from comity.kit.clock import utc_now
from comity.kit.errors import Unauthorized
from comity.kit.jsonutil import sha256_hex
from comity.nodes.runtime import Node
from comity.protocol.envelope import format_time
from comity.protocol.signed import sign_document

SIGNATURE_HEADER = "Comity-Evidence-Signature"
CHUNK_TYP = "comity-evidence-chunk+jws"
MAX_REQUEST_AGE = timedelta(hours=1)


class TransferInterrupted(EvidenceError):
    status_code = 503
    code = "evidence_transfer_interrupted"


def sign_request(
    node: Node,
    recipient: str,
    op: str,
    transfer_id: str,
    file_no: int | None = None,
    index: int | None = None,
    body: bytes | memoryview | None = None,
) -> str:
    payload = {
        "op": op,
        "transfer_id": transfer_id,
        "file": file_no,
        "index": index,
        "sha256": sha256_hex(body) if body is not None else None,
        "sender": node.participant_id,
        "recipient": recipient,
        "at": format_time(utc_now()),
    }
    return sign_document(CHUNK_TYP, node.participant_id, payload, node.keyring.signing_key())


def check_request(
    session: Session,
    node: Node,
    token: str | None,
    transfer: EvidenceTransfer,
    op: str,
    file_no: int | None = None,
    index: int | None = None,
    body: bytes | bytearray | memoryview | None = None,
    body_sha256: str | None = None,
) -> None:
    """Refuse (401) a transfer request not signed by the transfer's sender for exactly this.
    `body_sha256`, when given, is the SHA-256 the caller computed of `body` (hashed once)."""
    if body is not None and body_sha256 is None:
        body_sha256 = sha256_hex(body)
    if not token:
        raise Unauthorized(f"send '{SIGNATURE_HEADER}': a JWS by the sending node")
    header, signed = directory_service.verify_signed_request(
        session,
        token,
        CHUNK_TYP,
        MAX_REQUEST_AGE,
        timedelta(seconds=node.settings.clock_skew_seconds),
        "transfer signature",
    )
    expected = {
        "op": op,
        "transfer_id": transfer.id,
        "file": file_no,
        "index": index,
        "sha256": body_sha256 if body is not None else None,
        "sender": transfer.peer,
        "recipient": node.participant_id,
    }
    if signed.issuer != transfer.peer or header.get("iss") != transfer.peer:
        raise Unauthorized(f"only {transfer.peer} may send chunks of transfer {transfer.id}")
    wrong = [name for name, value in expected.items() if signed.payload.get(name) != value]
    if wrong:
        raise Unauthorized(
            f"the transfer signature does not cover this request ({', '.join(wrong)} differ)"
        )


@dataclass
class _Plan:
    transfer_id: str
    peer: str
    endpoint: str
    chunk_size: int
    files: list[tuple[int, str, int, str]]  # file number, path, size, sha256


def _plan(node: Node, transfer_id: str) -> _Plan:
    with node.sessions() as session:
        transfer = queries.get_transfer(session, transfer_id)
        if transfer.direction != "out":
            raise EvidenceError(f"transfer {transfer_id} is not an outgoing transfer")
        package = queries.get_package(session, transfer.package_id)
        manifest = queries.manifest_of(package)
        endpoint = directory_service.endpoint(directory_service.current(session), transfer.peer)
        return _Plan(
            transfer.id,
            transfer.peer,
            endpoint,
            transfer.chunk_size,
            [(n, e.path, e.size, e.sha256) for n, e in enumerate(manifest.files)],
        )


def remote_status(
    node: Node, client: httpx.Client, plan: _Plan, wait_seconds: float = 0.0
) -> dict[str, Any]:
    """The receiver's confirmed chunks; waits up to `wait_seconds` for the offer to arrive."""
    deadline = time.monotonic() + wait_seconds
    url = f"{plan.endpoint}/v1/evidence/transfers/{plan.transfer_id}/status"
    while True:
        headers = {SIGNATURE_HEADER: sign_request(node, plan.peer, "status", plan.transfer_id)}
        try:
            response = client.get(
                url, headers=headers, timeout=node.settings.delivery_timeout_seconds
            )
        except httpx.HTTPError as exc:
            response = None
            reason = f"{plan.peer} cannot be reached: {type(exc).__name__}"
        if response is not None and response.status_code == 200:
            status: dict[str, Any] = response.json()
            return status
        if response is not None:
            reason = _reason(response)
            if response.status_code != 404:
                raise TransferInterrupted(f"{plan.peer} refused the status request: {reason}")
        if time.monotonic() >= deadline:
            raise TransferInterrupted(
                f"{plan.peer} does not know transfer {plan.transfer_id} yet ({reason}); the offer"
                " is delivered by the node's worker — send again later to resume"
            )
        time.sleep(0.2)


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.status_code))
    except ValueError:
        return f"HTTP {response.status_code}"


def push(
    node: Node,
    transfer_id: str,
    client: httpx.Client | None = None,
    on_bytes: ByteProgress | None = None,
    wait_seconds: float = 30.0,
    attempts: int = 3,
    in_flight: int | None = None,
) -> dict[str, Any]:
    """Send the chunks the receiver has not confirmed yet, file by file, with up to
    `in_flight` chunks (default: the `evidence_chunks_in_flight` setting) sent at once, so
    that encrypting, the network and the receiver's work overlap; returns the receiver's final
    status. Run again after an interruption: it resumes from each file's first chunk the
    receiver has not confirmed and skips those it confirmed beyond it, so no confirmed chunk
    is sent twice. Memory stays at a few chunks (the window, plus the one being encrypted)."""
    window = max(1, in_flight if in_flight is not None else node.settings.evidence_chunks_in_flight)
    own_client = client is None
    http = client or httpx.Client()
    try:
        plan = _plan(node, transfer_id)
        status = remote_status(node, http, plan, wait_seconds)
        with node.sessions() as session:
            transfer = queries.get_transfer(session, transfer_id)
            ciphers = [cipher_for(transfer, n, path) for n, path, _, _ in plan.files]
        store = queries.blobs(node)
        # Window + 1 sealed-chunk buffers (one being filled, the rest in flight) and one
        # plaintext buffer, reused for every chunk of every file.
        buffers = BufferPool(keep_bytes=(window + 2) * (plan.chunk_size + TAG_SIZE))
        sender = _Window(node, http, plan, attempts, window, on_bytes, status, buffers)
        with (
            ThreadPoolExecutor(window, thread_name_prefix="evidence-push") as pool,
            buffers.borrow(plan.chunk_size) as plain_buffer,
        ):
            for (file_no, _path, size, digest), cipher in zip(plan.files, ciphers, strict=True):
                total = chunk_count(size, plan.chunk_size)
                confirmed = status["files"][file_no]
                start = int(confirmed["confirmed"])
                ahead = {int(i) for i in confirmed.get("ahead", ())}
                done = min(size, start * plan.chunk_size) + sum(
                    _chunk_bytes(size, plan.chunk_size, i) for i in ahead if start <= i < total
                )
                if on_bytes is not None and done:
                    on_bytes(done)
                if start >= total:
                    continue
                with store.open(digest, verify=False) as source:
                    source.seek(start * plan.chunk_size)
                    position = start
                    for index in range(start, total):
                        if index in ahead:
                            continue
                        if position != index:
                            source.seek(index * plan.chunk_size)
                        length = _chunk_bytes(size, plan.chunk_size, index)
                        if read_full(source, plain_buffer[:length]) != length:
                            raise EvidenceError(
                                f"blob {digest} is shorter than its manifest entry: the store"
                                " was altered"
                            )
                        position = index + 1
                        out = buffers.take(plan.chunk_size + TAG_SIZE)
                        sealed = cipher.encrypt_chunk_into(
                            index, plain_buffer[:length], index == total - 1, memoryview(out)
                        )
                        sender.send(pool, file_no, index, sealed, out)
                        del sealed
                    sender.drain()
        return sender.status
    finally:
        if own_client:
            http.close()


def _chunk_bytes(size: int, chunk_size: int, index: int) -> int:
    """Plaintext bytes of chunk `index` of a file of `size` bytes."""
    return max(0, min(chunk_size, size - index * chunk_size))


class _Window:
    """Chunks in flight: at most `size` PUTs at once, answers collected in sending order. On a
    failure it sends nothing more, lets the chunks already in flight finish (so what the
    receiver confirmed is known to it, not half-sent) and raises the first error."""

    def __init__(
        self,
        node: Node,
        client: httpx.Client,
        plan: _Plan,
        attempts: int,
        size: int,
        on_bytes: ByteProgress | None,
        status: dict[str, Any],
        buffers: BufferPool,
    ) -> None:
        self.node, self.client, self.plan, self.attempts = node, client, plan, attempts
        self.size, self.on_bytes = size, on_bytes
        self.status = status
        self.buffers = buffers
        self._pending: deque[tuple[Future[dict[str, Any]], int, bytearray]] = deque()

    def send(
        self,
        pool: ThreadPoolExecutor,
        file_no: int,
        index: int,
        sealed: memoryview,
        buffer: bytearray,
    ) -> None:
        """Send `sealed` (a view of `buffer`, which goes back to the pool once answered)."""
        while len(self._pending) >= self.size:
            self._collect_one()
        future = pool.submit(
            _put, self.node, self.client, self.plan, file_no, index, sealed, self.attempts
        )
        self._pending.append((future, len(sealed) - TAG_SIZE, buffer))

    def drain(self) -> None:
        while self._pending:
            self._collect_one()

    def _collect_one(self) -> None:
        future, plain_size, buffer = self._pending.popleft()
        try:
            answer = future.result()
        except BaseException:
            for other, _, _ in self._pending:
                other.cancel()
            wait([other for other, _, _ in self._pending])
            self._pending.clear()
            raise
        finally:
            if future.done():
                self.buffers.give(buffer)
        # The answer that finished the transfer may come back before that of a chunk sent
        # earlier: keep the most final one.
        if answer.get("status") != "receiving" or self.status.get("status") == "receiving":
            self.status = answer
        if self.on_bytes is not None:
            self.on_bytes(plain_size)


def _put(
    node: Node,
    client: httpx.Client,
    plan: _Plan,
    file_no: int,
    index: int,
    sealed: memoryview,
    attempts: int,
) -> dict[str, Any]:
    url = f"{plan.endpoint}/v1/evidence/transfers/{plan.transfer_id}/files/{file_no}/chunks/{index}"
    reason = ""
    for attempt in range(attempts):
        headers = {
            SIGNATURE_HEADER: sign_request(
                node, plan.peer, "chunk", plan.transfer_id, file_no, index, sealed
            ),
            "content-type": "application/octet-stream",
            # With the length given, httpx sends the view as one sized body, not chunked.
            "content-length": str(len(sealed)),
        }
        try:
            response = client.put(
                url,
                # The pooled buffer's view; h11 joins it into the bytes it writes (a transient
                # copy, freed at once, unlike a body kept alive by httpx's reference cycles).
                content=(sealed,),  # type: ignore[arg-type]
                headers=headers,
                timeout=node.settings.delivery_timeout_seconds,
            )
        except httpx.HTTPError as exc:
            reason = f"{plan.peer} cannot be reached: {type(exc).__name__}"
        else:
            if response.status_code == 200:
                result: dict[str, Any] = response.json()
                return result
            reason = _reason(response)
            if response.status_code < 500:
                raise TransferInterrupted(
                    f"{plan.peer} refused chunk {index} of file {file_no}: {reason}"
                )
        time.sleep(min(2.0, 0.1 * 2**attempt))
    raise TransferInterrupted(
        f"transfer {plan.transfer_id} interrupted at chunk {index} of file {file_no} ({reason});"
        " send again to resume from the last confirmed chunk"
    )


__all__ = ["SIGNATURE_HEADER", "TransferInterrupted", "check_request", "push"]


def resume_stalled(node: Node, client: httpx.Client, older_than_seconds: float = 60.0) -> int:
    """Resume every outgoing transfer still `sending` that was started more than
    `older_than_seconds` ago (the worker's periodic step); returns how many completed.

    A transfer another process is pushing at the same moment is harmless: the receiver
    acknowledges a chunk it already confirmed without change, and confirms each chunk once."""
    cutoff = utc_now() - timedelta(seconds=older_than_seconds)
    with node.sessions() as session:
        stalled = list(
            session.execute(
                select(EvidenceTransfer.id)
                .where(
                    EvidenceTransfer.direction == "out",
                    EvidenceTransfer.status == "sending",
                    EvidenceTransfer.created_at <= cutoff,
                )
                .order_by(EvidenceTransfer.created_at)
            ).scalars()
        )
    completed = 0
    for transfer_id in stalled:
        try:
            status = push(node, transfer_id, client=client, wait_seconds=5.0)
        except (EvidenceError, httpx.HTTPError):
            continue
        if status.get("status") == "verified":
            completed += 1
    return completed
