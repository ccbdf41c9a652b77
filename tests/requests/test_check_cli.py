"""`comity request check`: exit 0 when nothing blocks, 1 when something does, 2 for input it
cannot check - always one line naming the field and, where there is one, the article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from comity.cli.main import app
from comity.law import get_law
from tests.requests.conftest import ON, example
from tests.support import World

runner = CliRunner()


def check(*args: str | Path):
    return runner.invoke(app, ["request", "check", *map(str, args)])


@pytest.mark.parametrize("kind", sorted(get_law().kinds))
def test_every_example_passes_with_exit_0(kind: str, request_file, directory_file: Path) -> None:
    result = check(request_file(example(kind)), "--directory", directory_file, "--on", ON)
    assert result.exit_code == 0, result.output
    assert "nothing blocks" in result.stdout


def test_the_check_names_the_instrument_applied_why_and_the_route(
    request_file, directory_file: Path
) -> None:
    """No instrument named: the check says which one it applied and why (here the only one
    binding XA and XB for a preservation) and the route, Budapest 35(1)(b)."""
    document = {k: v for k, v in example("preservation").items() if k != "instrument"}
    result = check(request_file(document), "--directory", directory_file, "--on", ON)
    assert "instrument: budapest [budapest 29]" in result.stdout
    assert "why: Council of Europe Convention on Cybercrime (ETS 185) is the only" in result.stdout
    assert "route: 24/7-contact of XB [budapest 35(1)(b)]" in result.stdout
    as_json = check(
        request_file(document), "--directory", directory_file, "--on", ON, "--format", "json"
    )
    assert json.loads(as_json.stdout)["applied"]["why"] == "only"


def test_missing_element_exits_1_and_names_the_element_and_article(
    request_file, directory_file: Path
) -> None:
    document = example("preservation")
    del document["necessity"]
    result = check(request_file(document), "--directory", directory_file, "--on", ON)
    assert result.exit_code == 1
    assert "BLOCKING necessity: Missing" in result.stdout
    assert "[budapest 29(2)" in result.stdout
    assert "cannot be sent: 1 blocking" in result.stdout


def test_json_format_lists_the_findings_and_says_it_blocks(
    request_file, directory_file: Path
) -> None:
    document = example("preservation")
    del document["necessity"]
    result = check(
        request_file(document), "--directory", directory_file, "--on", ON, "--format", "json"
    )
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["blocking"] is True
    assert [(f["severity"], f["element"]) for f in body["findings"]] == [("blocking", "necessity")]
    assert body["findings"][0]["citation"].startswith("budapest 29(2)")


def test_language_not_accepted_warns_with_its_article_while_unverified(
    request_file, directory_file: Path
) -> None:
    result = check(
        request_file({**example("mla"), "language": "de"}),
        "--directory",
        directory_file,
        "--on",
        ON,
        "--format",
        "json",
    )
    # budapest 25(4) is not verified against ETS 185 for languages: it warns (issue 13).
    assert result.exit_code == 0
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["element"] == "language"
    assert "accepts requests in fr, not 'de'" in finding["message"]
    assert (finding["citation"], finding["severity"], finding["verified"]) == (
        "budapest 25(4)",
        "warning",
        False,
    )


def test_field_of_the_wrong_type_is_a_blocking_finding_not_a_traceback(
    request_file, directory_file: Path
) -> None:
    document = {**example("preservation"), "intends_mla": "yes", "conduct": [["extortion"]]}
    result = check(
        request_file(document), "--directory", directory_file, "--on", ON, "--format", "json"
    )
    assert result.exit_code == 1
    findings = {f["element"]: f for f in json.loads(result.stdout)["findings"]}
    assert (
        findings["intends_mla"]["message"] == "'intends_mla' must be true or false, not a string."
    )
    assert findings["intends_mla"]["citation"].startswith("budapest 29(2)")
    assert "item 1 is a list" in findings["conduct"]["message"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            {"kind": "extradition"},
            "error: kind: 'extradition' is not a request kind",
            id="unknown-kind",
        ),
        pytest.param(
            {"requested_party": "XZ"},
            "error: requested_party: 'XZ' is not in the directory",
            id="unknown-party",
        ),
        pytest.param(
            {"instrument": "hague"},
            "error: instrument: 'hague' is not known",
            id="unknown-instrument",
        ),
        pytest.param(
            {"instrument": ["budapest"]},
            "error: instrument: must be a string, not a list",
            id="instrument-not-a-string",
        ),
    ],
)
def test_input_that_cannot_be_checked_exits_2_with_one_line_naming_the_field(
    change: dict[str, object], expected: str, request_file, directory_file: Path
) -> None:
    result = check(
        request_file({**example("preservation"), **change}), "--directory", directory_file
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_date_before_ratification_names_the_instrument_and_the_article(
    request_file, directory_file: Path
) -> None:
    # Carpania (XC) and Xanadu (XA) are bound by the UN convention only from 2026-07-01.
    document = {**example("mla"), "requested_party": "XC", "instrument": "uncc", "language": "es"}
    result = check(request_file(document), "--directory", directory_file, "--on", "2026-06-30")
    assert result.exit_code == 2
    assert (
        result.stderr == "error: instrument: XA is bound by uncc only from 2026-07-01 (uncc 65)\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('{"kind": "mla",', "not valid JSON at line 1, column 16", id="truncated"),
        pytest.param("[1, 2]", "a request document is a JSON object", id="not-an-object"),
        pytest.param("", "not valid JSON at line 1, column 1", id="empty"),
    ],
)
def test_malformed_file_exits_2_with_the_file_and_position(
    text: str, expected: str, request_file, directory_file: Path
) -> None:
    path = request_file(text)
    result = check(path, "--directory", directory_file)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: ")
    assert expected in result.stderr


def test_unreadable_file_and_bad_date_exit_2(tmp_path: Path, directory_file: Path) -> None:
    missing = check(tmp_path / "nowhere.json", "--directory", directory_file)
    assert missing.exit_code == 2
    assert "cannot read the request file: No such file or directory" in missing.stderr
    path = tmp_path / "r.json"
    path.write_text(json.dumps(example("mla")))
    bad_date = check(path, "--directory", directory_file, "--on", "1 Sept")
    assert bad_date.exit_code == 2
    assert bad_date.stderr.startswith("error: --on: '1 Sept' is not a date")


def test_check_uses_the_nodes_current_directory_by_default(
    scenario: World, request_file, tmp_path: Path
) -> None:
    result = check(request_file(example("preservation")), "--home", tmp_path / "XA")
    assert result.exit_code == 0, result.output
    blocked = check(
        request_file({**example("preservation"), "language": "en", "necessity": ""}),
        "--home",
        tmp_path / "XA",
    )
    assert blocked.exit_code == 1
    assert "Borduria (XB) accepts requests in fr, not 'en'" in blocked.stdout


@pytest.mark.parametrize("command", [["check", "REQUEST"], ["profile", "XB", "--as", "XA"]])
def test_without_a_node_or_directory_file_it_says_to_pass_directory_and_assumes_none(
    command: list[str], request_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COMITY_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    args = [str(request_file(example("mla"))) if a == "REQUEST" else a for a in command]
    result = runner.invoke(app, ["request", *args])
    assert result.exit_code == 2
    assert "no --directory and no node at" in result.stderr
    assert "--directory examples/directory/scenario.yaml" in result.stderr
