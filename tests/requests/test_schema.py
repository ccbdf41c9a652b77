"""Every kind has a published JSON Schema with its required fields, printed by the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from comity.cli.main import app
from comity.law import get_law, request_schema

runner = CliRunner()
KINDS = sorted(get_law().kinds)


@pytest.mark.parametrize("kind", KINDS)
def test_schema_of_each_kind_lists_required_fields_with_the_kind_and_parties(kind: str) -> None:
    result = runner.invoke(app, ["request", "schema", kind])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema == request_schema(kind)
    assert schema["properties"]["kind"] == {"const": kind}
    assert {"kind", "requesting_party", "requested_party", "language"} <= set(schema["required"])
    assert set(schema["required"]) <= set(schema["properties"])


def test_schema_of_an_unknown_kind_is_one_line_naming_the_field() -> None:
    result = runner.invoke(app, ["request", "schema", "extradition"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: kind: 'extradition' is not a request kind")
    assert len(result.stderr.strip().splitlines()) == 1
