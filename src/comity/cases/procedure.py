"""Procedural rules as data (`procedure.yaml`): where consultation must come before a refusal
or a postponement. Code asks; it never names an instrument."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

PROCEDURE_FILE = Path(__file__).with_name("procedure.yaml")


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    citation: str
    verified: bool


class ConsultationRule(_Rule):
    instrument: str
    acts: list[str] = Field(min_length=1)
    kinds: list[str] | Literal["*"]

    def covers(self, instrument: str, kind: str, act: str) -> bool:
        return (
            self.instrument == instrument
            and act in self.acts
            and (self.kinds == "*" or kind in self.kinds)
        )


class Procedure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    consultation: list[ConsultationRule]
    onward_transfer: _Rule


@cache
def procedure() -> Procedure:
    return Procedure.model_validate(yaml.safe_load(PROCEDURE_FILE.read_text(encoding="utf-8")))


def consultation_rule(instrument: str, kind: str, act: str) -> ConsultationRule | None:
    """The rule requiring consultation before `act` on a `kind` request under `instrument`."""
    for rule in procedure().consultation:
        if rule.covers(instrument, kind, act):
            return rule
    return None
