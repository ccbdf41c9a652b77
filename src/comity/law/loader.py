"""Load the law data files, validate them against the package JSON Schema and against each
other, and cache the result. A bad file fails loudly with its name and line number."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from pydantic import ValidationError

from comity.law.errors import LawDataInvalid
from comity.law.model import Law, LawFile

DATA_DIR = Path(str(resources.files("comity.law") / "data"))
SCHEMA_PATH = Path(str(resources.files("comity.law") / "law-data.schema.json"))

Path_ = Sequence[str | int]


def generate_schema() -> dict[str, Any]:
    """The JSON Schema of one data file, derived from `comity.law.model.LawFile`."""
    schema = LawFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://comity.example/schemas/law-data.schema.json"
    return schema


@lru_cache(maxsize=1)
def data_file_schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package for the data files."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def _line_of(node: yaml.Node | None, path: Path_) -> int:
    """1-based line of the YAML node at `path`, or of the deepest node found on the way."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


class _File:
    """One parsed data file with its YAML node tree, to point errors at lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        text = path.read_text(encoding="utf-8")
        try:
            self.node = yaml.compose(text, Loader=yaml.SafeLoader)
            raw = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            raise LawDataInvalid(
                f"{path.name}:{line}: not valid YAML: {exc.problem or exc}",
                file=str(path),
                line=line,
            ) from exc
        self.raw: Any = raw if raw is not None else {}

    def fail(self, path: Path_, message: str) -> LawDataInvalid:
        line = _line_of(self.node, path)
        where = "/".join(str(p) for p in path) or "(top level)"
        return LawDataInvalid(
            f"{self.path.name}:{line}: {where}: {message}",
            file=str(self.path),
            line=line,
            path=where,
        )


def _validate_file(file: _File, validator: jsonschema.Draft202012Validator) -> LawFile:
    error = jsonschema.exceptions.best_match(validator.iter_errors(file.raw))
    if error is not None:
        raise file.fail(list(error.absolute_path), error.message)
    try:
        return LawFile.model_validate(file.raw)
    except ValidationError as exc:  # the schema should have caught it; keep the line anyway
        first = exc.errors()[0]
        raise file.fail(
            [p for p in first["loc"] if isinstance(p, str | int)], first["msg"]
        ) from exc


def _cross_check(files: list[tuple[_File, LawFile]], law: Law) -> None:
    """References between files: kinds, grounds, instruments and time rules must exist."""
    for file, content in files:
        instrument = content.instrument
        if instrument is not None:
            known_grounds = set(law.grounds)
            for i, never in enumerate(instrument.never_grounds):
                if never.ground not in known_grounds:
                    raise file.fail(
                        ["instrument", "never_grounds", i, "ground"],
                        f"unknown ground {never.ground!r}",
                    )
            for kind_id, rule in instrument.kinds.items():
                base: list[str | int] = ["instrument", "kinds", kind_id]
                if kind_id not in law.kinds:
                    raise file.fail(base, f"unknown request kind {kind_id!r}")
                for part in ("refusal", "postponement"):
                    grounds_rule = getattr(rule, part)
                    for i, cited in enumerate(grounds_rule.grounds if grounds_rule else []):
                        if cited.ground not in known_grounds:
                            raise file.fail(
                                [*base, part, "grounds", i, "ground"],
                                f"unknown ground {cited.ground!r}",
                            )
                        needed = cited.requires_declaration
                        if needed is not None and needed not in law.declaration_effects:
                            raise file.fail(
                                [*base, part, "grounds", i, "requires_declaration"],
                                f"unknown declaration effect {needed!r}",
                            )
                codes = {"start"}
                for i, time_rule in enumerate(rule.time_rules):
                    if time_rule.relative_to not in codes:
                        raise file.fail(
                            [*base, "time_rules", i, "relative_to"],
                            f"{time_rule.relative_to!r} is neither 'start' nor an earlier rule",
                        )
                    codes.add(time_rule.code)
                fields = [element.field for element in rule.all_elements]
                duplicates = sorted({f for f in fields if fields.count(f) > 1})
                if duplicates:
                    raise file.fail([*base, "elements"], f"fields listed twice: {duplicates}")
        for i, effect in enumerate(content.declaration_effects):
            if effect.instrument not in law.instruments:
                raise file.fail(
                    ["declaration_effects", i, "instrument"],
                    f"unknown instrument {effect.instrument!r}",
                )
            for j, kind_id in enumerate(effect.kinds):
                if kind_id not in law.kinds:
                    raise file.fail(
                        ["declaration_effects", i, "kinds", j], f"unknown request kind {kind_id!r}"
                    )
        for i, kind in enumerate(content.kinds):
            if kind.emergency and kind.emergency_basis is None:
                raise file.fail(
                    ["kinds", i, "emergency"],
                    "an emergency kind needs 'emergency_basis' with the article's citation",
                )
            if kind.emergency_basis is not None and not kind.emergency:
                raise file.fail(
                    ["kinds", i, "emergency_basis"], "'emergency_basis' without 'emergency: true'"
                )
            if kind.fallback_kind and kind.fallback_kind not in law.kinds:
                raise file.fail(
                    ["kinds", i, "fallback_kind"], f"unknown request kind {kind.fallback_kind!r}"
                )


def load_law(paths: Iterable[Path] | None = None) -> Law:
    """Load and check the data files (default: every `data/*.yaml` of the package)."""
    chosen = sorted(paths) if paths is not None else sorted(DATA_DIR.glob("*.yaml"))
    validator = jsonschema.Draft202012Validator(data_file_schema())
    files: list[tuple[_File, LawFile]] = []
    tables: dict[str, dict[str, Any]] = {
        "instruments": {},
        "kinds": {},
        "grounds": {},
        "declaration_effects": {},
        "conduct_categories": {},
    }
    for path in chosen:
        file = _File(path)
        content = _validate_file(file, validator)
        files.append((file, content))
        entries: list[tuple[str, list[str | int], str, Any]] = []
        if content.instrument is not None:
            entries.append(
                ("instruments", ["instrument", "id"], content.instrument.id, content.instrument)
            )
        for table in ("kinds", "grounds", "declaration_effects", "conduct_categories"):
            for i, entry in enumerate(getattr(content, table)):
                key = "id" if table == "kinds" else "code"
                entries.append((table, [table, i, key], getattr(entry, key), entry))
        for table, where, key, entry in entries:
            if key in tables[table]:
                raise file.fail(where, f"{key!r} is defined twice in {table}")
            tables[table][key] = entry
    law = Law(**tables)
    _cross_check(files, law)
    return law


@lru_cache(maxsize=1)
def get_law() -> Law:
    """The package's law, loaded and validated once per process."""
    return load_law()
