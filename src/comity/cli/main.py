"""The `comity` command."""

from __future__ import annotations

import typer

from comity.accounts import cli as accounts_cli
from comity.cli import audit, node, registry
from comity.demo import cli as demo_cli
from comity.documents import cli as documents_cli
from comity.duty import cli as duty_cli
from comity.evidence import cli as evidence_cli
from comity.requests import cli as requests_cli

app = typer.Typer(
    help="comity: sovereign nodes for international cooperation against cybercrime.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(node.app, name="node")
app.add_typer(registry.registry_app, name="registry")
app.add_typer(registry.directory_app, name="directory")
app.add_typer(audit.app, name="audit")
app.add_typer(accounts_cli.app, name="user")
app.add_typer(requests_cli.app, name="request")
requests_cli.app.command("render")(documents_cli.render)
app.add_typer(evidence_cli.app, name="evidence")
app.add_typer(duty_cli.app, name="duty")
app.add_typer(demo_cli.app, name="demo")


def main() -> None:  # pragma: no cover - entry point
    app()
