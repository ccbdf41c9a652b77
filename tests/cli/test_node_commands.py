"""The administrator's commands, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from comity.audit.service import entries
from comity.cli.main import app
from comity.edges.cli import opened
from comity.transport.app import create_app
from tests.support import LiveServer

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def init(tmp_path: Path, participant: str, port: int, *extra: str) -> Path:
    home = tmp_path / participant
    code, output = invoke(
        "node", "init", "-p", participant, "--home", str(home), "--port", str(port), *extra
    )
    assert code == 0, output
    return home


def test_node_init_publish_import_and_show(tmp_path: Path) -> None:
    registry = init(tmp_path, "REGISTRY", 18700)
    key_file = tmp_path / "registry-key.json"
    code, output = invoke("registry", "key", "--home", str(registry))
    key_file.write_text(output)
    xa = init(tmp_path, "XA", 18701, "--registry-key", str(key_file))
    code, public = invoke("node", "keys", "export", "--public", "--home", str(xa))
    assert code == 0
    entry = json.loads(public)
    document = {
        "participants": [
            {
                "id": "XA",
                "name": "Xanadu",
                "type": "state",
                "endpoint": "http://127.0.0.1:18701",
                "keys": entry["keys"],
                "languages": ["en", "fr"],
            }
        ]
    }
    source = tmp_path / "directory.yaml"
    source.write_text(yaml.safe_dump(document))
    signed = tmp_path / "directory.jws"
    code, output = invoke(
        "registry", "publish", str(source), "--home", str(registry), "--out", str(signed)
    )
    assert code == 0, output
    code, output = invoke("directory", "import", str(signed), "--home", str(xa))
    assert code == 0, output
    assert "version 1 imported" in output
    code, output = invoke("directory", "show", "--home", str(xa))
    assert "Xanadu" in output
    assert "en,fr" in output


def test_directory_pulled_from_the_registry_over_http_is_audited_as_the_command_user(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("LOGNAME", "olga")
    registry = init(tmp_path, "REGISTRY", 18705)
    key_file = tmp_path / "registry-key.json"
    key_file.write_text(invoke("registry", "key", "--home", str(registry))[1])
    xa = init(tmp_path, "XA", 18706, "--registry-key", str(key_file))
    source = tmp_path / "directory.yaml"
    source.write_text(
        yaml.safe_dump({"participants": [{"id": "XA", "name": "Xanadu", "type": "state"}]})
    )
    code, output = invoke("registry", "publish", str(source), "--home", str(registry))
    assert code == 0, output
    with opened(registry) as node, LiveServer(create_app(node)) as live:
        code, output = invoke("directory", "pull", "--url", live.url, "--home", str(xa))
        assert code == 0, output
        assert "directory version 1 imported" in output
        code, output = invoke("directory", "pull", "--url", live.url, "--home", str(xa))
        assert "directory version 1 already current" in output
        with node.sessions() as session:
            published = entries(session, "registry:directory:published")
            assert [e.actor for e in published] == ["cli:olga"]
    with opened(xa) as node, node.sessions() as session:
        assert [e.actor for e in entries(session, "directory:import:accepted")] == ["cli:olga"]


def test_tampered_directory_file_gives_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    registry = init(tmp_path, "REGISTRY", 18710)
    key_file = tmp_path / "registry-key.json"
    key_file.write_text(invoke("registry", "key", "--home", str(registry))[1])
    xa = init(tmp_path, "XA", 18711, "--registry-key", str(key_file))
    source = tmp_path / "directory.yaml"
    source.write_text(
        yaml.safe_dump({"participants": [{"id": "XA", "name": "Xanadu", "type": "state"}]})
    )
    signed = tmp_path / "directory.jws"
    invoke("registry", "publish", str(source), "--home", str(registry), "--out", str(signed))
    token = signed.read_text()
    signed.write_text(token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"))
    result = runner.invoke(app, ["directory", "import", str(signed), "--home", str(xa)])
    assert result.exit_code == 2
    assert "signature invalid" in result.output
    assert "Traceback" not in result.output


def test_private_key_backup_and_messages_export(tmp_path: Path) -> None:
    xa = init(tmp_path, "XA", 18720)
    backup = tmp_path / "backup.json"
    code, output = invoke(
        "node", "keys", "export", "--private", "--out", str(backup), "--home", str(xa)
    )
    assert code == 0, output
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    keys = json.loads(backup.read_text())["keys"]
    assert {k["use"] for k in keys} == {"sig", "enc"}
    assert all("d" in k for k in keys)
    code, output = invoke(
        "node", "messages", "export", "--out", str(tmp_path / "proof"), "--home", str(xa)
    )
    assert code == 0
    assert json.loads((tmp_path / "proof" / "index.json").read_text()) == []


def test_key_rotation_from_the_command_line(tmp_path: Path, monkeypatch) -> None:
    xa = init(tmp_path, "XA", 18730)
    # The operating-system account that ran the command (getpass reads LOGNAME first).
    monkeypatch.setenv("LOGNAME", "olga")
    monkeypatch.setenv("USER", "olga")
    code, output = invoke("node", "keys", "rotate", "--use", "sig", "--home", str(xa))
    assert code == 0, output
    keys = json.loads(invoke("node", "keys", "export", "--public", "--home", str(xa))[1])["keys"]
    signing = [k for k in keys if k["use"] == "sig"]
    assert len(signing) == 2
    assert "valid_until" in signing[0]
    assert "valid_until" not in signing[1]
    with opened(xa) as node, node.sessions() as session:
        assert [e.actor for e in entries(session, "node:keys:rotated")] == ["cli:olga"]


def test_node_without_passphrase_says_what_to_set(tmp_path: Path, monkeypatch) -> None:
    xa = init(tmp_path, "XA", 18750)
    monkeypatch.delenv("COMITY_KEY_PASSPHRASE")
    code, output = invoke("node", "keys", "export", "--public", "--home", str(xa))
    assert code == 2
    assert "COMITY_KEY_PASSPHRASE" in output
