"""Benchmark: evidence sealing, verification and node-to-node transfer of one large file, each
against a ceiling measured in the same run on the same bytes.

One file of random bytes (`--size-mib`, default 1024) is written once, streamed, to a temporary
folder and synced to disk (acquired evidence is on disk long before it is sealed). Phases, in
this order:

1. hash+encrypt ceiling — read the file in transfer-chunk reads, SHA-256 over the whole file
   (hashlib) and AES-256-GCM of each chunk (cryptography), in a tight loop.
2. seal-and-encrypt — `package.seal_folder(move=True)` (`comity evidence seal --move`: the
   files renamed into the package, fsynced, hashed where they lie, the manifest signed, two
   custody events), then the sealed file encrypted into transfer chunks with the project's
   `chunks.encrypt_stream` (HKDF per file, STREAM AES-256-GCM) into a sink that drops them, as
   `transfer.push` does before it sends each chunk. The two passes run one after the other, so
   the figure is conservative. Also measured, before it: the copying seal (the default, which
   writes and fsyncs a second copy as it hashes), reported as `seal_copy_ratio` and against the
   extra ceiling max(hash+encrypt, durable write of the same bytes): a copy is bounded by the
   disk, not by hashing and encryption.
3. verify — `verify.verify_package` on the package (signatures, Merkle root, custody chain,
   SHA-256 of the file); its ceiling is hashlib SHA-256 of the same file in 4 MiB reads.
4. transfer — XA (in this process) imports the package into its store and offers it to XB
   (the `evidence-offer` envelope delivered over HTTP); then, timed, `transfer.push` sends every
   chunk to XB, a real `comity node serve` subprocess on 127.0.0.1, until XB answers that the
   package is `verified` (every chunk authenticated and stored, the file reassembled and its
   SHA-256 checked against the manifest, custody recorded).
5. plain upload ceiling — the same bytes PUT in the same chunk size over the same kind of
   `httpx.Client` to a trivial FastAPI app served by uvicorn in a subprocess (this script with
   `--serve-plain`), which writes each body at its offset in a file and fsyncs at the end.

Databases: SQLite files in the temporary folder by default; `--postgres-url URL` puts XA and XB
on fresh PostgreSQL databases (dropped at the end). Peak memory: VmHWM (/proc/<pid>/status) of
this process during the node's phases (reset per phase) and of XB during the transfer;
`peak_rss_mb` is the larger, in 10^6 bytes; the whole run's ru_maxrss is printed too.
Everything (files, databases, processes) is removed at the end, also on failure or Ctrl-C.
Prints figures, then one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request  # at module level: FastAPI resolves the handler's annotations here

MIB = 1024 * 1024
SOURCE_NAME = "disk.img"


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- memory ---------------------------------------------------------------------------------


def vm_hwm_mib(pid: int | str = "self") -> float:
    """Peak resident set size of a process (VmHWM), in MiB; NaN if it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def reset_hwm(pid: int | str = "self") -> bool:
    """Reset a process's VmHWM to its current RSS (Linux `clear_refs` 5), for per-phase peaks."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def own_max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- phases ---------------------------------------------------------------------------------


class Phase:
    """Wall time and this process's peak RSS during one phase."""

    def __init__(self, name: str, size: int) -> None:
        self.name, self.size = name, size
        self.seconds = 0.0
        self.peak_mib = float("nan")

    def __enter__(self) -> Phase:
        reset_hwm()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
        self.peak_mib = vm_hwm_mib()

    @property
    def mib_per_s(self) -> float:
        return self.size / MIB / self.seconds if self.seconds else 0.0

    def show(self, note: str = "") -> None:
        print(
            f"{self.name:<22} {self.mib_per_s:8.1f} MiB/s  {self.seconds:7.2f} s"
            f"  peak RSS {self.peak_mib:6.1f} MiB{('  ' + note) if note else ''}",
            flush=True,
        )


def write_random(path: Path, size: int) -> None:
    """The evidence: random bytes, synced to disk as an acquired image would be long before
    it is sealed (so no phase pays for writing back the source's own dirty pages)."""
    with path.open("wb") as sink:
        left = size
        while left:
            block = os.urandom(min(left, 4 * MIB))
            sink.write(block)
            left -= len(block)
        sink.flush()
        os.fsync(sink.fileno())


