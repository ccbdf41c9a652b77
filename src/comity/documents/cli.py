"""`comity request render`: the formal document of a drafted request, as PDF or DOCX."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer

from comity.directory.document import Directory, parse_directory
from comity.documents.errors import DocumentError
from comity.documents.render import render_request
from comity.edges.cli import HomeOption, friendly, node_directory
from comity.kit.clock import utc_now

app = typer.Typer(help="Draft requests and their formal documents.", no_args_is_help=True)


@app.callback()
def request() -> None:
    """Draft requests and their formal documents."""
    # A callback keeps `render` a subcommand when this app runs alone, as under `comity`.


def _read_request(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read the request: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise DocumentError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise DocumentError(f"{path}: a request is a JSON object")
    return raw


def _read_directory(path: Path, registry_key: Path | None) -> Directory:
    from comity.directory import service

    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read the directory: {exc.strerror}") from exc
    if text.count(".") == 2 and not any(ch.isspace() for ch in text):
        # A signed directory: contacts in a formal document must come from the registry,
        # so the signature is checked against the pinned registry key, never skipped.
        if registry_key is None:
            raise DocumentError(
                f"{path} is a signed directory: pass the registry's public key "
                "(--registry-key JWK file) to verify it"
            )
        try:
            key = json.loads(registry_key.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DocumentError(f"{registry_key}: not a readable JWK: {exc}") from exc
        return service.verify_token(text, key)
    return parse_directory(service.load_yaml(path), str(path))


@app.command("render")
@friendly
def render(
    file: Path = typer.Argument(..., help="The drafted request (JSON)", show_default=False),
    lang: str = typer.Option(..., "--lang", help="Document language: ar, zh, en, fr, ru or es"),
    fmt: str = typer.Option("pdf", "--format", help="pdf or docx"),
    out: Path | None = typer.Option(
        None, "--out", help="Where to write (default: FILE.LANG.FORMAT beside the request)"
    ),
    directory: Path | None = typer.Option(
        None,
        "--directory",
        help="Directory document (YAML) or signed directory; default: this node's current one",
    ),
    registry_key: Path | None = typer.Option(
        None, "--registry-key", help="Registry public JWK, to verify a signed --directory"
    ),
    on: str | None = typer.Option(
        None, "--on", help="Date of the document and of the law applied (default: today)"
    ),
    home: Path | None = HomeOption,
) -> None:
    """Render the formal document of a request in the requested party's language."""
    request = _read_request(file)
    when = utc_now().date()
    if on:
        try:
            when = date.fromisoformat(on)
        except ValueError as exc:
            raise DocumentError(f"--on: {on!r} is not a date (YYYY-MM-DD)") from exc
    source = _read_directory(directory, registry_key) if directory else node_directory(home)[0]
    content = render_request(request, source, lang, fmt, when)
    target = out or file.with_name(f"{file.stem}.{lang}.{fmt}")
    try:
        target.write_bytes(content)
    except OSError as exc:
        raise DocumentError(f"{target}: cannot write the document: {exc.strerror}") from exc
    typer.echo(f"{target} ({fmt}, {lang}, {len(content)} bytes)")
