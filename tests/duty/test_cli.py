"""`comity duty`: the administrator loads the roster from a file and reads the assignments."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from comity.cli.main import app

runner = CliRunner()


def test_roster_is_loaded_from_yaml_and_shown(tmp_path: Path) -> None:
    home = tmp_path / "xd"
    assert runner.invoke(app, ["node", "init", "-p", "XD", "--home", str(home)]).exit_code == 0
    roster = tmp_path / "roster.yaml"
    roster.write_text(
        "- {user: xd-duty-1, name: Layla, role: officer, timezone: Asia/Dubai,"
        " shift_start: '08:00', shift_end: '20:00', rank: 1}\n"
        "- {user: xd-supervisor, name: Omar, role: supervisor, timezone: Asia/Dubai}\n"
    )
    result = runner.invoke(app, ["duty", "roster", "--load", str(roster), "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert "xd-duty-1" in result.output
    assert "08:00-20:00" in result.output
    assert "Asia/Dubai" in result.output
    result = runner.invoke(app, ["duty", "assignments", "--home", str(home)])
    assert result.exit_code == 0
    assert "no assignments" in result.output


def test_bad_roster_entry_names_the_field(tmp_path: Path) -> None:
    home = tmp_path / "xd"
    runner.invoke(app, ["node", "init", "-p", "XD", "--home", str(home)])
    roster = tmp_path / "roster.yaml"
    roster.write_text("- {user: a, timezone: Mars/Olympus}\n")
    result = runner.invoke(app, ["duty", "roster", "--load", str(roster), "--home", str(home)])
    assert result.exit_code == 2
    assert "time zone" in result.output
    roster.write_text("- {user: a, shoe_size: 44}\n")
    result = runner.invoke(app, ["duty", "roster", "--load", str(roster), "--home", str(home)])
    assert result.exit_code == 2
    assert "shoe_size" in result.output
