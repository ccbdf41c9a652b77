"""Who may read and keep the 24/7 desk. Checked by the API (`duty/api.py`), the desk page and
the menu (`web/pages/duty.py`, `web/nav.py`)."""

from __future__ import annotations

#: Who changes the duty roster.
ROSTER_ADMINS = frozenset({"administrator", "central-authority-officer"})
#: The officials who take urgent requests: the same set as `cases.permissions.OFFICIALS`
#: (spelled out, so that duty does not depend on cases; a test holds them equal).
DESK_OFFICIALS = frozenset({"central-authority-officer", "duty-officer"})
#: Who reads the roster, the assignments and the desk.
READ_ROLES = DESK_OFFICIALS | ROSTER_ADMINS
