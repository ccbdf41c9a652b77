"""The commands the guides show are true: every `comity` command block in `README.md`,
`docs/*.md` and `src/comity/**/README.md` says whether it is run, and the ones that can run here
do, with exit 0 and the output the guide shows.

The convention (also in docs/conventions.md): the line before a fenced block holding a line
that starts with `comity` or `.venv/bin/comity` is one of

- `<!-- commands: offline -->` — run with no node and no network, in a fresh folder holding a
  copy of `examples/`;
- `<!-- commands: node -->` — run in a fresh folder against nodes this test makes: the given
  inputs a guide says come from elsewhere (a registry node at `/srv/comity/registry`, its
  `registry-key.json`, the operator's `directory.yaml` of the scenario parties, a user's
  `password.txt`) and, unless the
  guide's blocks make it first, node XA at `/srv/comity/xa`, which is `COMITY_HOME` and `NODE`.
  Paths under `/srv/comity/` are mapped into the folder;
- `<!-- commands: not run — REASON -->` — not run, and the reason says why (a running node or
  demo, the network, a synopsis with placeholders).

A block marked `<!-- output -->` shows output: each of its lines is in what the commands block
before it printed. The blocks of one file run in order in one folder (a guide is a sequence);
`export NAME=VALUE` sets a variable unless the value is a placeholder (`…`); `< FILE` feeds a
file; `> FILE` writes the output to one; a command that asks for a password gets one.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from comity.cli.main import app
from comity.demo.directory import scenario_parties

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "src" / "comity").rglob("README.md"),
    ]
)
MARKER = re.compile(r"^<!--\s*(commands:\s*(offline|node|not run)|output)\b\s*(.*?)\s*-->$")
FENCE = re.compile(r"^\s*```(\w*)\s*$")
COMMAND = re.compile(r"^\s*(\.venv/bin/)?comity(\s|$)")
PASSPHRASE = "doc-commands-passphrase"
PASSWORD = "correct-horse-battery-77"
NODE_HOME = "/srv/comity/xa"
REGISTRY_HOME = "/srv/comity/registry"


@dataclass
class Block:
    document: Path
    line: int
    text: str
    kind: str = ""  # offline, node, not run, output or "" (unmarked)
    reason: str = ""
    output: Block | None = None

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"

    @property
    def commands(self) -> list[str]:
        """The block's lines with continuations joined."""
        joined: list[str] = []
        pending = ""
        for raw in self.text.splitlines():
            line = pending + raw.strip()
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            if line and not line.startswith("#"):
                joined.append(line)
        return joined

    @property
    def has_comity(self) -> bool:
        return any(COMMAND.match(line) for line in self.text.splitlines())


def blocks(document: Path) -> list[Block]:
    """The fenced blocks of a document, each with the marker on the line before it."""
    found: list[Block] = []
    lines = document.read_text(encoding="utf-8").splitlines()
    previous = ""
    index = 0
    while index < len(lines):
        if FENCE.match(lines[index]):
            start = index
            index += 1
            body: list[str] = []
            while index < len(lines) and not FENCE.match(lines[index]):
                body.append(lines[index])
                index += 1
            block = Block(document, start + 1, "\n".join(body))
            marker = MARKER.match(previous.strip())
            if marker:
                block.kind = marker.group(2) or "output"
                block.reason = marker.group(3).lstrip("—-: ").strip()
            if block.kind == "output" and found:
                found[-1].output = block
            found.append(block)
            previous = ""
        elif lines[index].strip():
            previous = lines[index]
        index += 1
    return found


ALL_BLOCKS = [b for d in DOCUMENTS for b in blocks(d)]
RUN_KINDS = ("offline", "node")


def test_every_block_of_comity_commands_says_whether_it_runs() -> None:
    unmarked = [
        b.where for b in ALL_BLOCKS if b.has_comity and b.kind not in (*RUN_KINDS, "not run")
    ]
    assert not unmarked, f"mark these blocks (see {__name__}'s docstring): {unmarked}"
    unexplained = [b.where for b in ALL_BLOCKS if b.kind == "not run" and not b.reason]
    assert not unexplained, f"say why these blocks are not run: {unexplained}"