def hash_encrypt_ceiling(path: Path, chunk_size: int) -> str:
    """SHA-256 of the whole file plus AES-256-GCM of each chunk, nothing else."""
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    prefix = secrets.token_bytes(7)
    digest = hashlib.sha256()
    with path.open("rb") as source:
        index = 0
        while block := source.read(chunk_size):
            digest.update(block)
            aead.encrypt(prefix + index.to_bytes(5, "big"), block, b"aad")
            index += 1
    return digest.hexdigest()


def durable_write(source: Path, target: Path) -> None:
    """Write the file's bytes to a new file, 4 MiB writes, then fsync: the disk's part of
    any durable copy (`dd conv=fsync`), for the extra `seal_durable_ceiling`."""
    with source.open("rb") as reader, target.open("wb") as sink:
        while block := reader.read(4 * MIB):
            sink.write(block)
        sink.flush()
        os.fsync(sink.fileno())


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process so far (all its threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def sha256_ceiling(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(4 * MIB):
            digest.update(block)
    return digest.hexdigest()


class DropSink:
    """A write-only stream that counts and forgets (the chunks go to the network in a push)."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return len(data)


# --- the plain upload server (a subprocess: this script with --serve-plain) -----------------


def serve_plain(port: int, target: Path, chunk_size: int) -> None:
    import uvicorn
    from fastapi import FastAPI
    from starlette.concurrency import run_in_threadpool

    app = FastAPI()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)

    def write(body: bytes, index: int, final: bool) -> None:
        os.pwrite(fd, body, index * chunk_size)
        if final:
            os.fsync(fd)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.put("/upload/{index}")
    async def upload(request: Request, index: int, final: bool = False) -> dict[str, int]:
        body = bytearray()  # read as the node's chunk endpoint reads, then written off-loop
        async for part in request.stream():
            body.extend(part)
        await run_in_threadpool(write, bytes(body), index, final)
        return {"index": index, "size": len(body)}

    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    finally:
        os.close(fd)


def start_plain_server(
    root: Path, log_dir: Path, chunk_size: int
) -> tuple[subprocess.Popen[bytes], str]:
    from comity.demo.federation import reserve_port, wait_until

    held = reserve_port()  # held until the server answers: no one else is given the port
    port = int(held.getsockname()[1])
    log_file = (log_dir / "plain.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve-plain",
            str(port),
            "--plain-target",
            str(root / "plain-upload.bin"),
            "--chunk-mib",
            str(chunk_size / MIB),
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    log_file.close()
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1, trust_env=False).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, 20, "the plain upload server did not start")
    except BaseException:
        stop(process)
        raise
    finally:
        held.close()
    return process, url


def plain_upload(client: httpx.Client, url: str, path: Path, size: int, chunk_size: int) -> None:
    total = max(1, -(-size // chunk_size))
    with path.open("rb") as source:
        for index in range(total):
            block = source.read(chunk_size)
            response = client.put(
                f"{url}/upload/{index}",
                params={"final": "true"} if index == total - 1 else None,
                content=block,
                headers={"content-type": "application/octet-stream"},
                timeout=60,
            )
            response.raise_for_status()


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


# --- the nodes ------------------------------------------------------------------------------


def build(fed: Any, urls: dict[str, str]) -> None:
    """Registry, XA and XB (databases per `urls`, "" = SQLite in the node's home), one signed
    directory (the demo's entries for XA and XB) imported into both."""
    from comity.demo.directory import PARTIES, REGISTRY_ID
    from comity.directory import service as directory_service

    fed.init_node(REGISTRY_ID)
    key = fed.registry_key()
    for participant in ("XA", "XB"):
        fed.init_node(participant, database_url=urls[participant], registry_key=key)
    parties = yaml.safe_load(PARTIES.read_text(encoding="utf-8"))
    parties["participants"] = [p for p in parties["participants"] if p["id"] in ("XA", "XB")]
    token = fed.publish(fed.directory_yaml(parties))
    for participant in ("XA", "XB"):
        node = fed.open(participant)
        try:
            directory_service.import_signed(node.sessions, token, key, "bench")
        finally:
            node.close()


def deliver_all(node: Any, client: httpx.Client) -> None:
    """Deliver everything `node` has queued (the offer envelope), as the worker would."""
    from comity.messaging import delivery
    from comity.transport.wiring import delivery_hooks

    hooks = delivery_hooks()
    while leases := delivery.lease_due(node, "bench-evidence"):
        for lease in leases:
            result = delivery.deliver(node, client, lease, hooks)
            if result != "delivered":
                raise RuntimeError(f"delivery of {lease.message_id} ended '{result}'")


def seal_package(node: Any, source: Path, out: Path, case_id: str, move: bool) -> Any:
    from comity.evidence.manifest import Acquisition
    from comity.evidence.package import seal_folder

    return seal_folder(
        source,
        out,
        move=move,
        producer=node.participant_id,
        node_key=node.keyring.signing_key(),
        user=f"{node.participant_id}:officer.martin",
        description="Disk image (benchmark)",
        answers_request=case_id,
        acquisition=Acquisition(
            by="XA:officer", at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC), method="imaging"
        ),
        conditions_on_use="Only for the proceedings named",
        permitted_proceedings=["XB criminal case 2026/114"],
    )


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(130)


def ratio(value: float, ceiling: float) -> float:
    return round(value / ceiling, 4) if ceiling else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=1024, help="file size (default 1024)")
    parser.add_argument(
        "--chunk-mib", type=float, default=1.0, help="transfer chunk size (node default 1 MiB)"
    )
    parser.add_argument(
        "--postgres-url", default="", help="admin URL: put XA and XB on fresh PostgreSQL DBs"
    )
    parser.add_argument(
        "--in-flight", type=int, default=0, help="chunks in flight (default: the node's setting)"
    )
    parser.add_argument("--workdir", default="", help="parent of the temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--serve-plain", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--plain-target", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    chunk_size = int(args.chunk_mib * MIB)
    if args.serve_plain:
        serve_plain(args.serve_plain, Path(args.plain_target), chunk_size)
        return 0
    if args.size_mib < 1 or not 1024 <= chunk_size <= 64 * MIB:
        parser.error("--size-mib must be ≥ 1 and --chunk-mib between 1 KiB and 64 MiB")

    signal.signal(signal.SIGTERM, _terminate)
    passphrase = secrets.token_urlsafe(24)
    os.environ["COMITY_KEY_PASSPHRASE"] = passphrase
    root = Path(tempfile.mkdtemp(prefix="comity-bench-evidence-", dir=args.workdir or None))
    size = args.size_mib * MIB
    databases: Any = None
    fed: Any = None
    node_a: Any = None
    plain_process: subprocess.Popen[bytes] | None = None
    client: httpx.Client | None = None
    summary: dict[str, Any] | None = None
    failed = False
    try:
        # Imported here so that `--serve-plain` starts without the node's modules.
        from comity.cases import service as cases
        from comity.demo.federation import Federation
        from comity.demo.samples import preservation_request
        from comity.directory import service as directory_service
        from comity.evidence import offers, queries, transfer
        from comity.evidence.chunks import encrypt_stream, new_key
        from comity.evidence.package import FILES_DIR
        from comity.evidence.verify import verify_package
        from comity.kit.db import transaction

        source = root / "source"
        source.mkdir()
        source_file = source / SOURCE_NAME
        log(f"writing {args.size_mib} MiB of random bytes to {source_file}")
        write_random(source_file, size)

        urls = {"XA": "", "XB": ""}
        if args.postgres_url:
            from envelopes import Databases  # bench/ is on sys.path when run as a script

            databases = Databases(args.postgres_url)
            urls = {p: databases.create(p.lower()) for p in urls}
        fed = Federation(root / "nodes", passphrase)
        build(fed, urls)
        fed.start("XB")
        xb_pid = fed.nodes["XB"].process.pid
        node_a = fed.open("XA")
        node_a.settings.evidence_chunk_size = chunk_size
        if args.in_flight:
            node_a.settings.evidence_chunks_in_flight = args.in_flight
        client = httpx.Client(trust_env=False)
        with transaction(node_a.sessions) as session:
            case_id = cases.create_request(
                session, node_a, "preservation", "XB", preservation_request(), "olga"
            ).id
        db = "PostgreSQL" if args.postgres_url else "SQLite"
        print(
            f"evidence: {args.size_mib} MiB file, {args.chunk_mib:g} MiB chunks, XA/XB on {db},"
            f" XB = `comity node serve` pid {xb_pid}, work in {root}",
            flush=True,
        )

        # 1. hash+encrypt ceiling, 2. seal-and-encrypt
        with Phase("ceiling hash+encrypt", size) as ceiling:
            expected = hash_encrypt_ceiling(source_file, chunk_size)
        ceiling.show("hashlib SHA-256 + AESGCM per chunk")
        copied = root / "package-copied"
        with Phase("seal (copy)", size) as seal_copy:
            seal_package(node_a, source, copied, case_id, move=False)
        shutil.rmtree(copied)
        package = root / "package"
        with Phase("seal (move)", size) as seal_only:
            manifest = seal_package(node_a, source, package, case_id, move=True)
        sealed_file = package / FILES_DIR / SOURCE_NAME
        with Phase("encrypt (transfer)", size) as encrypt_only:
            sink = DropSink()
            with sealed_file.open("rb") as sealed_stream:
                encrypt_stream(sealed_stream, sink, new_key(), "bench/disk.img", chunk_size)  # type: ignore[arg-type]
        with Phase("durable write", size) as disk:
            durable_write(sealed_file, root / "durable-write.bin")
        (root / "durable-write.bin").unlink()
        # Not a goal: what a copying seal could reach if the durable copy and the hashing+
        # encrypting overlapped perfectly (the longer of the two), to read it against this disk.
        durable_ceiling_s = max(ceiling.seconds, disk.seconds)
        if manifest.files[0].sha256 != expected:
            raise RuntimeError("the sealed file's SHA-256 differs from the source's")
        seal_seconds = seal_only.seconds + encrypt_only.seconds
        seal_mib_s = size / MIB / seal_seconds
        copy_seconds = seal_copy.seconds + encrypt_only.seconds
        copy_mib_s = size / MIB / copy_seconds
        seal_copy.show("seal_folder: copy+SHA-256+fsync, sign, custody")
        seal_only.show("seal_folder(move=True): rename, fsync, SHA-256, sign, custody")
        encrypt_only.show(f"encrypt_stream → {sink.written / MIB:.1f} MiB sealed chunks")
        print(
            f"{'seal-and-encrypt':<22} {seal_mib_s:8.1f} MiB/s  {seal_seconds:7.2f} s"
            f"  ratio to ceiling {ratio(seal_mib_s, ceiling.mib_per_s):.3f} (goal ≥ 0.8)"
            " (moved seal + encrypt, one after the other)",
            flush=True,
        )
        disk.show("write + fsync of the same bytes (dd conv=fsync), 4 MiB writes")
        print(
            f"{'copy-seal-and-encrypt':<22} {copy_mib_s:8.1f} MiB/s  {copy_seconds:7.2f} s"
            f"  ratio to ceiling {ratio(copy_mib_s, ceiling.mib_per_s):.3f}; to"
            f" max(hash+encrypt, durable write) {durable_ceiling_s / copy_seconds:.3f}"
            " (the copying seal writes a durable second copy: bounded by the disk)",
            flush=True,
        )

        # 3. verify against plain SHA-256
        with node_a.sessions() as session:
            directory = directory_service.current(session)
        with Phase("ceiling sha256", size) as sha_ceiling:
            sha256_ceiling(package / FILES_DIR / SOURCE_NAME)
        sha_ceiling.show("hashlib SHA-256, 4 MiB reads")
        with Phase("verify", size) as verify:
            report = verify_package(package, directory)
        if not report.ok:
            raise RuntimeError(f"the package does not verify: {report.problems}")
        verify.show(f"verify_package; ratio {ratio(verify.mib_per_s, sha_ceiling.mib_per_s):.3f}")

        # 4. transfer XA → XB
        with (
            Phase("import into XA store", size) as imported,
            transaction(node_a.sessions) as session,
        ):
            package_id = offers.import_package(session, node_a, package, "officer.martin").id
        imported.show("verify_package + copy into blob store (not in the ratios)")
        with transaction(node_a.sessions) as session:
            transfer_id = offers.offer(session, node_a, package_id, "XB", "officer.martin").id
        deliver_all(node_a, client)
        shutil.rmtree(package)  # keep the disk footprint down; the store holds it now
        stored_file = queries.blobs(node_a).path_for(expected)
        reset_hwm(xb_pid)
        xa_cpu, xb_cpu = cpu_seconds(), cpu_seconds(xb_pid)
        with Phase("transfer XA→XB", size) as pushed:
            status = transfer.push(node_a, transfer_id, client=client)
        xb_peak = vm_hwm_mib(xb_pid)
        xa_cpu, xb_cpu = cpu_seconds() - xa_cpu, cpu_seconds(xb_pid) - xb_cpu
        if status.get("status") != "verified":
            raise RuntimeError(f"XB did not verify the package: {status}")
        pushed.show(
            f"push until XB verified; XB peak RSS {xb_peak:.1f} MiB;"
            f" CPU s: XA {xa_cpu:.1f}, XB {xb_cpu:.1f}"
        )

        # 5. plain upload ceiling
        plain_process, plain_url = start_plain_server(root, fed.log_dir, chunk_size)
        reset_hwm(plain_process.pid)
        with Phase("ceiling plain upload", size) as plain:
            plain_upload(client, plain_url, stored_file, size, chunk_size)
        plain_peak = vm_hwm_mib(plain_process.pid)
        stop(plain_process)
        if sha256_ceiling(root / "plain-upload.bin") != expected:
            raise RuntimeError("the plain upload did not arrive intact")
        (root / "plain-upload.bin").unlink()
        plain.show(f"PUT chunks to FastAPI/uvicorn, pwrite+fsync; server peak {plain_peak:.1f} MiB")
        print(
            f"{'transfer/plain':<22} {ratio(pushed.mib_per_s, plain.mib_per_s):8.3f}"
            "        (goal ≥ 0.5)",
            flush=True,
        )

        node_phases = (seal_copy, seal_only, encrypt_only, verify, imported, pushed)
        xa_peak = max(phase.peak_mib for phase in node_phases)
        own_peak = max(own_max_rss_mib(), vm_hwm_mib())
        peak = max(xa_peak, xb_peak)
        print(
            f"peak RSS: XA in its phases {xa_peak:.1f} MiB, XB {xb_peak:.1f} MiB"
            f" (goal < 150 MB = {150e6 / MIB:.1f} MiB); this process overall {own_peak:.1f} MiB",
            flush=True,
        )
        summary = {
            "seal_ratio": ratio(seal_mib_s, ceiling.mib_per_s),
            "verify_ratio": ratio(verify.mib_per_s, sha_ceiling.mib_per_s),
            "transfer_ratio": ratio(pushed.mib_per_s, plain.mib_per_s),
            "peak_rss_mb": round(peak * MIB / 1e6, 1),
            "size_mib": args.size_mib,
            "chunk_mib": args.chunk_mib,
            "database": db.lower(),
            "seal_and_encrypt_mib_s": round(seal_mib_s, 1),
            "seal_only_mib_s": round(seal_only.mib_per_s, 1),
            "seal_copy_ratio": ratio(copy_mib_s, ceiling.mib_per_s),
            "seal_copy_mib_s": round(seal_copy.mib_per_s, 1),
            "seal_copy_to_durable_ceiling": round(durable_ceiling_s / copy_seconds, 4),
            "encrypt_only_mib_s": round(encrypt_only.mib_per_s, 1),
            "hash_encrypt_ceiling_mib_s": round(ceiling.mib_per_s, 1),
            "verify_mib_s": round(verify.mib_per_s, 1),
            "sha256_ceiling_mib_s": round(sha_ceiling.mib_per_s, 1),
            "seal_durable_ceiling_mib_s": round(size / MIB / durable_ceiling_s, 1),
            "durable_write_mib_s": round(disk.mib_per_s, 1),
            "transfer_mib_s": round(pushed.mib_per_s, 1),
            "transfer_cpu_s_sender": round(xa_cpu, 1),
            "transfer_cpu_s_receiver": round(xb_cpu, 1),
            "chunks_in_flight": node_a.settings.evidence_chunks_in_flight,
            "plain_upload_mib_s": round(plain.mib_per_s, 1),
            "import_mib_s": round(imported.mib_per_s, 1),
            "sender_peak_rss_mib": round(xa_peak, 1),
            "receiver_peak_rss_mib": round(xb_peak, 1),
            "plain_server_peak_rss_mib": round(plain_peak, 1),
            "bench_process_peak_rss_mib": round(own_peak, 1),
        }
    except BaseException:
        failed = True
        raise
    finally:
        if client is not None:
            client.close()
        stop(plain_process)
        if node_a is not None:
            node_a.close()
        if fed is not None:
            fed.stop_all()
            if failed:
                _show_log_tail(fed.log_dir / "XB.log")
        if databases is not None:
            databases.drop_all()
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if summary is not None:
        print(json.dumps(summary), flush=True)
    return 1 if failed else 0


def _show_log_tail(path: Path, lines: int = 30) -> None:
    if path.exists():
        tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        log(f"--- last lines of {path}")
        for line in tail:
            log(line)


if __name__ == "__main__":
    sys.exit(main())
