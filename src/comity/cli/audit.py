"""`comity audit ...`: verify the hash-chained audit log."""

from __future__ import annotations

from pathlib import Path

import typer

from comity.audit import service
from comity.cli.common import HomeOption, friendly, node_for

app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


@app.command("verify")
@friendly
def verify(home: Path | None = HomeOption) -> None:
    """Check every entry and link of the chain; exit 1 if anything was altered or removed."""
    node = node_for(home)
    with node.sessions() as session:
        entries = service.entries(session)
        problems = service.verify_chain(entries)
    if problems:
        for problem in problems:
            typer.echo(f"entry {problem.entry_id}: {problem.problem}")
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {len(entries)} entries")
