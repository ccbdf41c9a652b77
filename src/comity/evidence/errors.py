"""Why an evidence operation was refused. Messages name the file or event concerned and never
quote the content of evidence."""

from __future__ import annotations

from comity.kit.errors import ComityError, Conflict


class EvidenceError(ComityError):
    status_code = 422
    code = "evidence_invalid"


class UnsafePath(EvidenceError):
    """A file name that could escape the package folder or is not portable."""

    code = "evidence_unsafe_path"


class PackageMalformed(EvidenceError):
    code = "evidence_package_malformed"


class ChunkRefused(EvidenceError):
    """An encrypted chunk failed authentication: altered, reordered, truncated or extended."""

    code = "evidence_chunk_refused"


class BlobCorrupted(EvidenceError):
    code = "evidence_blob_corrupted"


class NotVerified(EvidenceError):
    status_code = 409
    code = "evidence_not_verified"


class ConditionsNotAcknowledged(EvidenceError):
    status_code = 428
    code = "evidence_conditions_not_acknowledged"


class UseNotPermitted(EvidenceError):
    status_code = 403
    code = "evidence_use_not_permitted"


class AlreadySent(EvidenceError):
    """The package already went to that party: a second transfer would duplicate the
    evidence in its store and in the chain of custody."""

    status_code = 409
    code = "evidence_already_sent"


class ConsentRequired(Conflict):
    """Information supplied on conditions may not be passed on (an act's information, or an
    evidence package: onward transfer, disclosure) without the supplier's consent.

    409, not 403: the caller has the right to pass information on; what stands in the way is
    the state of this information — no consent yet — and asking the supplier (then trying
    again) changes it. A 403 would tell the user their role is wrong, which it is not."""

    code = "consent_required"


class StatusNotAllowed(Conflict):
    """A status change its transition table (`models.py`) does not allow."""

    code = "evidence_status_not_allowed"


class ConsentAlreadyDecided(StatusNotAllowed):
    """A consent already has an answer, and a different one came: the first stands."""

    code = "evidence_consent_decided"


class UseReportAlreadyReceived(StatusNotAllowed):
    """A use report already has its answer, and a different one came: the first stands."""

    code = "evidence_use_report_received"
