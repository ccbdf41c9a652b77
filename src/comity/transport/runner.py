"""Run a node: the HTTP server and, unless disabled, its worker, until interrupted."""

from __future__ import annotations

import logging

import uvicorn

from comity.kit.settings import NodeSettings
from comity.nodes.runtime import open_node
from comity.store.migrate import upgrade
from comity.transport.app import create_app
from comity.transport.worker import Worker


def serve(settings: NodeSettings, with_worker: bool = True, log_level: str = "warning") -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    node = open_node(settings)
    upgrade(node.engine)
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
