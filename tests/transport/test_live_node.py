"""A real node process on 127.0.0.1: what a hostile body costs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from comity.accounts.roles import ROLES, conflicts
from comity.demo.directory import PARTIES, REGISTRY_ID
from comity.demo.federation import DemoNode, Federation
from comity.directory import service as directory_service
from tests.support import PASSPHRASE
from tests.transport.test_edges import post_raw, status_and_json

MiB = 1024 * 1024


@pytest.fixture
def live_node(tmp_path: Path, database_url: str) -> Iterator[tuple[Federation, DemoNode]]:
    fed = Federation(tmp_path / "fed", PASSPHRASE)
    node = fed.init_node("XA", database_url=database_url)
    try:
        fed.start("XA", "--no-worker")
        yield fed, node
    finally:
        fed.stop_all()


@pytest.fixture
def live_node_with_directory(
    tmp_path: Path, database_url: str, database_factory
) -> Iterator[tuple[Federation, DemoNode]]:
    """A node process holding a directory signed by a registry (which is not started)."""
    fed = Federation(tmp_path / "fed", PASSPHRASE)
    fed.init_node(REGISTRY_ID, database_url=database_factory())
    key = fed.registry_key()
    node = fed.init_node("XA", database_url=database_url, registry_key=key)
    parties = yaml.safe_load(PARTIES.read_text(encoding="utf-8"))
    token = fed.publish(fed.directory_yaml(parties))
    opened = fed.open("XA")
    try:
        directory_service.import_signed(opened.sessions, token, key, "test")
    finally:
        opened.close()
    try:
        fed.start("XA", "--no-worker")
        yield fed, node
    finally:
        fed.stop_all()


def memory_kib(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def reset_peak(pid: int) -> bool:
    """Start the process's peak resident size (VmHWM) afresh; False where Linux won't."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def test_a_100_mib_batch_body_costs_the_node_under_20_mib(live_node) -> None:
    """Declared (Content-Length) or not (chunked), a 100 MiB body to the unauthenticated batch
    endpoint is refused while the node holds at most its 4 MiB limit of it. A behaviour check
    of bounded memory: the node's resident size is read from /proc, no time is measured."""
    _, node = live_node
    assert node.process is not None
    pid = node.process.pid
    # Warm up: the first refusal imports and caches what every later one uses.
    status, _ = status_and_json(post_raw(node.port, "/v1/envelopes/batch", 10, chunked=False))
    assert status == 400
    before = memory_kib(pid)["VmRSS"]
    peak_known = reset_peak(pid)

    declared = post_raw(node.port, "/v1/envelopes/batch", 100 * MiB, chunked=False)
    chunked = post_raw(node.port, "/v1/envelopes/batch", 100 * MiB, chunked=True)

    assert status_and_json(declared)[0] == 413
    if chunked:  # the node may close before the client reads its answer
        assert status_and_json(chunked)[0] == 413
    after = memory_kib(pid)
    assert (after["VmRSS"] - before) * 1024 < 20 * MiB
    if peak_known:
        assert (after["VmHWM"] - before) * 1024 < 20 * MiB


def test_the_openapi_document_is_true_of_a_live_node(
    live_node_with_directory, tmp_path: Path
) -> None:
    """schemathesis against a real node process with real API tokens — one per set of roles
    one account may hold together (the separation of duties keeps the auditor and the
    administrator apart from the case roles), so every operation is reached by a caller
    allowed to use it: a bounded, derandomized run (a few examples per operation) finds no
    server error, no answer outside its documented status codes, content types, headers or
    schemas, and no 405 without a complete Allow header."""
    fed, node = live_node_with_directory
    kept_apart = ("auditor", "administrator")
    groups = [[r for r in ROLES if r not in kept_apart], *[[r] for r in kept_apart]]
    for number, roles in enumerate(groups):
        assert conflicts(roles) == [], roles
        secret = fed.token("XA", f"schemathesis-{number}", roles)
        folder = tmp_path / f"run-{number}"
        folder.mkdir()
        _schemathesis(node.url, secret, folder)


def _schemathesis(url: str, secret: str, tmp_path: Path) -> None:
    report = tmp_path / "schemathesis.json"
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            # The API deletes nothing, so there is nothing to use after it was freed; and a
            # value a schema allows may still be refused by the law or the node's state (an
            # unknown party, a kind the party does not take): 422 there is the truth.
            "use_after_free,ensure_resource_availability,positive_data_acceptance",
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            "2",
            "--seed",
            "20240611",
            "--generation-deterministic",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--no-color",
            "--header",
            f"Authorization: Bearer {secret}",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # schemathesis keeps a cache of crashes in its working folder
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.transport.schemathesis_hooks",
            "PYTHONPATH": str(Path(__file__).parents[2]),
        },
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
