"""The node-side evidence commands: list, open (refused without acknowledging the
conditions), bundle and verify-bundle, on a package sent between two live nodes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from comity.cli.main import app
from comity.evidence import transfer

from .test_transfer import PROCEEDING, Pair, pair, seal, send, service_manifest_id

__all__ = ["pair"]
runner = CliRunner()


def test_list_open_bundle_and_verify_bundle(pair: Pair, tmp_path: Path) -> None:
    folder = seal(pair, pair.xa, {"a.bin": 70_000})
    package_id = service_manifest_id(folder)
    transfer.push(pair.xa, send(pair, pair.xa, folder, "XB"))
    xb = ["--home", str(pair.xb.settings.home)]
    env = {"COMITY_BLOB_DIR": str(pair.xb.settings.effective_blob_dir)}
    listed = runner.invoke(app, ["evidence", "list", *xb], env=env)
    assert listed.exit_code == 0, listed.output
    assert package_id in listed.output
    assert "from XA" in listed.output
    refused = runner.invoke(
        app, ["evidence", "open", package_id, "--out", str(tmp_path / "o"), *xb], env=env
    )
    assert refused.exit_code == 2
    assert "acknowledge" in refused.output
    opened = runner.invoke(
        app,
        [
            "evidence",
            "open",
            package_id,
            "--out",
            str(tmp_path / "o"),
            "--proceeding",
            PROCEEDING,
            "--acknowledge-conditions",
            *xb,
        ],
        env=env,
    )
    assert opened.exit_code == 0, opened.output
    assert (tmp_path / "o" / "files" / "a.bin").stat().st_size == 70_000

    xa = ["--home", str(pair.xa.settings.home)]
    env_a = {"COMITY_BLOB_DIR": str(pair.xa.settings.effective_blob_dir)}
    bundle = tmp_path / "bundle.zip"
    made = runner.invoke(
        app,
        ["evidence", "bundle", pair.case_id, "--out", str(bundle), "--include-files", *xa],
        env=env_a,
    )
    assert made.exit_code == 0, made.output
    checked = runner.invoke(app, ["evidence", "verify-bundle", str(bundle)])
    assert checked.exit_code == 0, checked.output
    assert "signature was not checked" in checked.output
