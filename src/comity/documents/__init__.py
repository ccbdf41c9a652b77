"""The formal document a central authority signs and files: a request rendered from
translated templates into the requested party's language, as PDF or DOCX.

Structured parts (title, headings, element labels) come from the gettext catalogs in
`locale/`; free text is reproduced as written and marked when it needs translation.
"""

from comity.documents.content import FormalDocument, build_document
from comity.documents.errors import DocumentError, LanguageNotAccepted, UnsupportedFormat
from comity.documents.render import FORMATS, LANGUAGES, render_request

__all__ = [
    "FORMATS",
    "LANGUAGES",
    "DocumentError",
    "FormalDocument",
    "LanguageNotAccepted",
    "UnsupportedFormat",
    "build_document",
    "render_request",
]
