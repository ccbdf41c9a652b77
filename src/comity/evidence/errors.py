"""Why an evidence operation was refused. Messages name the file or event concerned and never
quote the content of evidence."""

from __future__ import annotations

from comity.kit.errors import ComityError


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
