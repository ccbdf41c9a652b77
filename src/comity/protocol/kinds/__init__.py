"""Transition tables, one per request kind."""

from __future__ import annotations

from comity.kit.errors import ComityError
from comity.protocol.kinds.preservation import PRESERVATION
from comity.protocol.machine import TransitionTable

TABLES: dict[str, TransitionTable] = {PRESERVATION.kind: PRESERVATION}


class UnknownKind(ComityError):
    status_code = 422
    code = "unknown_kind"


def table_for(kind: str) -> TransitionTable:
    try:
        return TABLES[kind]
    except KeyError:
        known = ", ".join(sorted(TABLES))
        raise UnknownKind(f"unknown request kind {kind!r} (known: {known})", field="kind") from None
