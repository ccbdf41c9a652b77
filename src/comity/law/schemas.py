"""JSON Schemas of request documents, generated from the law data: `required` lists the
element fields every applicable instrument makes mandatory for the kind."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from comity.law.loader import get_law
from comity.law.model import Kind
from comity.law.routing import kind_of


def emergency_kinds() -> frozenset[str]:
    """The request kinds the law data marks as emergencies (`emergency: true`)."""
    return frozenset(k.id for k in get_law().kinds.values() if k.emergency)


def _emergency(kind: Kind) -> dict[str, Any]:
    """Annotations telling a client whether the kind is an emergency one, and why."""
    if kind.emergency_basis is None:
        return {"x-emergency": False}
    return {"x-emergency": True, "x-emergency-citation": kind.emergency_basis.citation}


_BOOLEAN_CONDITIONS = {"must-be-true", "if-host-requires-notification"}
_LIST_FIELDS = {"data_categories", "measures", "conduct"}


@lru_cache(maxsize=64)
def _schema(kind: str) -> dict[str, Any]:
    law = get_law()
    kind_of(law, kind)
    rules = [(i.id, i.kinds[kind]) for i in law.instruments.values() if kind in i.kinds]
    properties: dict[str, Any] = {
        "kind": {"const": kind},
        "requesting_party": {"type": "string", "minLength": 1},
        "requested_party": {"type": "string", "minLength": 1},
        "instrument": {"enum": [i for i, _ in rules]},
        "language": {"type": "string", "minLength": 2, "description": "Language of the request"},
        "conduct": {
            "type": "array",
            "items": {"enum": sorted(law.conduct_categories)},
            "description": "Conduct categories (dual criminality compares conduct)",
        },
        "measures": {"type": "array", "items": {"type": "string"}},
    }
    mandatory: list[set[str]] = []
    for _, rule in rules:
        fields = set()
        for element in rule.all_elements:
            if element.field in _BOOLEAN_CONDITIONS or element.condition in _BOOLEAN_CONDITIONS:
                prop: dict[str, Any] = {"type": "boolean"}
            elif element.field in _LIST_FIELDS:
                prop = {"type": "array", "items": {"type": "string"}, "minItems": 1}
            else:
                prop = {"type": "string", "minLength": 1}
            prop["description"] = f"{element.label} ({element.citation})"
            properties.setdefault(element.field, prop)
            if element.severity == "blocking" and element.condition in {None, "must-be-true"}:
                fields.add(element.field)
        serious = rule.scope.serious_crime if rule.scope else None
        if serious is not None:
            properties[serious.field] = {
                "type": "number",
                "minimum": 0,
                "description": properties.get(serious.field, {}).get(
                    "description", f"Maximum penalty in years ({serious.citation})"
                ),
            }
            if serious.life_field:
                properties.setdefault(
                    serious.life_field,
                    {"type": "boolean", "description": "The maximum penalty is life imprisonment"},
                )
        mandatory.append(fields)
    required_fields = set.intersection(*mandatory) if mandatory else set()
    order = list(properties)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://comity.example/schemas/requests/{kind}.schema.json",
        "title": law.kinds[kind].title,
        "description": law.kinds[kind].description,
        **_emergency(law.kinds[kind]),
        "type": "object",
        "properties": properties,
        "required": [
            "kind",
            "requesting_party",
            "requested_party",
            "language",
            *sorted(required_fields, key=order.index),
        ],
    }


def request_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a request document of `kind` (a fresh copy, safe to modify)."""
    return copy.deepcopy(_schema(kind))
