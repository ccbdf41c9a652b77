"""Transition tables, one per request kind (the kind ids of the law data)."""

from __future__ import annotations

from comity.kit.errors import ComityError
from comity.protocol.kinds.assistance import assistance_table, spontaneous_information_table
from comity.protocol.kinds.preservation import PRESERVATION
from comity.protocol.machine import TransitionTable

_URGENT = {"emergency-disclosure", "emergency-mla", "contact-point-assistance"}
_ORDINARY = (
    "mla",
    "traffic-data-disclosure",
    "stored-data-access",
    "real-time-traffic",
    "interception",
    "subscriber-information",
    "domain-registration",
    "giving-effect-to-order",
)

TABLES: dict[str, TransitionTable] = {
    PRESERVATION.kind: PRESERVATION,
    "spontaneous-information": spontaneous_information_table(),
    **{kind: assistance_table(kind) for kind in _ORDINARY},
    **{kind: assistance_table(kind, formal_confirmation=True) for kind in sorted(_URGENT)},
}


class UnknownKind(ComityError):
    status_code = 422
    code = "unknown_kind"


def table_for(kind: str) -> TransitionTable:
    try:
        return TABLES[kind]
    except KeyError:
        known = ", ".join(sorted(TABLES))
        raise UnknownKind(f"unknown request kind {kind!r} (known: {known})", field="kind") from None
