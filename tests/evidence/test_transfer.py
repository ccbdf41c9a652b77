"""Evidence between two real nodes over HTTP (uvicorn), on SQLite and PostgreSQL: the offer in
a sealed envelope, the chunks pushed and confirmed, resumption after an interruption, tampered
chunks refused, nothing opened before it is verified and its conditions acknowledged, onward
transfer only with the supplier's consent, use reports, and the court bundle."""

from __future__ import annotations

import os
import threading
import tracemalloc
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from comity.cases import service as cases
from comity.demo.samples import preservation_request
from comity.directory import service as directory_service
from comity.evidence import consents, errors, offers, queries, transfer, use
from comity.evidence.bundle import build_bundle, verify_bundle
from comity.evidence.manifest import Acquisition
from comity.evidence.models import EvidenceChunk, EvidenceTransfer
from comity.evidence.package import seal_folder
from comity.evidence.transfer import TransferInterrupted
from comity.kit.db import transaction
from comity.messaging import delivery
from comity.nodes.runtime import Node
from comity.transport.app import create_app
from comity.transport.wiring import delivery_hooks
from tests.support import LiveServer, World

CHUNK = 64 * 1024
CONDITIONS = "Only for the proceedings named; no onward transfer without consent"
PROCEEDING = "XB criminal case 2026/114"


@dataclass
class Pair:
    world: World
    xa: Node
    xb: Node
    xc: Node
    case_id: str
    tmp: Path

    def deliver(self, node: Node) -> None:
        """Deliver everything `node` has queued, over HTTP, until nothing is left."""
        hooks = delivery_hooks()
        with httpx.Client() as client:
            while leases := delivery.lease_due(node, "evidence-test"):
                for lease in leases:
                    delivery.deliver(node, client, lease, hooks)


@pytest.fixture
def pair(world: World, tmp_path: Path) -> Iterator[Pair]:
    for node in world.nodes.values():
        node.settings.evidence_chunk_size = CHUNK
        node.settings.blob_dir = tmp_path / f"blobs-{node.participant_id}"
    apps = {p: create_app(n) for p, n in world.nodes.items()}
    servers = {p: LiveServer(app) for p, app in apps.items()}
    for server in servers.values():
        server.__enter__()
    try:
        world.republish(**{p: {"endpoint": s.url} for p, s in servers.items()})
        xa, xb = world.nodes["XA"], world.nodes["XB"]
        with transaction(xa.sessions) as session:
            case = cases.create_request(
                session, xa, "preservation", "XB", preservation_request(), "olga"
            )
            case_id = case.id
        yield Pair(world, xa, xb, world.nodes["XC"], case_id, tmp_path)
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)


def seal(pair: Pair, node: Node, files: dict[str, int | bytes], name: str = "pkg") -> Path:
    source = pair.tmp / f"{name}-source"
    for path, content in files.items():
        target = source / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            with target.open("wb") as sink:
                left = content
                while left:
                    block = os.urandom(min(left, 1024 * 1024))
                    sink.write(block)
                    left -= len(block)
    out = pair.tmp / name
    seal_folder(
        source,
        out,
        producer=node.participant_id,
        node_key=node.keyring.signing_key(),
        user=f"{node.participant_id}:officer.martin",
        description="Subscriber data and access logs",
        answers_request=pair.case_id,
        acquisition=Acquisition(
            by="XB:officer", at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC), method="export"
        ),
        conditions_on_use=CONDITIONS,
        permitted_proceedings=[PROCEEDING],
    )
    return out


def send(pair: Pair, sender: Node, folder: Path | None, to: str, package_id: str = "") -> str:
    """Import (if a folder is given) and offer; returns the transfer id; delivers the offer."""
    with transaction(sender.sessions) as session:
        if folder is not None:
            package_id = offers.import_package(session, sender, folder, "officer.martin").id
        transfer_id = offers.offer(session, sender, package_id, to, "officer.martin").id
    pair.deliver(sender)
    return transfer_id


