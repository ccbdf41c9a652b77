"""Labels several pages share, marked for translation (translated where they are shown)."""

from __future__ import annotations

from comity.web.i18n import N_

#: The roles of a user account (`comity.accounts.roles.ROLES`).
ROLE_LABELS: dict[str, str] = {
    "drafter": N_("Drafter"),
    "authorising-officer": N_("Authorising officer"),
    "central-authority-officer": N_("Central authority officer"),
    "duty-officer": N_("24/7 duty officer"),
    "provider-responder": N_("Provider responder"),
    "auditor": N_("Auditor"),
    "administrator": N_("Administrator"),
}

#: The roles of a person on the 24/7 roster (`comity.duty.models.ROSTER_ROLES`).
ROSTER_ROLE_LABELS: dict[str, str] = {
    "officer": N_("Duty officer"),
    "supervisor": N_("Supervisor"),
    "central-authority": N_("Central authority (hand-off)"),
}
