"""`comity demo`: run the scenarios on real nodes; `comity demo code USER`: the current
sign-in code of a demo account, for a newcomer without an authenticator app."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="Start a registry, states and providers on 127.0.0.1 and run the scenarios.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback()
def demo(
    ctx: typer.Context,
    check: bool = typer.Option(False, "--check", help="Run headless and exit non-zero on failure"),
    base_port: int = typer.Option(0, help="First port to use (default: free ports)"),
    workdir: str = typer.Option("", help="Keep the nodes in this folder (default: temporary)"),
) -> None:
    """Start a registry, three states and a provider on 127.0.0.1 and run the scenarios; the
    nodes keep serving (web interface included) until Ctrl-C unless --check is given."""
    if ctx.invoked_subcommand is not None:
        return
    from comity.demo.run import run_demo

    raise typer.Exit(run_demo(check=check, base_port=base_port, workdir=workdir))


@app.command("code")
def code(
    user: str = typer.Argument(..., help="The demo account, e.g. xa-drafter"),
    workdir: str = typer.Option(
        "", help="The demo's folder (default: the latest demo in the temporary folder)"
    ),
    node: str = typer.Option("", help="The account's node, if the name is on several"),
) -> None:
    """Print the current six-digit sign-in code of a demo account (a code works once)."""
    from comity.demo.accounts import (
        ACCOUNTS_FILE,
        find_account,
        latest_accounts_file,
        read_accounts,
        seconds_left_in_step,
    )
    from comity.kit.errors import ComityError

    try:
        path = Path(workdir) / ACCOUNTS_FILE if workdir else latest_accounts_file()
        account = find_account(read_accounts(path), user, node)
    except ComityError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from None
    typer.echo(account.code())
    typer.echo(
        f"{account.participant} {account.username} at {account.login_url}; valid for about"
        f" {seconds_left_in_step()} s more, and once only",
        err=True,
    )


@app.command("directory")
def directory(
    out: Path | None = typer.Option(
        None, "--out", help="Write it here (default: print it)", show_default=False
    ),
) -> None:
    """The scenario parties as an unsigned directory document, for offline checks
    (`comity request check FILE --directory …`); `examples/directory/scenario.yaml` is its
    output."""
    from comity.demo.directory import example_directory_yaml

    text = example_directory_yaml()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"{out}: the scenario parties' directory", err=True)
