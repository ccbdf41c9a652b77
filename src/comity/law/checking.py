"""Reading and checking request documents: the law evaluator's findings plus the checks that
keep a malformed document from reaching it. Pure: no database, no clock."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from comity.directory.document import Directory
from comity.kit.errors import ComityError
from comity.law import Finding, check_request, get_law, request_schema
from comity.law.applied import Applied, applied


class MalformedRequest(ComityError):
    """A request document that is not JSON, not an object, or has a field of the wrong type
    where comity cannot check it (kind, parties, instrument, language)."""

    status_code = 422
    code = "malformed_request"


class BlockingFindings(ComityError):
    """The request cannot be approved or sent while a blocking finding remains."""

    status_code = 422
    code = "blocking_findings"

    @classmethod
    def of(cls, what: str, blocking: list[Finding]) -> BlockingFindings:
        """The error for a request that cannot be `what` ("approved", "sent", …)."""
        listed = "; ".join(
            f"{f.element} ({f.citation})" if f.citation else f.element for f in blocking
        )
        return cls(
            f"the request cannot be {what} while {len(blocking)} finding(s) block: {listed}",
            findings=[
                {"element": f.element, "citation": f.citation, "message": f.message}
                for f in blocking
            ],
        )


# Fields that say who writes to whom under what: comity cannot check anything without them,
# so a wrong type is an error, not a finding.
HEADER_FIELDS = ("kind", "requesting_party", "requested_party", "instrument")

_TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "array": "a list of strings",
    "number": "a number",
}


@dataclass(frozen=True, slots=True)
class Check:
    """The findings on one request document, checked on `on`."""

    kind: str
    requesting_party: str
    requested_party: str
    on: date
    findings: list[Finding]
    applied: Applied | None = None

    @property
    def blocking(self) -> bool:
        return any(f.severity == "blocking" for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "requesting_party": self.requesting_party,
            "requested_party": self.requested_party,
            "on": self.on.isoformat(),
            "blocking": self.blocking,
            "applied": self.applied.to_dict() if self.applied else None,
            "findings": [asdict(f) for f in self.findings],
        }


def parse_document(text: str, source: str = "request") -> dict[str, Any]:
    """A request document from JSON text; the error names the line and column."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedRequest(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    return require_object(document, source)


def read_document(path: Path) -> dict[str, Any]:
    """A request document from a JSON file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MalformedRequest(f"{path}: cannot read the request file: {reason}") from None
    return parse_document(text, str(path))


def require_object(document: Any, source: str = "request") -> dict[str, Any]:
    if not isinstance(document, dict):
        raise MalformedRequest(
            f"{source}: a request document is a JSON object with a top-level 'kind', "
            f"not {_json_type(document)}"
        )
    return document


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "an object"


@dataclass(frozen=True, slots=True)
class _FieldRule:
    type: str
    citation: str
    verified: bool


@lru_cache(maxsize=64)
def _field_rules(kind: str) -> dict[str, _FieldRule]:
    """The JSON type of each element field of `kind`, with the article that requires it."""
    law = get_law()
    cited: dict[str, tuple[str, bool]] = {}
    for instrument in law.instruments.values():
        rule = instrument.kinds.get(kind)
        for element in rule.all_elements if rule else []:
            cited.setdefault(element.field, (element.citation, element.verified))
    rules = {}
    for name, prop in request_schema(kind)["properties"].items():
        if name in HEADER_FIELDS or "type" not in prop:
            continue
        citation, verified = cited.get(name, ("", False))
        rules[name] = _FieldRule(prop["type"], citation, verified)
    return rules


def _well_typed(value: Any, expected: str) -> bool:
    if value is None:
        return True  # reported as missing by the evaluator where it is required
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "array":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True


def _check_header(document: dict[str, Any]) -> None:
    for name in HEADER_FIELDS:
        value = document.get(name)
        if value is not None and not isinstance(value, str):
            raise MalformedRequest(f"{name}: must be a string, not {_json_type(value)}", field=name)


def check(directory: Directory, document: dict[str, Any], on: date) -> Check:
    """Check a request document against the law binding the pair on `on`.

    Raises a `LawError` naming the field and article for an unknown kind, party or instrument
    or an instrument not yet in force, and `MalformedRequest` for a document comity cannot
    read. Everything the drafter can fix in the content comes back as findings."""
    document = require_object(document)
    _check_header(document)
    # Validates the kind (UnknownKind names the field) before anything is looked up by it.
    kind = str(document.get("kind") or "")
    rules = _field_rules(kind) if kind in get_law().kinds else {}
    mistyped: list[Finding] = []
    for name, rule in rules.items():
        value = document.get(name)
        if not _well_typed(value, rule.type):
            got = _json_type(value)
            if isinstance(value, list):
                position, item = next(
                    (i, v) for i, v in enumerate(value, 1) if not isinstance(v, str)
                )
                got = f"a list whose item {position} is {_json_type(item)}"
            mistyped.append(
                Finding(
                    "blocking",
                    name,
                    f"'{name}' must be {_TYPE_NAMES[rule.type]}, not {got}.",
                    rule.citation,
                    rule.verified,
                    "mistyped",
                    {"field": name, "expected": rule.type},
                )
            )
    checked = document
    if mistyped:
        bad = {f.element for f in mistyped}
        checked = {k: v for k, v in document.items() if k not in bad}
    findings = check_request(directory, checked, on)
    if mistyped:
        bad = {f.element for f in mistyped}
        findings = mistyped + [f for f in findings if f.element not in bad]
    return Check(
        kind=kind,
        requesting_party=str(document.get("requesting_party")),
        requested_party=str(document.get("requested_party")),
        on=on,
        findings=findings,
        applied=applied(directory, checked, on),
    )
