"""`comity request ...`: the schema of a kind, check a request file, profile a party.

Exit codes of `check`: 0 when nothing blocks, 1 when something does, 2 for input comity cannot
check (unreadable or malformed file, unknown kind, party or instrument), always with one line
naming the field and, where there is one, the article. Never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer

from comity.directory import service as directory_service
from comity.directory.document import Directory, parse_directory
from comity.edges.cli import HomeOption, node_directory, print_json
from comity.kit.clock import utc_now
from comity.kit.errors import ComityError
from comity.law import checking, party_profile, request_schema
from comity.law.checking import MalformedRequest
from comity.requests.schemas import ProfileView

P = ParamSpec("P")
T = TypeVar("T")

app = typer.Typer(
    help="Request documents: schemas, checks against the law, requested-party profiles.",
    no_args_is_help=True,
)


class Format(StrEnum):
    HUMAN = "human"
    JSON = "json"


DirectoryOption = typer.Option(
    None,
    "--directory",
    help="A directory document (YAML or JSON) instead of the node's current directory",
    show_default=False,
)
OnOption = typer.Option(None, "--on", help="Date to apply the law on (default: today)")
FormatOption = typer.Option(Format.HUMAN, "--format", help="human or json")


def error_line(exc: ComityError) -> str:
    """The error as one line, with the article when the error cites one."""
    article = exc.details.get("article")
    if article and str(article) not in exc.message:
        return f"{exc.message} ({article})"
    return exc.message


def bad_input(func: Callable[P, T]) -> Callable[P, T]:
    """Report a ComityError as one line on stderr and exit 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except ComityError as exc:
            typer.secho(f"error: {error_line(exc)}", err=True, fg=typer.colors.RED)
            raise typer.Exit(2) from None

    return wrapper


def _date(value: str | None) -> date:
    if not value:
        return utc_now().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise MalformedRequest(f"--on: {value!r} is not a date (YYYY-MM-DD)", field="on") from None


def _directory(directory_file: Path | None, home: Path | None) -> tuple[Directory, str]:
    """The directory to check against: the file given, else the node's; and the node's party
    ('' with a file). Never a default file: without either, an error says what to pass."""
    if directory_file is not None:
        raw = directory_service.load_yaml(directory_file)
        return parse_directory(raw, str(directory_file)), ""
    return node_directory(home)


@app.command("schema")
@bad_input
def schema(kind: str = typer.Argument(..., help="Request kind, e.g. preservation")) -> None:
    """Print the JSON Schema of a request document of KIND (its `required` fields included)."""
    print_json(request_schema(kind))


def _render(checked: checking.Check) -> None:
    counts = {
        s: sum(1 for f in checked.findings if f.severity == s)
        for s in ("blocking", "warning", "note")
    }
    typer.echo(
        f"{checked.kind} request {checked.requesting_party} -> {checked.requested_party}, "
        f"law applied on {checked.on.isoformat()}"
    )
    if checked.applied is not None:
        applied = checked.applied
        mark = "" if applied.verified else " (unverified)"
        typer.echo(f"  instrument: {applied.instrument} [{applied.citation}]{mark}")
        typer.echo(f"    why: {applied.explanation}")
        way = applied.route
        typer.echo(f"  route: {way.channel} of {way.to} [{way.citation}]")
        for other in applied.not_applied:
            typer.echo(f"    not {other.instrument}: {other.reason}")
    for finding in checked.findings:
        cite = f" [{finding.citation}]" if finding.citation else ""
        if finding.citation and not finding.verified:
            cite += " (unverified)"
        colour = {"blocking": typer.colors.RED, "warning": typer.colors.YELLOW}.get(
            finding.severity
        )
        typer.secho(
            f"  {finding.severity.upper():<8} {finding.element}: {finding.message}{cite}",
            fg=colour,
        )
    summary = (
        f"{counts['blocking']} blocking, {counts['warning']} warning(s), {counts['note']} note(s)"
    )
    if checked.blocking:
        typer.secho(f"cannot be sent: {summary}", fg=typer.colors.RED)
    else:
        typer.secho(f"nothing blocks: {summary}", fg=typer.colors.GREEN)


@app.command("check")
@bad_input
def check(
    file: Path = typer.Argument(..., help="Request document (JSON) with a top-level 'kind'"),
    output: Format = FormatOption,
    on: str | None = OnOption,
    directory_file: Path | None = DirectoryOption,
    home: Path | None = HomeOption,
) -> None:
    """Check a request file against the law; exit 0 if nothing blocks, 1 if something does."""
    document = checking.read_document(file)
    day = _date(on)
    directory, _us = _directory(directory_file, home)
    checked = checking.check(directory, document, day)
    if output is Format.JSON:
        print_json(checked.to_dict())
    else:
        _render(checked)
    raise typer.Exit(1 if checked.blocking else 0)


def _render_profile(view: ProfileView) -> None:
    typer.echo(f"{view.name} ({view.party}), as seen from {view.us} on {view.on.isoformat()}")
    typer.echo(f"  instruments in force with us: {', '.join(view.instruments) or 'none'}")
    typer.echo(f"  accepted languages: {', '.join(view.languages) or 'none notified'}")
    for label, contact in (
        ("24/7 contact", view.contact_24_7),
        ("central authority", view.central_authority),
    ):
        if contact is None:
            typer.echo(f"  {label}: none listed")
        else:
            reach = ", ".join(x for x in (contact.email, contact.phone, contact.hours) if x)
            typer.echo(f"  {label}: {contact.name}" + (f" ({reach})" if reach else ""))
    if view.declarations:
        typer.echo("  declarations and reservations:")
        for d in view.declarations:
            typer.echo(f"    {d.type} {d.instrument} {d.article}: {d.effect_text} [{d.citation}]")
    typer.echo("  routes:")
    for kind, chosen in view.routes.items():
        copies = "".join(f"; copy to {c.role} of {c.to} [{c.citation}]" for c in chosen.copies)
        typer.echo(
            f"    {kind}: {chosen.channel} of {chosen.to} under {chosen.instrument} "
            f"[{chosen.citation}]{copies}"
        )
    for kind, why in view.unavailable.items():
        typer.echo(f"    {kind}: unavailable - {why}")


@app.command("profile")
@bad_input
def profile(
    party: str = typer.Argument(..., help="The requested party's id in the directory"),
    us: str | None = typer.Option(None, "--as", help="Our party (default: this node's)"),
    output: Format = FormatOption,
    on: str | None = OnOption,
    directory_file: Path | None = DirectoryOption,
    home: Path | None = HomeOption,
) -> None:
    """What a drafter needs to know about PARTY: instruments, languages, declarations,
    contacts and the route for each kind."""
    day = _date(on)
    directory, node_party = _directory(directory_file, home)
    requesting = us or node_party
    if not requesting:
        raise MalformedRequest(
            "--as: say which party you write for (no node to take it from)", field="as"
        )
    view = ProfileView.of(party_profile(directory, requesting, party, day), requesting, day)
    if output is Format.JSON:
        print_json(view.model_dump(mode="json"))
    else:
        _render_profile(view)
