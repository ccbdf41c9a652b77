"""`comity request profile`: what a drafter needs to know about a requested party."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from comity.cli.main import app
from tests.requests.conftest import ON
from tests.support import World

runner = CliRunner()


def test_profile_lists_instruments_languages_reservations_contacts_and_routes(
    directory_file: Path,
) -> None:
    result = runner.invoke(
        app,
        ["request", "profile", "XB", "--as", "XA", "--directory", str(directory_file), "--on", ON],
    )
    assert result.exit_code == 0, result.output
    assert "Borduria (XB), as seen from XA on 2026-09-01" in result.stdout
    assert "accepted languages: fr" in result.stdout
    assert "reservation budapest 29(4)" in result.stdout
    assert "24/7 contact: XB 24/7-contact" in result.stdout
    assert "preservation: 24/7-contact of XB under budapest" in result.stdout


def test_profile_as_json_and_from_the_nodes_directory(scenario: World, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["request", "profile", "XC", "--home", str(tmp_path / "XA"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    profile = json.loads(result.stdout)
    assert (profile["us"], profile["party"], profile["languages"]) == ("XA", "XC", ["es", "en"])
    assert profile["routes"]["mla"]["to"] == "XC"


def test_unknown_party_or_missing_us_is_one_line(directory_file: Path) -> None:
    unknown = runner.invoke(
        app, ["request", "profile", "XZ", "--as", "XA", "--directory", str(directory_file)]
    )
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("error: requested_party: 'XZ' is not in the directory")
    no_us = runner.invoke(app, ["request", "profile", "XB", "--directory", str(directory_file)])
    assert no_us.exit_code == 2
    assert no_us.stderr.startswith("error: --as: say which party you write for")
