"""`comity duty ...`: the 24/7 desk's roster and assignments, for the node's administrator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml

from comity.duty import service
from comity.duty.service import InvalidRosterEntry
from comity.edges.cli import HomeOption, actor, friendly, opened
from comity.kit.db import transaction

app = typer.Typer(help="The 24/7 duty desk: roster and assignments.", no_args_is_help=True)

FIELDS = ("name", "email", "role", "timezone", "shift_start", "shift_end", "rank", "active")


@app.command("roster")
@friendly
def roster(
    home: Path | None = HomeOption,
    load: Path | None = typer.Option(
        None, "--load", help="YAML list of entries {user, name, email, role, timezone, ...}"
    ),
) -> None:
    """Show the roster, or add and change entries from a YAML file first."""
    entries: Any = None
    if load is not None:
        try:
            entries = yaml.safe_load(load.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidRosterEntry(f"{load}: cannot read the roster: {exc}") from exc
        if not isinstance(entries, list):
            raise InvalidRosterEntry(f"{load}: expected a list of roster entries")
    with opened(home) as node:
        if load is not None:
            with transaction(node.sessions) as session:
                for number, entry in enumerate(entries, start=1):
                    if not isinstance(entry, dict) or not entry.get("user"):
                        raise InvalidRosterEntry(f"{load}: entry {number} needs a 'user'")
                    unknown = set(entry) - {"user", *FIELDS}
                    if unknown:
                        raise InvalidRosterEntry(
                            f"{load}: entry {number}: unknown field(s) {sorted(unknown)}"
                        )
                    values = {k: v for k, v in entry.items() if k != "user"}
                    service.put_entry(session, actor(), str(entry["user"]), **values)
        with node.sessions() as session:
            rows = service.roster(session)
    if not rows:
        typer.echo("the roster is empty: urgent requests go straight to the central authority")
    for row in rows:
        state = "" if row.active else "  (inactive)"
        typer.echo(
            f"{row.rank:>4}  {row.user:<16} {row.role:<11} {row.shift_start}-{row.shift_end}"
            f" {row.timezone:<18} {row.name}{state}"
        )


@app.command("assignments")
@friendly
def assignments(
    home: Path | None = HomeOption,
    case: str = typer.Option("", help="Only this request"),
) -> None:
    """Who was given which urgent request, by when it must be acknowledged, and what became
    of it (acknowledged, escalated, handed off)."""
    with opened(home) as node, node.sessions() as session:
        rows = service.assignments(session, case or None)
    for row in rows:
        typer.echo(
            f"{row.case_id}  level {row.level}  {row.user:<16} {row.status:<12}"
            f" due {row.ack_due_at:%Y-%m-%d %H:%M} UTC"
        )
    if not rows:
        typer.echo("no assignments")
