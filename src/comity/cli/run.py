"""`comity node serve` and `comity node worker`: run a node. They start the whole HTTP
application and the worker (`transport/runner.py`), which assemble every feature, so they
belong to the assembly, not to `nodes/cli.py` (a feature's edge importing the transport would
close a circle: the transport mounts every feature's API). `cli/main.py` adds them to
`comity node`."""

from __future__ import annotations

from pathlib import Path

import typer

from comity.edges.cli import HomeOption, friendly, settings_for


@friendly
def serve(
    home: Path | None = HomeOption,
    worker: bool = typer.Option(True, help="Also run the delivery worker in this process"),
) -> None:
    """Run the node's HTTP server (and worker) until interrupted."""
    # Imported when a node is run, not by every command: the whole application takes seconds
    # to import. (No circle is hidden: the import graph counts this import.)
    from comity.transport import runner

    runner.serve(settings_for(home), with_worker=worker)


@friendly
def worker(home: Path | None = HomeOption) -> None:
    """Run a delivery and timer worker only (several may share one PostgreSQL)."""
    from comity.transport import runner

    runner.run_worker(settings_for(home))
