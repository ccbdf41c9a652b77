"""`comity registry ...` (sign and publish the directory, on the registry node) and `comity
directory ...` (import, pull and show it, on every node)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import typer

from comity.directory import service
from comity.directory.pull import pull_directory
from comity.edges.cli import HomeOption, actor, friendly, opened, print_json, settings_for
from comity.kit.db import transaction
from comity.kit.settings import read_config_file, write_config_file
from comity.nodes.keys import public_jwk

registry_app = typer.Typer(
    help="Sign and publish the directory (registry node).", no_args_is_help=True
)
directory_app = typer.Typer(help="Import, pull and show the directory.", no_args_is_help=True)


@registry_app.command("publish")
@friendly
def publish(
    source: Path = typer.Argument(..., help="The human-edited directory YAML"),
    home: Path | None = HomeOption,
    valid_days: int = typer.Option(30, help="Days until the published version expires"),
    out: Path | None = typer.Option(None, help="Also write the signed directory to this file"),
) -> None:
    """Sign the directory as the next version; nodes pull it from this node's /v1/directory."""
    raw = service.load_yaml(source)
    with opened(home) as node, transaction(node.sessions) as session:
        token = service.publish(
            session,
            raw,
            node.participant_id,
            node.keyring.signing_key(),
            valid_days,
            actor=actor(),
        )
        version = service.latest_version(session)
        signer = node.participant_id
    if out:
        out.write_text(token)
    typer.echo(
        f"directory version {version} signed by {signer}" + (f", written to {out}" if out else "")
    )


@registry_app.command("key")
@friendly
def registry_key(home: Path | None = HomeOption) -> None:
    """Print the registry's public signing key (JWK) for nodes to pin."""
    with opened(home) as node:
        print_json(public_jwk(node.keyring.signing_key()))


def _pin(home: Path | None, registry_key: Path | None) -> None:
    if registry_key is None:
        return
    folder = settings_for(home).home
    config = read_config_file(folder)
    config["registry_key"] = json.loads(registry_key.read_text())
    write_config_file(folder, config)


@directory_app.command("import")
@friendly
def import_file(
    source: Path = typer.Argument(..., help="Signed directory file (compact JWS)"),
    home: Path | None = HomeOption,
    registry_key: Path | None = typer.Option(None, help="Pin this registry public JWK first"),
) -> None:
    """Verify and import a signed directory; refuses unsigned, tampered, expired or older ones."""
    _pin(home, registry_key)
    with opened(home) as node:
        directory, changed = service.import_signed(
            node.sessions,
            source.read_text().strip(),
            node.settings.registry_key,
            str(source),
            actor=actor(),
        )
    state = "imported" if changed else "already current"
    typer.echo(
        f"directory version {directory.version} {state} "
        f"({len(directory.participants)} participants, expires {directory.expires_at})"
    )


@directory_app.command("pull")
@friendly
def pull(
    home: Path | None = HomeOption,
    url: str = typer.Option("", help="Registry URL (default: registry_url of the node)"),
    registry_key: Path | None = typer.Option(None, help="Pin this registry public JWK first"),
) -> None:
    """Fetch the directory from the registry and import it if newer."""
    _pin(home, registry_key)
    with opened(home) as node:
        with httpx.Client() as client:
            changed = pull_directory(node, client, url or None, actor=actor())
        with node.sessions() as session:
            version = service.latest_version(session)
    typer.echo(f"directory version {version} {'imported' if changed else 'already current'}")


@directory_app.command("show")
@friendly
def show(
    home: Path | None = HomeOption,
    participant: str = typer.Option("", help="Show one participant in full"),
    as_json: bool = typer.Option(False, "--json", help="Print the whole document as JSON"),
) -> None:
    """Show the current directory: participants, roles, languages, instruments."""
    with opened(home) as node, node.sessions() as session:
        directory = service.current(session, require_valid=False)
        versions = [s.version for s in service.history(session)]
    if as_json:
        print_json(directory.to_json_dict())
        return
    if participant:
        print_json(
            service.participant(directory, participant).model_dump(mode="json", by_alias=True)
        )
        return
    typer.echo(
        f"directory version {directory.version} from {directory.registry}, "
        f"issued {directory.issued_at:%Y-%m-%d}, expires {directory.expires_at:%Y-%m-%d}; "
        f"history: {versions}"
    )
    for p in directory.participants:
        instruments = ", ".join(r.instrument for r in p.instruments) or "-"
        extra = f" in {p.established_in}" if p.established_in else ""
        typer.echo(
            f"  {p.id:<6} {p.type:<8}{extra:<7} {p.name:<24} languages: "
            f"{','.join(p.languages) or '-':<8} instruments: {instruments}"
        )
    for treaty in directory.treaties:
        typer.echo(f"  treaty {treaty.id}: {' - '.join(treaty.parties)} ({treaty.instrument})")
