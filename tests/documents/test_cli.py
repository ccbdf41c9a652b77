"""`comity request render`: writes the document; a refusal is one line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from comity.documents.cli import app
from tests.documents.conftest import example
from tests.law.conftest import scenario_directory_document

runner = CliRunner()


def _files(tmp_path: Path) -> tuple[Path, Path]:
    request = tmp_path / "preservation.json"
    request.write_text(json.dumps(example("preservation")), encoding="utf-8")
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump(scenario_directory_document()), encoding="utf-8")
    return request, directory


def test_render_writes_the_document(tmp_path: Path) -> None:
    request, directory = _files(tmp_path)
    out = tmp_path / "out.docx"
    result = runner.invoke(
        app,
        [
            *("render", str(request), "--lang", "fr", "--format", "docx", "--out", str(out)),
            *("--directory", str(directory), "--on", "2026-09-02"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:2] == b"PK"


def test_render_defaults_to_pdf_beside_the_request(tmp_path: Path) -> None:
    request, directory = _files(tmp_path)
    result = runner.invoke(
        app, ["render", str(request), "--lang", "fr", "--directory", str(directory)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "preservation.fr.pdf").read_bytes().startswith(b"%PDF")


def test_refused_language_is_one_line(tmp_path: Path) -> None:
    request, directory = _files(tmp_path)
    result = runner.invoke(
        app, ["render", str(request), "--lang", "zh", "--directory", str(directory)]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines == [
        "error: lang: Borduria (XB) accepts requests in fr, not 'zh'; "
        "render the document in one of those"
    ]
