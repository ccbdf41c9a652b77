"""The scenario parties' directory shipped in examples/directory/ is the one the demo's parties
make today, and it is a valid directory the offline commands can use."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from comity.cli.main import app
from comity.demo.directory import EXAMPLE_PATH, example_directory_yaml
from comity.directory import service as directory_service
from comity.directory.document import parse_directory

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_example_directory_is_regenerated_from_the_demo_parties() -> None:
    shipped = (ROOT / EXAMPLE_PATH).read_text(encoding="utf-8")
    assert shipped == example_directory_yaml(), (
        f"{EXAMPLE_PATH} is stale: run `comity demo directory --out {EXAMPLE_PATH}`"
    )


def test_shipped_example_directory_lists_the_demo_parties() -> None:
    directory = parse_directory(directory_service.load_yaml(ROOT / EXAMPLE_PATH))
    assert [p.id for p in directory.participants] == [
        "REGISTRY",
        "XA",
        "XB",
        "XC",
        "PB",
        "XD",
        "PD",
    ]
    assert all(not p.keys and not p.endpoint for p in directory.participants)


def test_demo_directory_command_writes_the_example(tmp_path: Path) -> None:
    out = tmp_path / "scenario.yaml"
    result = CliRunner().invoke(app, ["demo", "directory", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == example_directory_yaml()
