"""Who may read the statistics (aggregated figures only): review bodies, auditors, central
authorities. Checked by the statistics page and the menu (`web/pages/stats.py`, `web/nav.py`)."""

from __future__ import annotations

READ_ROLES = frozenset(
    {"auditor", "administrator", "central-authority-officer", "authorising-officer"}
)
