"""Errors of drafting requests (checking them is `comity.law.checking`); each names the
field and carries the HTTP status an edge answers with."""

from __future__ import annotations

from comity.kit.errors import Conflict, Forbidden, NotFound


class DraftNotFound(NotFound):
    code = "draft_not_found"


class StaleDraft(Conflict):
    """The draft changed since the caller read it (optimistic concurrency)."""

    code = "stale_draft"


class DraftNotEditable(Conflict):
    """The draft's status does not allow the operation (e.g. editing an approved draft)."""

    code = "draft_status"


class FourEyes(Forbidden):
    """Approval needs an authorising officer other than the drafter."""

    code = "four_eyes"