def test_a_run_block_holds_only_commands_this_test_can_run() -> None:
    runnable = re.compile(r"^(export\s|(\.venv/bin/)?comity\s)")
    odd = [
        f"{b.where}: {line}"
        for b in ALL_BLOCKS
        if b.kind in RUN_KINDS
        for line in b.commands
        if not runnable.match(line)
    ]
    assert not odd, odd


@dataclass
class Workspace:
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    runner: CliRunner = field(default_factory=CliRunner)

    def path(self, token: str) -> str:
        if token == "NODE":
            token = NODE_HOME
        if token.startswith("/srv/comity/"):
            return str(self.root / token.lstrip("/"))
        return token

    def invoke(self, args: list[str], stdin: str | None = None) -> Result:
        prompt = stdin if stdin is not None else f"{PASSWORD}\n{PASSWORD}\n"
        return self.runner.invoke(app, args, input=prompt, env=self.env, catch_exceptions=False)

    def run(self, line: str) -> Result | None:
        """One documented command line; None for an `export` line."""
        tokens = shlex.split(line, comments=True)
        if tokens[0] == "export":
            name, _, value = tokens[1].partition("=")
            if "…" not in value:
                self.env[name] = value
            return None
        args: list[str] = []
        stdin: str | None = None
        stdout_file: Path | None = None
        rest = iter(tokens[1:])
        for token in rest:
            if token == "<":
                stdin = (self.root / next(rest)).read_text(encoding="utf-8")
            elif token == ">":
                stdout_file = self.root / next(rest)
            else:
                args.append(self.path(token))
        result = self.invoke(args, stdin)
        if stdout_file is not None:
            stdout_file.write_text(result.stdout, encoding="utf-8")
        return result

    def given_nodes(self) -> None:
        """The inputs a guide says come from elsewhere: the registry's node and key, and the
        operator's directory file of the scenario parties."""
        if (self.root / "registry-key.json").exists():
            return
        self.init("REGISTRY", REGISTRY_HOME)
        key = self.invoke(["registry", "key", "--home", self.path(REGISTRY_HOME)])
        assert key.exit_code == 0, key.output
        (self.root / "registry-key.json").write_text(key.stdout, encoding="utf-8")
        (self.root / "password.txt").write_text(f"{PASSWORD}\n", encoding="utf-8")
        (self.root / "directory.yaml").write_text(
            yaml.safe_dump(scenario_parties(), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )

    def init(self, participant: str, home: str) -> None:
        made = self.invoke(
            ["node", "init", "--participant", participant, "--home", self.path(home)]
        )
        assert made.exit_code == 0, made.output


def _squash(text: str) -> str:
    return " ".join(text.split())


def shows(printed: str, expected: str) -> bool:
    """Whether a line the guide shows is in the output (`…` stands for anything)."""
    pattern = ".*?".join(re.escape(_squash(part)) for part in expected.split("…"))
    return any(re.search(pattern, _squash(line)) for line in printed.splitlines())


RUN_DOCUMENTS = [d for d in DOCUMENTS if any(b.kind in RUN_KINDS for b in blocks(d))]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    for name in list(os.environ):
        if name.startswith("COMITY_"):
            monkeypatch.delenv(name)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return Workspace(tmp_path, env={"COMITY_KEY_PASSPHRASE": PASSPHRASE})


@pytest.mark.parametrize("document", RUN_DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_documented_commands_run_and_print_what_the_guide_shows(
    document: Path, workspace: Workspace
) -> None:
    for block in blocks(document):
        if block.kind not in RUN_KINDS:
            continue
        if block.kind == "node":
            workspace.given_nodes()
            makes_node = any(" node init " in f" {line} " for line in block.commands)
            if not Path(workspace.path(NODE_HOME)).exists() and not makes_node:
                workspace.init("XA", NODE_HOME)
            workspace.env["COMITY_HOME"] = workspace.path(NODE_HOME)
        else:
            workspace.env.pop("COMITY_HOME", None)
        printed = ""
        for line in block.commands:
            result = workspace.run(line)
            if result is None:
                continue
            printed += result.stdout + result.stderr
            assert result.exit_code == 0, (
                f"{block.where}: `{line}` exited {result.exit_code}:\n{result.output}"
            )
        if block.output is not None:
            missing = [
                expected.strip()
                for expected in block.output.text.splitlines()
                if expected.strip() and not shows(printed, expected)
            ]
            assert not missing, f"{block.output.where}: not in the output: {missing}\n{printed}"
