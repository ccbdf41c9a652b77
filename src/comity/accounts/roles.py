"""The roles of a node's users and which of them one account may not combine. What each role
may do is decided at the edges (`cases/permissions.py`, `requests/permissions.py`); this module
names the roles and holds the separation of duties as data (`SEPARATIONS`)."""

from __future__ import annotations

from dataclasses import dataclass

from comity.kit.errors import ComityError, Conflict

ROLES = (
    "drafter",
    "authorising-officer",
    "central-authority-officer",
    "duty-officer",
    "provider-responder",
    "auditor",
    "administrator",
)

#: The roles that act on requests or read their content (`cases/permissions.py`).
CASE_ROLES = (
    "drafter",
    "authorising-officer",
    "central-authority-officer",
    "duty-officer",
    "provider-responder",
)


@dataclass(frozen=True)
class Separation:
    """`role` may not be held by an account that also holds any of `apart_from`, because of
    `reason` (told to the administrator who tries)."""

    role: str
    apart_from: tuple[str, ...]
    reason: str


#: Separation of duties. A pair is refused when an account is created, when its roles are
#: changed and when an API token is issued; `comity user check` lists the accounts that
#: combined them before the rule existed.
SEPARATIONS: tuple[Separation, ...] = (
    Separation(
        "auditor",
        CASE_ROLES,
        "the auditor reviews what the officers did with requests; someone who also acts on"
        " requests or reads their content would review their own acts",
    ),
    Separation(
        "auditor",
        ("administrator",),
        "the auditor reviews the administrator's changes to accounts and roles; one person"
        " holding both would review their own grants",
    ),
    Separation(
        "administrator",
        CASE_ROLES,
        "whoever grants roles must not use them: an administrator who also handles requests"
        " could give themselves (or a second account) any case role without a second person",
    ),
)


@dataclass(frozen=True)
class RoleConflict:
    """Two roles of one account that `SEPARATIONS` keeps apart."""

    first: str
    second: str
    reason: str

    def __str__(self) -> str:
        return f"'{self.first}' and '{self.second}': {self.reason}"


class IncompatibleRoles(Conflict):
    """An account (or token) was to hold roles that must be held by different people."""

    code = "roles_incompatible"


def conflicts(roles: list[str] | frozenset[str] | tuple[str, ...]) -> list[RoleConflict]:
    """Every pair of `roles` the separation of duties forbids, in the order of the table."""
    held = set(roles)
    return [
        RoleConflict(rule.role, other, rule.reason)
        for rule in SEPARATIONS
        if rule.role in held
        for other in rule.apart_from
        if other in held
    ]


def check_roles(roles: list[str]) -> list[str]:
    """`roles` without duplicates, in the order of ROLES. Refuses an empty or unknown role, and
    (`IncompatibleRoles`, naming both roles and why) a combination the separation of duties
    forbids."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ComityError(f"unknown role(s) {unknown or roles}; roles are: {', '.join(ROLES)}")
    found = conflicts(roles)
    if found:
        more = f" ({len(found) - 1} more conflicting pair(s))" if len(found) > 1 else ""
        raise IncompatibleRoles(
            f"one account may not hold both roles {found[0]}. Give them to two different"
            f" people{more}",
            field="roles",
            conflicts=[[c.first, c.second] for c in found],
        )
    return [r for r in ROLES if r in roles]
