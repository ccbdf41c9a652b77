"""No unverified rule blocks (issue 13): a finding that would block, from a rule not yet
verified against a primary text in `texts/`, is shown as a warning that says so.

Errors that are not a reading of the law (`law-error`: an unknown party, an instrument not in
force; `mistyped`: a field comity cannot read) keep blocking."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

NOT_A_RULE = frozenset({"law-error", "mistyped"})

F = TypeVar("F")


def unverified_note(citation: str) -> str:
    """The sentence added to a finding or act warning whose rule is not verified."""
    rule = f"the rule ({citation})" if citation else "the rule"
    return f"Not blocking: {rule} is not verified against a primary text in comity."


def soften(finding: F) -> F:
    """`finding` (a `comity.law.Finding`) as a warning if it blocks on an unverified rule;
    its params then carry `verified: false` and `blocks_when_verified: true`."""
    f: Any = finding
    if f.severity != "blocking" or f.verified or f.code in NOT_A_RULE:
        return finding
    softened: F = replace(
        f,
        severity="warning",
        message=f"{f.message} {unverified_note(f.citation)}",
        params={**f.params, "verified": False, "blocks_when_verified": True},
    )
    return softened
