"""Errors of the document renderer; each names the option at fault."""

from __future__ import annotations

from comity.kit.errors import ComityError


class DocumentError(ComityError):
    """A formal document cannot be produced as asked."""

    status_code = 422
    code = "document_error"


class LanguageNotAccepted(DocumentError):
    """The requested party does not accept documents in the language asked for, or the
    language is not one of the six the templates are translated into."""

    code = "language_not_accepted"


class UnsupportedFormat(DocumentError):
    code = "unsupported_format"
