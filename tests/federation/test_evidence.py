"""Evidence between real node processes: the receiver is killed mid-transfer and restarted,
and the transfer resumes by itself and verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from comity.demo.federation import Federation, wait_until
from comity.evidence.models import EvidenceChunk

pytestmark = pytest.mark.slow


def chunks_on(fed: Federation, participant: str) -> int:
    node = fed.open(participant)
    try:
        with node.sessions() as session:
            return int(
                session.execute(select(func.count()).select_from(EvidenceChunk)).scalar_one()
            )
    finally:
        node.close()


def test_receiver_killed_mid_transfer_resumes_and_verifies(
    federation_factory, tmp_path: Path
) -> None:
    fed = federation_factory(evidence_chunk_size=64 * 1024, evidence_retry_seconds=1)
    fed.start("XA")
    fed.start("XB")
    fed.await_directory("XA")
    fed.await_directory("XB")
    xa = fed.officer("XA", "xa-duty")
    source = tmp_path / "seized"
    source.mkdir()
    (source / "image.bin").write_bytes(os.urandom(24 * 1024 * 1024 + 5))
    package_dir = fed.nodes["XA"].home / "import" / "package"
    sealed = subprocess.run(
        [
            sys.executable,
            "-m",
            "comity",
            "evidence",
            "seal",
            str(source),
            "--out",
            str(package_dir),
            "--home",
            str(fed.nodes["XA"].home),
            "--request",
            "case-1",
            "--description",
            "Disk image",
            "--method",
            "dd",
            "--move",  # a large image: moved into the package, not copied
        ],
        env=fed.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert sealed.returncode == 0, sealed.stderr
    for outside in ("/etc", "../../", str(tmp_path)):
        refused = xa.client.post("/v1/evidence/packages/import", json={"folder": outside})
        assert refused.status_code == 403, outside
    assert not (source / "image.bin").exists()
    package = xa.call(
        "POST", "/v1/evidence/packages/import", json={"folder": str(package_dir), "link": True}
    )
    image = package_dir / "files" / "image.bin"
    stored = [
        p
        for p in fed.nodes["XA"].home.rglob("*")
        if p.is_file() and p != image and p.stat().st_ino == image.stat().st_ino
    ]
    assert stored, "the import copied the image instead of linking it into the store"
    xa.call("POST", f"/v1/evidence/packages/{package['id']}/send", json={"to": "XB"})

    wait_until(lambda: chunks_on(fed, "XB") >= 20, 60, "the transfer did not start")
    fed.kill("XB", signal.SIGKILL)
    received_before = chunks_on(fed, "XB")
    assert received_before < 24 * 16, "the transfer finished before the kill: nothing tested"

    fed.start("XB")
    xb = fed.officer("XB", "xb-duty")
    wait_until(
        lambda: any(
            p["id"] == package["id"] and p["status"] == "verified"
            for p in xb.call("GET", "/v1/evidence/packages")
        ),
        120,
        "the transfer did not resume and verify after the receiver came back",
    )
    detail = xb.call("GET", f"/v1/evidence/packages/{package['id']}")
    assert detail["status"] == "verified"