def package_on(node: Node, package_id: str) -> tuple[str, list[str]]:
    with node.sessions() as session:
        found = queries.get_package(session, package_id)
        return found.status, [e.split(".")[0] for e in queries.chain(session, package_id)]


def actions(node: Node, package_id: str) -> list[str]:
    from comity.protocol.signed import read_unverified

    with node.sessions() as session:
        return [read_unverified(t)[1]["action"] for t in queries.chain(session, package_id)]


class FailAfter:
    """An httpx event hook that breaks the connection after `n` chunk uploads (called from the
    sender's threads: several chunks are in flight at once)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.sent: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> None:
        if request.method == "PUT":
            with self._lock:
                if len(self.sent) >= self.n:
                    raise httpx.ConnectError("network cut by the test")
                self.sent.append(request.url.path)


def test_transfer_resumes_after_interruption_and_verifies(pair: Pair) -> None:
    folder = seal(pair, pair.xa, {"disk.img": 5 * 1024 * 1024 + 123, "notes/a.txt": b"hello\n"})
    package_id = service_manifest_id(folder)
    transfer_id = send(pair, pair.xa, folder, "XB")
    assert package_on(pair.xb, package_id)[0] == "receiving"

    cut = FailAfter(30)
    with (
        httpx.Client(event_hooks={"request": [cut]}) as client,
        pytest.raises(TransferInterrupted, match="resume"),
    ):
        transfer.push(pair.xa, transfer_id, client=client, attempts=2)
    assert len(cut.sent) == 30
    with pair.xb.sessions() as session:
        stored = session.execute(select(func.count()).select_from(EvidenceChunk)).scalar_one()
        incoming = session.execute(select(EvidenceTransfer)).scalar_one()
        assert incoming.confirmed_chunks == 30
    assert stored == 30
    # A chunk sent again (a retry whose answer was lost) is acknowledged, not counted twice.
    with pair.xa.sessions() as session:
        row = queries.get_transfer(session, transfer_id)
        path = queries.manifest_of(queries.get_package(session, row.package_id)).files[0].path
        first = offers.cipher_for(row, 0, path)
    plain = (pair.tmp / "pkg-source" / path).read_bytes()[:CHUNK]
    with httpx.Client() as client:
        plan = transfer._plan(pair.xa, transfer_id)
        answer = transfer._put(
            pair.xa, client, plan, 0, 0, memoryview(first.encrypt_chunk(0, plain, False)), 1
        )
    assert answer["status"] == "receiving"
    with pair.xb.sessions() as session:
        assert session.execute(select(EvidenceTransfer)).scalar_one().confirmed_chunks == 30

    # The worker's periodic step resumes it without anyone asking.
    resumed = FailAfter(10_000)
    with httpx.Client(event_hooks={"request": [resumed]}) as client:
        assert transfer.resume_stalled(pair.xa, client, older_than_seconds=0) == 1
    chunks_total = (5 * 1024 * 1024 + 123) // CHUNK + 1 + 1
    assert len(resumed.sent) == chunks_total - 30  # no confirmed chunk sent twice
    assert len(set(resumed.sent) & set(cut.sent)) == 0

    assert package_on(pair.xb, package_id)[0] == "verified"
    assert actions(pair.xb, package_id) == ["created", "sealed", "sent", "received", "verified"]
    pair.deliver(pair.xb)  # evidence-received back to XA
    with pair.xa.sessions() as session:
        assert queries.get_transfer(session, transfer_id).status == "verified"

    # The received package, exported, verifies offline with the directory alone.
    with transaction(pair.xb.sessions) as session:
        use.open_package(session, pair.xb, package_id, "bruno", True, PROCEEDING)
        out = use.export_package(session, pair.xb, package_id, pair.tmp / "exported")
        directory = directory_service.current(session)
    from comity.evidence.verify import verify_package

    report = verify_package(out, directory)
    assert report.ok, report.problems
    assert (out / "files" / "disk.img").read_bytes() == (
        pair.tmp / "pkg-source" / "disk.img"
    ).read_bytes()


def service_manifest_id(folder: Path) -> str:
    from comity.evidence.package import load_manifest

    return load_manifest(folder).package_id


def test_tampered_or_unsigned_chunks_are_refused(pair: Pair) -> None:
    folder = seal(pair, pair.xa, {"a.bin": 3 * CHUNK})
    transfer_id = send(pair, pair.xa, folder, "XB")
    with pair.xa.sessions() as session:
        row = queries.get_transfer(session, transfer_id)
        cipher = offers.cipher_for(row, 0, "a.bin")
        endpoint = directory_service.endpoint(directory_service.current(session), "XB")
    sealed = bytearray(cipher.encrypt_chunk(0, b"\x00" * CHUNK, False))
    sealed[100] ^= 1
    url = f"{endpoint}/v1/evidence/transfers/{transfer_id}/files/0/chunks/0"

    def signed(body: bytes) -> dict[str, str]:
        token = transfer.sign_request(pair.xa, "XB", "chunk", transfer_id, 0, 0, body)
        return {transfer.SIGNATURE_HEADER: token}

    tampered = httpx.put(url, content=bytes(sealed), headers=signed(bytes(sealed)))
    assert tampered.status_code == 422
    assert tampered.json()["error"] == "evidence_chunk_refused"
    good = cipher.encrypt_chunk(0, b"\x00" * CHUNK, False)
    unsigned = httpx.put(url, content=good)
    assert unsigned.status_code == 401
    swapped = httpx.put(url, content=good, headers=signed(bytes(sealed)))
    assert swapped.status_code == 401  # the signature covers another body
    by_xc = transfer.sign_request(pair.xc, "XB", "chunk", transfer_id, 0, 0, good)
    assert (
        httpx.put(url, content=good, headers={transfer.SIGNATURE_HEADER: by_xc}).status_code == 401
    )
    with pair.xb.sessions() as session:
        assert session.execute(select(func.count()).select_from(EvidenceChunk)).scalar_one() == 0
    assert httpx.put(url, content=good, headers=signed(good)).status_code == 200


def test_open_needs_verification_and_acknowledged_conditions(pair: Pair) -> None:
    folder = seal(pair, pair.xa, {"a.bin": 2 * CHUNK + 5})
    package_id = service_manifest_id(folder)
    transfer_id = send(pair, pair.xa, folder, "XB")
    with transaction(pair.xb.sessions) as session, pytest.raises(errors.NotVerified):
        use.open_package(session, pair.xb, package_id, "bruno", True, PROCEEDING)
    transfer.push(pair.xa, transfer_id)
    with (
        transaction(pair.xb.sessions) as session,
        pytest.raises(errors.ConditionsNotAcknowledged, match="no onward transfer without consent"),
    ):
        use.open_package(session, pair.xb, package_id, "bruno", False, PROCEEDING)
    with transaction(pair.xb.sessions) as session, pytest.raises(errors.UseNotPermitted):
        use.open_package(session, pair.xb, package_id, "bruno", True, "another case")
    with transaction(pair.xb.sessions) as session, pytest.raises(errors.ConditionsNotAcknowledged):
        use.read_file(session, pair.xb, package_id, "a.bin", "bruno")
    with transaction(pair.xb.sessions) as session:
        use.open_package(session, pair.xb, package_id, "bruno", True, PROCEEDING)
        stream, _size = use.read_file(session, pair.xb, package_id, "a.bin", "bruno")
        with stream:
            assert stream.read() == (pair.tmp / "pkg-source" / "a.bin").read_bytes()
    assert actions(pair.xb, package_id)[-1] == "opened"


def test_onward_transfer_needs_consent_and_uses_are_reported(pair: Pair) -> None:
    folder = seal(pair, pair.xa, {"a.bin": CHUNK + 1})
    package_id = service_manifest_id(folder)
    transfer.push(pair.xa, send(pair, pair.xa, folder, "XB"))
    with transaction(pair.xb.sessions) as session, pytest.raises(errors.ConsentRequired):
        offers.offer(session, pair.xb, package_id, "XC", "bruno")
    with transaction(pair.xb.sessions) as session, pytest.raises(errors.ConsentRequired):
        use.disclose(session, pair.xb, package_id, "bruno", "XC police", PROCEEDING)
    with transaction(pair.xb.sessions) as session:
        consent_id = consents.request_consent(
            session, pair.xb, package_id, "bruno", "XC", "joint investigation"
        ).id
    pair.deliver(pair.xb)
    with transaction(pair.xa.sessions) as session:
        consents.decide_consent(session, pair.xa, consent_id, "olga", True, "same conditions")
    pair.deliver(pair.xa)
    onward = send(pair, pair.xb, None, "XC", package_id)
    assert transfer.push(pair.xb, onward)["status"] == "verified"
    assert package_on(pair.xc, package_id)[0] == "verified"
    assert actions(pair.xc, package_id) == [
        "created",
        "sealed",
        "sent",
        "received",
        "verified",
        "sent",
        "received",
        "verified",
    ]
    # Exculpatory disclosure goes with notice to the supplier, without consent.
    with transaction(pair.xb.sessions) as session:
        use.disclose(
            session, pair.xb, package_id, "bruno", "defence counsel", PROCEEDING, exculpatory=True
        )
    pair.deliver(pair.xb)
    with transaction(pair.xa.sessions) as session:
        use.request_use_report(session, pair.xa, package_id, "olga")
    pair.deliver(pair.xa)
    pair.deliver(pair.xb)
    with pair.xa.sessions() as session:
        (report,) = queries.use_reports_of(session, package_id)
        from comity.audit.service import entries

        assert [e.tag for e in entries(session, "evidence:notice")] == ["evidence:notice:received"]
    assert [u["use"] for u in report.uses or []] == ["onward-transfer", "disclosed-exculpatory"]


def test_court_bundle_verifies_and_detects_a_changed_file(pair: Pair) -> None:
    folder = seal(pair, pair.xa, {"a.bin": CHUNK + 7, "b.txt": b"log line\n"})
    package_id = service_manifest_id(folder)
    transfer.push(pair.xa, send(pair, pair.xa, folder, "XB"))
    target = pair.tmp / "bundle.zip"
    with transaction(pair.xa.sessions) as session:
        payload = build_bundle(session, pair.xa, pair.case_id, target, "olga", include_files=True)
        directory = directory_service.current(session)
    assert payload["packages"] == [package_id]
    names = zipfile.ZipFile(target).namelist()
    assert names[:2] == ["bundle.jws", "index.pdf"]
    assert f"evidence/{package_id}/files/a.bin" in names
    report = verify_bundle(target, directory)
    assert report.ok, report.problems

    changed = pair.tmp / "changed.zip"
    with zipfile.ZipFile(target) as source, zipfile.ZipFile(changed, "w") as sink:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("b.txt"):
                data = b"log line edited\n"
            sink.writestr(info, data)
    report = verify_bundle(changed, directory)
    assert not report.ok
    assert any("b.txt differs" in p for p in report.problems)


def peak_growth(pair: Pair, size: int, name: str) -> int:
    folder = seal(pair, pair.xa, {"big.img": size}, name=name)
    package_id = service_manifest_id(folder)
    transfer_id = send(pair, pair.xa, folder, "XB")
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        assert transfer.push(pair.xa, transfer_id)["status"] == "verified"
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert package_on(pair.xb, package_id)[0] == "verified"
    return peak


def test_memory_stays_flat_for_a_large_transfer(pair: Pair) -> None:
    for node in (pair.xa, pair.xb):
        node.settings.evidence_chunk_size = 1024 * 1024
    # A first, small transfer opens the connections and fills the caches that several chunks
    # in flight need (one database connection per concurrent chunk on PostgreSQL): a one-off
    # cost, not growth with the size moved.
    peak_growth(pair, 4 * 1024 * 1024, "warm")
    large = peak_growth(pair, 64 * 1024 * 1024, "large")
    # Sender, receiver (uvicorn, SQLAlchemy) and assembly run in this process. Chunk buffers
    # are pooled: the sender's window of sealed chunks plus the one being encrypted, and the
    # receiver's request bodies (decrypted in place), about 2 MiB per chunk in flight (4 by
    # default), plus the 4 MiB hashing buffer: about 11 MiB measured, far below the 64 MiB
    # moved. Fresh buffers per chunk held about 30 MiB (httpx keeps each request body alive
    # until the cyclic garbage collector runs).
    assert large < 16 * 1024 * 1024, f"peak traced memory grew by {large / 2**20:.1f} MiB"


def test_court_bundle_holds_anothers_files_only_for_who_opened_them(pair: Pair) -> None:
    """The receiver's bundle may carry the supplier's files only for a user who acknowledged
    the supplier's conditions by opening the package."""
    from comity.protocol.acts import Act

    with transaction(pair.xa.sessions) as session:
        cases.perform(session, pair.xa, pair.case_id, Act.SUBMIT, {}, "olga")
    pair.deliver(pair.xa)  # XB now holds the request the evidence answers
    folder = seal(pair, pair.xa, {"a.bin": 1000})
    package_id = service_manifest_id(folder)
    transfer.push(pair.xa, send(pair, pair.xa, folder, "XB"))
    with transaction(pair.xb.sessions) as session:
        case_id = queries.get_package(session, package_id).case_id
    target = pair.tmp / "bundle-xb.zip"
    with (
        transaction(pair.xb.sessions) as session,
        pytest.raises(errors.ConditionsNotAcknowledged),
    ):
        build_bundle(session, pair.xb, case_id, target, "bruno", include_files=True)
    with transaction(pair.xb.sessions) as session:
        use.open_package(session, pair.xb, package_id, "bruno", True, PROCEEDING)
    with transaction(pair.xb.sessions) as session:
        build_bundle(session, pair.xb, case_id, target, "bruno", include_files=True)
    assert f"evidence/{package_id}/files/a.bin" in zipfile.ZipFile(target).namelist()


