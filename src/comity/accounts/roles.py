"""The roles of a node's users. What each role may do is decided at the edges
(`cases/permissions.py`, `requests/permissions.py`); this module only names them."""

from __future__ import annotations

from comity.kit.errors import ComityError

ROLES = (
    "drafter",
    "authorising-officer",
    "central-authority-officer",
    "duty-officer",
    "provider-responder",
    "auditor",
    "administrator",
)


def check_roles(roles: list[str]) -> list[str]:
    """`roles` without duplicates, in the order of ROLES; refuses an empty or unknown role."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ComityError(f"unknown role(s) {unknown or roles}; roles are: {', '.join(ROLES)}")
    return [r for r in ROLES if r in roles]
