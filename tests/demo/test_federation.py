"""The federation harness's ports: a node created without a port gets one that no one else can
take until the node answers on it, held again while the node is stopped, and a node that
cannot bind its port fails at once with the end of its log instead of a minute later."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from comity.demo.directory import REGISTRY_ID
from comity.demo.federation import DemoFailed, Federation
from tests.support import PASSPHRASE


def plain_bind_refused(port: int) -> bool:
    """Whether a process asking for `port` as another harness would (no SO_REUSEADDR) is
    refused it."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


@pytest.mark.slow  # two starts of a node process
def test_a_node_port_is_held_until_the_node_answers_and_while_it_is_stopped(
    tmp_path: Path,
) -> None:
    fed = Federation(tmp_path, PASSPHRASE)
    try:
        node = fed.init_node(REGISTRY_ID)
        assert plain_bind_refused(node.port)
        fed.start(REGISTRY_ID)
        health = httpx.get(f"{node.url}/v1/health", timeout=5).json()
        assert health["participant"] == REGISTRY_ID
        fed.kill(REGISTRY_ID, signal.SIGKILL)
        assert plain_bind_refused(node.port)
        fed.start(REGISTRY_ID)
        assert httpx.get(f"{node.url}/v1/health", timeout=5).status_code == 200
    finally:
        fed.stop_all()
    assert not plain_bind_refused(node.port)


def test_a_node_that_cannot_bind_its_port_fails_at_once_with_its_log(tmp_path: Path) -> None:
    fed = Federation(tmp_path, PASSPHRASE)
    squatter = socket.socket()
    try:
        node = fed.init_node(REGISTRY_ID)
        # A server of another program that got in anyway (it sets SO_REUSEADDR, as servers do).
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", node.port))
        squatter.listen()
        began = time.monotonic()
        with pytest.raises(DemoFailed) as failed:
            fed.start(REGISTRY_ID, timeout=120)
        assert time.monotonic() - began < 60
        message = str(failed.value)
        assert f"{REGISTRY_ID} stopped (exit code " in message
        assert f"before answering on port {node.port}" in message
        assert "address already in use" in message.lower()
    finally:
        squatter.close()
        fed.stop_all()