def test_a_linked_import_stores_no_second_copy_and_the_transfer_verifies(pair: Pair) -> None:
    folder = seal(pair, pair.xa, {"disk.img": 5 * CHUNK + 17, "notes.txt": b"chain of custody"})
    image = folder / "files" / "disk.img"
    with transaction(pair.xa.sessions) as session:
        package = offers.import_package(session, pair.xa, folder, "officer.martin", link=True)
        package_id = package.id
        digest = queries.manifest_of(package).files[0].sha256
    stored = queries.blobs(pair.xa).path_for(digest)
    assert stored.stat().st_ino == image.stat().st_ino, "the image was copied, not linked"
    assert image.stat().st_mode & 0o222 == 0, "a sealed file left writable"

    transfer_id = send(pair, pair.xa, None, "XB", package_id)
    assert transfer.push(pair.xa, transfer_id)["status"] == "verified"
    assert package_on(pair.xb, package_id)[0] == "verified"


def test_a_linked_import_copies_where_no_link_can_be_made(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    folder = seal(pair, pair.xa, {"disk.img": 3 * CHUNK})

    def cross_device(source: object, target: object) -> None:  # another filesystem
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    with transaction(pair.xa.sessions) as session:
        package = offers.import_package(session, pair.xa, folder, "officer.martin", link=True)
        digest = queries.manifest_of(package).files[0].sha256
    stored = queries.blobs(pair.xa).path_for(digest)
    assert stored.read_bytes() == (folder / "files" / "disk.img").read_bytes()
    assert stored.stat().st_ino != (folder / "files" / "disk.img").stat().st_ino
