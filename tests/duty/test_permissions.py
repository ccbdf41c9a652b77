"""Who reads the 24/7 desk: the officials who take urgent requests and those who keep the
roster. duty/permissions.py spells the officials out (duty must not depend on cases): they
must stay the officials every act of cases/permissions.py grants."""

from __future__ import annotations

from comity.cases.permissions import OFFICIALS
from comity.duty import permissions


def test_the_desk_is_read_by_the_officials_of_cases_and_the_roster_keepers() -> None:
    assert permissions.DESK_OFFICIALS == OFFICIALS
    assert permissions.READ_ROLES == OFFICIALS | permissions.ROSTER_ADMINS
