"""Run a node: the HTTP server and, unless disabled, its worker, until interrupted."""

from __future__ import annotations

import logging

import uvicorn

from comity.accounts import service as accounts
from comity.kit.settings import NodeSettings
from comity.nodes.runtime import Node, open_node
from comity.store.migrate import upgrade
from comity.transport.app import create_app
from comity.transport.worker import Worker

log = logging.getLogger("comity.node")


def warn_role_conflicts(node: Node) -> int:
    """Say at start which accounts hold roles the separation of duties keeps apart (made
    before the rule existed); they keep working until an administrator separates them."""
    with node.sessions() as session:
        found = accounts.role_conflicts(session)
    for item in found:
        log.warning(
            "separation of duties: %s %s holds %s; give the roles to different people"
            " ('comity user check' lists every such account)",
            item.kind,
            item.name,
            "; ".join(str(c) for c in item.conflicts),
        )
    return len(found)


def serve(settings: NodeSettings, with_worker: bool = True, log_level: str = "warning") -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    node = open_node(settings)
    upgrade(node.engine)
    warn_role_conflicts(node)
    worker = Worker(node) if with_worker else None
    if worker:
        worker.start()
    config = uvicorn.Config(
        create_app(node),
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    try:
        uvicorn.Server(config).run()
    finally:
        if worker:
            worker.stop()
        node.close()


def run_worker(settings: NodeSettings) -> None:
    """A worker process only (scale-out: several against one PostgreSQL)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    node = open_node(settings)
    worker = Worker(node)
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        node.close()
