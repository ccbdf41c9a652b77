"""Errors of drafting and checking requests; each names the field and, where there is one,
the article concerned, and carries the HTTP status an edge answers with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from comity.kit.errors import ComityError, Conflict, Forbidden, NotFound

if TYPE_CHECKING:
    from comity.law import Finding


class MalformedRequest(ComityError):
    """A request document that is not JSON, not an object, or has a field of the wrong type
    where comity cannot check it (kind, parties, instrument, language)."""

    status_code = 422
    code = "malformed_request"


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


class BlockingFindings(ComityError):
    """The request cannot be approved or sent while a blocking finding remains."""

    status_code = 422
    code = "blocking_findings"

    @classmethod
    def of(cls, what: str, blocking: list[Finding]) -> BlockingFindings:
        """The error for a request that cannot be `what` ("approved", "sent", …)."""
        listed = "; ".join(
            f"{f.element} ({f.citation})" if f.citation else f.element for f in blocking
        )
        return cls(
            f"the request cannot be {what} while {len(blocking)} finding(s) block: {listed}",
            findings=[
                {"element": f.element, "citation": f.citation, "message": f.message}
                for f in blocking
            ],
        )
