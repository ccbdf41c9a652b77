"""The main menu and where a user lands after sign-in, decided by the same role sets the pages
and the API check, so nobody is shown a link that answers 403."""

from __future__ import annotations

from dataclasses import dataclass

from comity.cases.permissions import READ_ROLES as CASE_READERS
from comity.duty.permissions import READ_ROLES as DESK_READERS
from comity.requests.permissions import READ_ROLES as DRAFT_READERS
from comity.stats.permissions import READ_ROLES as STATS_READERS
from comity.web.i18n import N_


@dataclass(frozen=True)
class Item:
    href: str
    label: str
    roles: frozenset[str] | None  # None: every signed-in user


def items() -> list[Item]:
    return [
        Item("/inbox", N_("Inbox"), frozenset(CASE_READERS)),
        Item("/drafts", N_("Drafts"), frozenset(DRAFT_READERS)),
        Item("/duty", N_("24/7 desk"), DESK_READERS),
        Item("/evidence", N_("Evidence"), frozenset(CASE_READERS)),
        Item("/directory", N_("Directory"), None),
        Item("/stats", N_("Statistics"), STATS_READERS),
        Item("/admin", N_("Administration"), frozenset({"administrator"})),
    ]


def visible(roles: frozenset[str]) -> list[Item]:
    return [item for item in items() if item.roles is None or roles & item.roles]


LANDING_ORDER = ("/inbox", "/drafts", "/admin", "/stats", "/duty", "/directory")


def home_for(roles: frozenset[str]) -> str:
    """The first page of LANDING_ORDER this user may open."""
    shown = {item.href for item in visible(roles)}
    for href in LANDING_ORDER:
        if href in shown:
            return href
    return "/preferences"
