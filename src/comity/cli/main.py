"""The `comity` command, assembled: every feature's `cli.py`, plus the commands that run a node
(`run.py`) and render a request document (`documents/cli.py`), added to their groups here."""

from __future__ import annotations

import typer

from comity.accounts import cli as accounts_cli
from comity.audit import cli as audit_cli
from comity.cli import run
from comity.demo import cli as demo_cli
from comity.directory import cli as directory_cli
from comity.documents import cli as documents_cli
from comity.duty import cli as duty_cli
from comity.evidence import cli as evidence_cli
from comity.nodes import cli as nodes_cli
from comity.requests import cli as requests_cli

app = typer.Typer(
    help="comity: sovereign nodes for international cooperation against cybercrime.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
nodes_cli.app.command("serve")(run.serve)
nodes_cli.app.command("worker")(run.worker)
app.add_typer(nodes_cli.app, name="node")
app.add_typer(directory_cli.registry_app, name="registry")
app.add_typer(directory_cli.directory_app, name="directory")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(accounts_cli.app, name="user")
app.add_typer(requests_cli.app, name="request")
requests_cli.app.command("render")(documents_cli.render)
app.add_typer(evidence_cli.app, name="evidence")
app.add_typer(duty_cli.app, name="duty")
app.add_typer(demo_cli.app, name="demo")


def main() -> None:  # pragma: no cover - entry point
    app()
