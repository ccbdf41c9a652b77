"""What a Pydantic validation error says to a person: the first field at fault, as a dotted
path, and why — the shape every typed error of comity names."""

from __future__ import annotations

from pydantic import ValidationError


def first_problem(exc: ValidationError, top: str) -> tuple[str, str]:
    """(`a.b.0`, message) of the first error; `top` names a fault of the whole document."""
    first = exc.errors()[0]
    return ".".join(str(part) for part in first["loc"]) or top, first["msg"]
