"""Who may do what with a request draft. Four eyes: the approver is an authorising officer
(or the central authority) who wrote none of the content."""

from __future__ import annotations

DRAFT_ROLES = frozenset({"drafter", "central-authority-officer", "duty-officer"})
APPROVE_ROLES = frozenset({"authorising-officer", "central-authority-officer"})
DISPATCH_ROLES = frozenset({"authorising-officer", "central-authority-officer", "duty-officer"})
REOPEN_ROLES = DRAFT_ROLES | APPROVE_ROLES
READ_ROLES = DRAFT_ROLES | APPROVE_ROLES | DISPATCH_ROLES
