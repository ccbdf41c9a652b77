"""The formal document as PDF: an HTML page laid out by WeasyPrint with Noto fonts, so
Chinese has real glyphs and Arabic is shaped and set right to left."""

from __future__ import annotations

import re
from html import escape

from weasyprint import HTML

from comity.documents.content import Authority, ElementEntry, FormalDocument, Text

# Fontconfig picks the first family that has a glyph; the document language goes first so
# that shared characters (digits, punctuation) match the surrounding text.
FONTS = {
    "ar": '"Noto Naskh Arabic", "Noto Sans Arabic", "Noto Serif", serif',
    "zh": '"Noto Serif CJK SC", "Noto Sans CJK SC", "Noto Serif", serif',
}
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
DEFAULT_FONTS = '"Noto Serif", "Noto Naskh Arabic", "Noto Serif CJK SC", serif'

STYLE = """
@page {
  size: A4;
  margin: 22mm 20mm 24mm 20mm;
  @bottom-center { content: %(page)s; font-size: 8pt; }
}
html { font-family: %(fonts)s; font-size: 10.5pt; line-height: 1.45; color: #000; }
h1 { font-size: 15pt; text-align: center; margin: 8mm 0 6mm; }
h2 { font-size: 11.5pt; border-bottom: 0.6pt solid #000; margin: 6mm 0 2mm; }
h3 { font-size: 10.5pt; margin: 4mm 0 0.5mm; }
p { margin: 0.8mm 0; }
.parties { display: flex; gap: 10mm; }
.party { flex: 1; }
.party h2 { margin-top: 0; }
.name { font-weight: bold; }
.field-label { font-weight: bold; }
.citation { font-size: 8.5pt; color: #333; }
.missing { font-style: italic; }
.marker { display: inline-block; border: 0.8pt solid #000; padding: 0.3mm 1.5mm;
          font-size: 8.5pt; font-weight: bold; margin: 0.8mm 0; }
.notice { font-size: 9pt; border: 0.6pt solid #000; padding: 2mm; margin-top: 5mm; }
.signature { margin-top: 10mm; break-inside: avoid; }
.line { margin-top: 9mm; border-top: 0.6pt solid #000; width: 80mm; padding-top: 1mm;
        font-size: 9pt; }
.seal { margin-top: 8mm; width: 40mm; height: 40mm; border: 0.6pt dashed #000;
        text-align: center; font-size: 9pt; padding-top: 17mm; box-sizing: border-box; }
"""


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _page_counter(template: str) -> str:
    """`Page {page} of {pages}` as CSS `content`, with the counters in the translated order."""
    parts = re.split(r"(\{page\}|\{pages\})", template)
    counters = {"{page}": "counter(page)", "{pages}": "counter(pages)"}
    return " ".join(counters.get(part) or _css_string(part) for part in parts if part)


def _direction(text: str) -> str:
    """The base direction of a name or value: right to left when it has Arabic letters."""
    return "rtl" if _ARABIC.search(text) else "ltr"


def _bdi(text: str) -> str:
    """Isolate a name or code so a Latin comma or parenthesis stays in place on an RTL page."""
    return f'<bdi dir="{_direction(text)}">{escape(text)}</bdi>'


def _text(text: Text, doc: FormalDocument, tag: str = "p", css: str = "value") -> str:
    attrs = f'class="{css}"'
    if text.lang != doc.lang:
        # Left-to-right free text inside an Arabic page must keep its own direction.
        direction = "rtl" if text.lang == "ar" else "ltr"
        attrs += f' lang="{escape(text.lang)}" dir="{direction}"'
    return f"<{tag} {attrs}>{escape(text.value)}</{tag}>"


def _authority(party: Authority, doc: FormalDocument, extra: str = "") -> str:
    lines = [f"<h2>{escape(party.heading)}</h2>", f'<p class="name">{_bdi(party.party)}</p>']
    if party.authority:
        lines.append(
            f'<p><span class="field-label">{escape(doc.labels["authority"])}:</span> '
            f"{_bdi(party.authority)}</p>"
        )
    if party.contact:
        lines.append(
            f'<p><span class="field-label">{escape(doc.labels["contact"])}:</span> '
            f"{_bdi(party.contact)}</p>"
        )
    return f'<section class="party">{"".join(lines)}{extra}</section>'


def _element(number: int, entry: ElementEntry, doc: FormalDocument) -> str:
    parts = [
        f"<h3>{number}. {escape(entry.label)}</h3>",
        f'<p class="citation">{escape(doc.labels["citation"])}: {_bdi(entry.citation)}</p>',
    ]
    if entry.value is None:
        parts.append(f'<p class="missing">{escape(doc.labels["not_provided"])}</p>')
    else:
        if entry.value.needs_translation:
            original = doc.labels["original_language"].format(language=doc.source_language_name)
            parts.append(
                f'<p><span class="marker">{escape(doc.labels["translation_required"])}</span> '
                f"{escape(original)}</p>"
            )
        parts.append(_text(entry.value, doc))
    return f'<div class="element">{"".join(parts)}</div>'


def to_html(doc: FormalDocument) -> str:
    """The document as a self-contained HTML page (also useful to preview it)."""
    channel = (
        f'<p><span class="field-label">{escape(doc.labels["channel"])}:</span> '
        f"{escape(doc.channel)}</p>"
    )
    basis = [
        f"<h2>{escape(doc.labels['legal_basis'])}</h2>",
        f'<p><span class="field-label">{escape(doc.labels["instrument"])}:</span> '
        f"{escape(doc.instrument_title)}</p>",
        f'<p><span class="field-label">{escape(doc.labels["articles"])}:</span> '
        f"{_bdi(doc.articles)}</p>",
    ]
    if doc.treaty:
        basis.append(
            f'<p><span class="field-label">{escape(doc.labels["treaty"])}:</span> '
            f"{_bdi(doc.treaty)}</p>"
        )
    elements = "".join(_element(i, e, doc) for i, e in enumerate(doc.elements, start=1))
    notice = (
        f'<p class="notice">{escape(doc.labels["kept_as_written"])}</p>'
        if doc.needs_translation
        else ""
    )
    signature = (
        f'<section class="signature"><p>{escape(doc.labels["done_at"])}</p>'
        f'<p class="line">{escape(doc.labels["signature"])}</p>'
        f'<p class="line">{escape(doc.labels["name_and_title"])}</p>'
        f'<div class="seal">{escape(doc.labels["seal"])}</div></section>'
    )
    style = STYLE % {
        "page": _page_counter(doc.labels["page"]),
        "fonts": FONTS.get(doc.lang, DEFAULT_FONTS),
    }
    direction = "rtl" if doc.rtl else "ltr"
    return (
        f'<!DOCTYPE html><html lang="{doc.lang}" dir="{direction}"><head><meta charset="utf-8">'
        f"<title>{escape(doc.title)}</title>"
        f'<meta name="generator" content="comity"><style>{style}</style></head><body>'
        f'<div class="parties">{_authority(doc.requesting, doc)}'
        f"{_authority(doc.requested, doc, channel)}</div>"
        f"<h1>{escape(doc.title)}</h1>"
        f'<section class="basis">{"".join(basis)}</section>'
        f'<section class="contents"><h2>{escape(doc.labels["contents"])}</h2>{elements}'
        f"</section>{notice}{signature}</body></html>"
    )


def to_pdf(doc: FormalDocument) -> bytes:
    """The document as PDF bytes."""
    pdf = HTML(string=to_html(doc)).write_pdf()
    assert pdf is not None  # noqa: S101 - write_pdf returns bytes when given no target
    return pdf
