"""The drafting form of a request kind under an instrument: which fields a drafter fills, in
which order and group, of which type, with the article requiring each; and the request
document built back from a submitted form. Pure: reads the law data only.

The field names are the keys of the request document, so a finding on `necessity` belongs
next to the input named `necessity`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from comity.law import get_law, required_elements
from comity.law.schemas import request_schema

InputType = Literal["text", "textarea", "date", "boolean", "lines", "conduct", "language"]
Group = Literal["request", "authorities", "facts", "sought", "undertakings"]

GROUPS: tuple[Group, ...] = ("request", "authorities", "facts", "sought", "undertakings")

# Fields that describe the case rather than what is asked for.
_FACT_FIELDS = frozenset(
    {
        "offence",
        "offences",
        "offence_provisions",
        "facts_summary",
        "proceeding_nature",
        "persons_concerned",
        "relationship_to_offence",
        "emergency_facts",
        "grounds_for_belief",
        "domestic_legal_grounds",
        "information",
        "conduct",
    }
)
_LIST_FIELDS = frozenset({"data_categories", "measures"})
_SHORT_FIELDS = frozenset({"offence", "provider", "domain_name", "return_contact", "time_frame"})
_BOOLEAN_CONDITIONS = frozenset({"must-be-true", "if-host-requires-notification"})


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of the drafting form. `label` and `condition_text` are the law data's English
    wording (the catalogs translate them where shown); `required` marks what blocks when
    missing."""

    name: str
    label: str
    input: InputType
    group: Group
    required: bool
    severity: str
    citation: str
    verified: bool
    condition_text: str | None = None


def _input_of(name: str, condition: str | None) -> InputType:
    if name in _BOOLEAN_CONDITIONS or condition in _BOOLEAN_CONDITIONS:
        return "boolean"
    if name in _LIST_FIELDS:
        return "lines"
    if name.endswith("_date"):
        return "date"
    if name.endswith("_authority") or name.endswith("_reference") or name in _SHORT_FIELDS:
        return "text"
    return "textarea"


def _group_of(name: str, input_type: InputType) -> Group:
    if input_type == "boolean":
        return "undertakings"
    if name.endswith("_authority"):
        return "authorities"
    if name in _FACT_FIELDS:
        return "facts"
    return "sought"


def form_fields(kind: str, instrument: str) -> list[FormField]:
    """The fields of a request of `kind` under `instrument`: the language, the instrument's
    mandatory elements in the article's order, the conduct categories where dual criminality
    is checked, and the measures where a content depends on them."""
    law = get_law()
    rule = law.instruments[instrument].kinds[kind]
    language = law.instruments[instrument].language_rule
    fields = [
        FormField(
            "language",
            "The language of the request",
            "language",
            "request",
            True,
            "blocking",
            language.citation,
            language.verified,
        )
    ]
    for element in required_elements(kind, instrument):
        input_type = _input_of(element.field, element.condition)
        fields.append(
            FormField(
                name=element.field,
                label=element.label,
                input=input_type,
                group=_group_of(element.field, input_type),
                required=(element.severity == "blocking" and element.condition is None)
                or element.condition == "must-be-true",
                severity=element.severity,
                citation=element.citation,
                verified=element.verified,
                condition_text=element.condition_text,
            )
        )
    names = {f.name for f in fields}
    if rule.dual_criminality is not None and "conduct" not in names:
        dual = rule.dual_criminality
        fields.append(
            FormField(
                "conduct",
                "The conduct concerned (dual criminality compares conduct, not offence names)",
                "conduct",
                "facts",
                False,
                "note",
                dual.citation,
                dual.verified,
            )
        )
    services = [e for e in rule.all_elements if e.condition == "except-service-of-documents"]
    if services and "measures" not in names:
        fields.append(
            FormField(
                "measures",
                "The measures requested",
                "lines",
                "sought",
                False,
                "note",
                services[0].citation,
                services[0].verified,
            )
        )
    order = {group: index for index, group in enumerate(GROUPS)}
    return sorted(fields, key=lambda f: order[f.group])


def document_from_form(
    kind: str,
    requesting: str,
    requested: str,
    instrument: str | None,
    fields: list[FormField],
    getlist: Callable[[str], list[str]],
) -> dict[str, Any]:
    """The request document a submitted form describes: empty inputs are left out (the check
    reports them as missing), a ticked box is `true`, lists are one item per line."""
    known = set(request_schema(kind)["properties"])
    document: dict[str, Any] = {
        "kind": kind,
        "requesting_party": requesting,
        "requested_party": requested,
    }
    if instrument:
        document["instrument"] = instrument
    for field in fields:
        if field.name not in known:
            continue
        values = [v for v in getlist(field.name) if isinstance(v, str)]
        if field.input == "boolean":
            if any(v == "true" for v in values):
                document[field.name] = True
        elif field.input == "conduct":
            chosen = [v for v in values if v in get_law().conduct_categories]
            if chosen:
                document[field.name] = list(dict.fromkeys(chosen))
        elif field.input == "lines":
            items = [line.strip() for v in values for line in v.splitlines() if line.strip()]
            if items:
                document[field.name] = items
        else:
            text = values[0].strip() if values else ""
            if text:
                document[field.name] = text.replace("\r\n", "\n")
    return document


def form_values(document: dict[str, Any], fields: list[FormField]) -> dict[str, Any]:
    """What each input shows for a saved document: text, a list of lines, or a flag."""
    shown: dict[str, Any] = {}
    for field in fields:
        value = document.get(field.name)
        if field.input == "lines":
            shown[field.name] = "\n".join(str(v) for v in value) if isinstance(value, list) else ""
        elif field.input == "conduct":
            shown[field.name] = [str(v) for v in value] if isinstance(value, list) else []
        elif field.input == "boolean":
            shown[field.name] = value is True
        else:
            shown[field.name] = "" if value is None else str(value)
    return shown
