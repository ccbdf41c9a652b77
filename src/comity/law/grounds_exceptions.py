"""Exceptions that take a refusal ground away for a given request (e.g. dual criminality may
not be invoked for an offence listed in the order, eu-eevidence 12(1)(d)). Pure: the data says
which request field triggers the exception; the caller decides what an unverified one does."""

from __future__ import annotations

from typing import Any

from comity.law.loader import get_law
from comity.law.model import GroundCitation


def excepted_grounds(
    kind: str, instrument: str, grounds: list[str], request: dict[str, Any]
) -> list[GroundCitation]:
    """The grounds among `grounds` whose exception applies to `request` (its field is given)."""
    inst = get_law().instruments.get(instrument)
    rule = inst.kinds.get(kind) if inst else None
    listed = {g.ground: g for g in rule.refusal.grounds} if rule and rule.refusal else {}
    found = []
    for ground in grounds:
        cited = listed.get(ground)
        if cited is None or cited.unless is None:
            continue
        value = request.get(cited.unless.field)
        if value is True or (isinstance(value, str | list) and bool(value)):
            found.append(cited)
    return found
