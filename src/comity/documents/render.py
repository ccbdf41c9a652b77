"""`render_request`: a request and the directory in, the signed-and-filed document out."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from comity.directory.document import Directory
from comity.documents.content import LANGUAGES, build_document
from comity.documents.errors import UnsupportedFormat

Format = Literal["pdf", "docx"]
FORMATS: tuple[Format, ...] = ("pdf", "docx")

__all__ = ["FORMATS", "LANGUAGES", "Format", "render_request"]


def render_request(
    request: dict[str, Any], directory: Directory, lang: str, fmt: str, on: date
) -> bytes:
    """The formal document of `request` in `lang` as PDF or DOCX bytes, under the law that
    binds the parties on `on`; refuses a language the requested party does not accept."""
    if fmt not in FORMATS:
        raise UnsupportedFormat(
            f"format: {fmt!r} is not supported; use one of {', '.join(FORMATS)}", field="format"
        )
    doc = build_document(request, directory, lang, on)
    if fmt == "pdf":
        from comity.documents.pdf import to_pdf  # WeasyPrint is slow to import; load on use

        return to_pdf(doc)
    from comity.documents.word import to_docx

    return to_docx(doc)
