"""`comity evidence ...`: seal a folder into a package, verify a package offline, export it to
CASE/UCO. Progress bars go to stderr, and only on a terminal."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from comity.directory.document import Directory, DirectoryInvalid, parse_directory
from comity.directory.service import verify_token
from comity.edges import cli as common
from comity.evidence import consents, offers, queries, transfer, use
from comity.evidence.bundle import build_bundle, verify_bundle
from comity.evidence.case_export import export_case
from comity.evidence.manifest import Acquisition
from comity.evidence.package import folder_size, load_manifest, seal_folder
from comity.evidence.schemas import PackageView, UseView
from comity.evidence.verify import Report, verify_package
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError

app = typer.Typer(
    help="Evidence packages: seal a folder, verify a package offline, export to CASE/UCO.",
    no_args_is_help=True,
)

_COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


class BadOption(ComityError):
    code = "bad_option"


@contextmanager
def byte_progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar over `total` bytes; yields the callback that advances it."""
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.advance(task, done)


def _aware(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadOption(f"{option}: {text!r} is not a date and time (ISO 8601)") from None
    if value.tzinfo is None:
        raise BadOption(f"{option}: give a time zone, e.g. {text}Z or {text}+01:00")
    return value


def load_directory(path: Path, registry_key: Path | None) -> tuple[Directory, str]:
    """A directory from a signed token (checked against the registry key) or from plain
    YAML/JSON (taken as given, for offline checks); returns it and a note on its origin."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DirectoryInvalid(f"{path}: cannot read the directory: {exc}") from exc
    if _COMPACT_JWS.match(text):
        if registry_key is None:
            raise BadOption(
                f"{path} is a signed directory: pass the registry's public key (--registry-key)"
            )
        directory = verify_token(text, json.loads(registry_key.read_text(encoding="utf-8")))
        return directory, f"signed directory version {directory.version} of {directory.registry}"
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DirectoryInvalid(f"{path}: neither a signed directory nor YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise DirectoryInvalid(f"{path}: expected a mapping at the top level")
    now = utc_now()
    raw.setdefault("version", 1)
    raw.setdefault("issued_at", now - timedelta(days=1))
    raw.setdefault("expires_at", now + timedelta(days=1))
    raw.setdefault("registry", "unsigned")
    directory = parse_directory(raw, str(path))
    return directory, f"UNSIGNED directory file {path.name}, trusted as given"


def _print_report(report: Report, origin: str) -> None:
    typer.echo(
        f"package {report.package_id or '?'} produced by {report.producer or '?'}:"
        f" {report.files_checked} files ({report.bytes_checked} bytes) hashed,"
        f" {report.events_checked} custody events read; keys from the {origin}"
    )
    for note in report.notes:
        typer.echo(f"note: {note}")
    if report.ok:
        typer.secho(
            "OK: every file matches the manifest, the manifest and every custody event are"
            " signed by keys the directory lists, and the chain is unbroken",
            fg=typer.colors.GREEN,
        )
        return
    typer.secho(f"NOT VERIFIED: {len(report.problems)} problem(s)", fg=typer.colors.RED)
    for problem in report.problems:
        typer.echo(f"  - {problem}")


@app.command("seal")
@common.friendly
def seal(
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder to seal"),
    out: Path = typer.Option(..., "--out", help="New package folder"),
    home: Path | None = common.HomeOption,
    request: str = typer.Option(..., "--request", help="Conversation id of the request answered"),
    description: str = typer.Option(..., "--description", help="What the evidence is"),
    method: str = typer.Option(..., "--method", help="How it was acquired"),
    tool: str = typer.Option("", "--tool", help="Tool used to acquire it"),
    acquired_by: str = typer.Option("", "--acquired-by", help="Default: the user sealing"),
    acquired_at: str = typer.Option("", "--acquired-at", help="ISO 8601 with zone; default now"),
    user: str = typer.Option("", "--user", help="Who seals; default cli:<login>"),
    conditions: str = typer.Option("", "--conditions", help="Conditions on use"),
    proceedings: list[str] = typer.Option(
        [], "--proceeding", help="A proceeding the evidence may be used in (repeatable)"
    ),
    confidential: bool = typer.Option(True, "--confidential/--not-confidential"),
    move: bool = typer.Option(
        False,
        "--move",
        help="Move FOLDER's files into the package instead of copying them (same filesystem;"
        " for large images: no second copy is written)",
    ),
) -> None:
    """Copy (or with --move, move) FOLDER's files into a new package, sign its manifest and
    record its sealing."""
    at = _aware(acquired_at, "--acquired-at") if acquired_at else utc_now()
    with common.opened(home) as node, byte_progress("hashing", folder_size(folder)) as advance:
        sealer = user or f"{node.participant_id}:{common.login()}"
        manifest = seal_folder(
            folder,
            out,
            producer=node.participant_id,
            node_key=node.keyring.signing_key(),
            user=sealer,
            description=description,
            answers_request=request,
            acquisition=Acquisition(by=acquired_by or sealer, at=at, method=method, tool=tool),
            conditions_on_use=conditions,
            permitted_proceedings=proceedings,
            confidential=confidential,
            on_bytes=advance,
            move=move,
        )
    typer.echo(f"sealed package {manifest.package_id} in {out}")
    typer.echo(f"{len(manifest.files)} files, {manifest.total_size} bytes")
    typer.echo(f"Merkle root {manifest.merkle_root}")


@app.command("verify")
@common.friendly
def verify(
    package: Path = typer.Argument(..., exists=True, file_okay=False, help="Package folder"),
    directory: Path = typer.Option(
        ..., "--directory", exists=True, dir_okay=False, help="Signed directory, or YAML"
    ),
    registry_key: Path | None = typer.Option(
        None, "--registry-key", exists=True, dir_okay=False, help="Registry public JWK (JSON)"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Check files, manifest, signatures and the whole custody chain, offline. Exit 1 if
    anything is wrong."""
    loaded, origin = load_directory(directory, registry_key)
    try:
        total = load_manifest(package).total_size
    except ComityError:
        total = 0  # verify_package reports what is wrong with the manifest
    with byte_progress("verifying", total) as advance:
        report = verify_package(package, loaded, on_bytes=advance)
    if as_json:
        body: dict[str, Any] = {"ok": report.ok, "directory": origin, **report.__dict__}
        common.print_json(body)
    else:
        _print_report(report, origin)
    if not report.ok:
        raise typer.Exit(1)


@app.command("export-case")
@common.friendly
def export_case_command(
    package: Path = typer.Argument(..., exists=True, file_okay=False, help="Package folder"),
    out: Path | None = typer.Option(None, "--out", help="JSON-LD file (default: stdout)"),
) -> None:
    """Write the package's manifest and custody chain as CASE/UCO JSON-LD."""
    text = json.dumps(export_case(package), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"CASE/UCO JSON-LD written to {out}")


def _who(user: str) -> str:
    return user or common.actor()


@app.command("send")
@common.friendly
def send(
    package: str = typer.Argument(..., help="Package folder (sealed by this node) or package id"),
    to: str = typer.Option("", "--to", help="Receiving party; omit to resume --transfer"),
    transfer_id: str = typer.Option("", "--transfer", help="Resume this transfer"),
    home: Path | None = common.HomeOption,
    user: str = typer.Option("", "--user", help="Who sends; default cli:<login>"),
    wait: float = typer.Option(60.0, "--wait", help="Seconds to wait for the offer to arrive"),
    link: bool = typer.Option(
        False,
        "--link",
        help="Take the package's files into the node's store by hard link (same filesystem:"
        " no second copy of a large image; the files become read-only)",
    ),
) -> None:
    """Import a sealed package (if a folder), offer it to --to and push its encrypted chunks;
    with --transfer, resume an interrupted transfer from the last confirmed chunk."""
    with common.opened(home) as node:
        with transaction(node.sessions) as session:
            if not transfer_id:
                if not to:
                    raise BadOption("give --to PARTY, or --transfer ID to resume")
                folder = Path(package)
                if folder.is_dir():
                    with byte_progress("importing", folder_size(folder / "files")) as advance:
                        package = offers.import_package(
                            session, node, folder, _who(user), advance, link=link
                        ).id
                transfer_id = offers.offer(session, node, package, to, _who(user)).id
            total = queries.get_package(
                session, queries.get_transfer(session, transfer_id).package_id
            ).total_size
        typer.echo(f"transfer {transfer_id}: offer queued; pushing chunks")
        with byte_progress("sending", total) as advance:
            status = transfer.push(node, transfer_id, on_bytes=advance, wait_seconds=wait)
    typer.echo(f"transfer {transfer_id}: {status['status']} by the receiver")


@app.command("list")
@common.friendly
def list_command(
    home: Path | None = common.HomeOption,
    case: str = typer.Option("", "--request", help="Only packages of this request"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Packages held by the node, with their status and supplier."""
    with common.opened(home) as node, node.sessions() as session:
        views = [PackageView.of(p) for p in queries.list_packages(session, case or None)]
    if as_json:
        common.print_json([v.model_dump(mode="json") for v in views])
        return
    for v in views:
        source = f"from {v.supplier}" if v.supplier else "own"
        typer.echo(
            f"{v.id}  {v.status:<9} {source:<10} {v.files} files {v.bytes} bytes"
            f"  request {v.case_id}"
        )


@app.command("open")
@common.friendly
def open_command(
    package_id: str = typer.Argument(..., help="Package id"),
    out: Path = typer.Option(..., "--out", help="New folder to write the package to"),
    proceeding: str = typer.Option("", "--proceeding", help="Proceeding the use is for"),
    acknowledge: bool = typer.Option(
        False, "--acknowledge-conditions", help="I have read and accept the conditions on use"
    ),
    home: Path | None = common.HomeOption,
    user: str = typer.Option("", "--user", help="Who opens; default cli:<login>"),
) -> None:
    """Open a verified package into a folder (recorded in the custody chain). A package from
    another party needs --acknowledge-conditions and a permitted --proceeding."""
    with common.opened(home) as node, transaction(node.sessions) as session:
        package = use.open_package(
            session, node, package_id, _who(user), acknowledge, proceeding, {"exported": True}
        )
        with byte_progress("writing", package.total_size) as advance:
            use.export_package(session, node, package_id, out, advance)
        conditions = package.conditions
    typer.echo(f"package {package_id} written to {out}")
    if conditions:
        typer.echo(f"conditions on use: {conditions}")


@app.command("consent")
@common.friendly
def consent_command(
    package_id: str = typer.Argument("", help="Package id (to ask)"),
    recipient: str = typer.Option("", "--to", help="Ask consent to pass it to this party"),
    purpose: str = typer.Option("", "--purpose"),
    decide: str = typer.Option("", "--decide", help="Consent id to decide (supplier side)"),
    grant: bool = typer.Option(False, "--grant/--refuse"),
    conditions: str = typer.Option("", "--conditions"),
    home: Path | None = common.HomeOption,
    user: str = typer.Option("", "--user"),
) -> None:
    """Ask the supplier's consent for onward transfer, or (supplier) grant or refuse it."""
    with common.opened(home) as node, transaction(node.sessions) as session:
        if decide:
            row = consents.decide_consent(session, node, decide, _who(user), grant, conditions)
        else:
            row = consents.request_consent(
                session, node, package_id, _who(user), recipient, purpose
            )
        typer.echo(f"consent {row.id}: {row.status}")


@app.command("disclose")
@common.friendly
def disclose_command(
    package_id: str = typer.Argument(...),
    recipient: str = typer.Option(..., "--to", help="Who receives the disclosure"),
    proceeding: str = typer.Option("", "--proceeding"),
    exculpatory: bool = typer.Option(False, "--exculpatory"),
    notice: str = typer.Option("prior", "--notice", help="prior, or after if prior impossible"),
    note: str = typer.Option("", "--note"),
    home: Path | None = common.HomeOption,
    user: str = typer.Option("", "--user"),
) -> None:
    """Record a disclosure (exculpatory: the supplier is notified; otherwise consent needed)."""
    with common.opened(home) as node, transaction(node.sessions) as session:
        use.disclose(
            session,
            node,
            package_id,
            _who(user),
            recipient,
            proceeding,
            exculpatory,
            notice,
            note,
        )
    typer.echo(f"disclosure of {package_id} to {recipient} recorded")


@app.command("uses")
@common.friendly
def uses_command(
    package_id: str = typer.Argument(...),
    ask: bool = typer.Option(False, "--ask", help="Ask the holders for a use report"),
    home: Path | None = common.HomeOption,
    user: str = typer.Option("", "--user"),
) -> None:
    """This node's uses of a package and the use reports received from holders."""
    with common.opened(home) as node, transaction(node.sessions) as session:
        if ask:
            for r in use.request_use_report(session, node, package_id, _who(user)):
                typer.echo(f"use report {r.id} asked of {r.holder}")
        body = {
            "uses": [
                UseView.of(u).model_dump(mode="json") for u in queries.uses_of(session, package_id)
            ],
            "reports": [
                {"holder": r.holder, "uses": r.uses}
                for r in queries.use_reports_of(session, package_id)
            ],
        }
    common.print_json(body)


@app.command("bundle")
@common.friendly
def bundle_command(
    request: str = typer.Argument(..., help="Request (conversation) id"),
    out: Path = typer.Option(..., "--out", help="ZIP file to write"),
    include_files: bool = typer.Option(False, "--include-files", help="Add the evidence files"),
    home: Path | None = common.HomeOption,
    user: str = typer.Option("", "--user"),
) -> None:
    """Write the court bundle of a request: documents, manifests, custody, receipts, audit
    extract, a PDF index and the node's signature over every file's SHA-256."""
    with (
        common.opened(home) as node,
        transaction(node.sessions) as session,
        byte_progress("bundling", 0) as advance,
    ):
        payload = build_bundle(session, node, request, out, _who(user), include_files, advance)
    typer.echo(f"court bundle {out}: {len(payload['files'])} files, signed by {payload['node']}")


@app.command("verify-bundle")
@common.friendly
def verify_bundle_command(
    bundle: Path = typer.Argument(..., exists=True, dir_okay=False),
    directory: Path | None = typer.Option(None, "--directory", exists=True, dir_okay=False),
    registry_key: Path | None = typer.Option(None, "--registry-key", exists=True, dir_okay=False),
) -> None:
    """Check a court bundle: signature, every file's SHA-256, custody chains. Exit 1 if not."""
    loaded = load_directory(directory, registry_key)[0] if directory else None
    report = verify_bundle(bundle, loaded)
    typer.echo(f"bundle of request {report.case_id} by {report.node}: {report.files_checked} files")
    for note in report.notes:
        typer.echo(f"note: {note}")
    if report.ok:
        typer.secho("OK: every file matches the signed list", fg=typer.colors.GREEN)
        return
    typer.secho(f"NOT VERIFIED: {len(report.problems)} problem(s)", fg=typer.colors.RED)
    for problem in report.problems:
        typer.echo(f"  - {problem}")
    raise typer.Exit(1)
