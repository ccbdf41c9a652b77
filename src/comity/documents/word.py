"""The formal document as DOCX (python-docx), for authorities that sign and file in a word
processor: Arabic paragraphs are marked right to left (bidi), and every run names an East
Asian and a complex-script font so Chinese and Arabic display with real glyphs."""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from comity.documents.content import Authority, FormalDocument, Text

LATIN_FONT = "Noto Serif"
EAST_ASIAN_FONT = "Noto Serif CJK SC"
COMPLEX_SCRIPT_FONT = "Noto Naskh Arabic"
WORD_LANGUAGE = {
    "ar": "ar-SA",
    "zh": "zh-CN",
    "en": "en-GB",
    "fr": "fr-FR",
    "ru": "ru-RU",
    "es": "es-ES",
}
# Elements that follow w:bidi in a paragraph's properties (ECMA-376 CT_PPrBase order).
_AFTER_BIDI = (
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def _set_rtl(paragraph: Paragraph) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    if p_pr.find(qn("w:bidi")) is None:
        p_pr.insert_element_before(OxmlElement("w:bidi"), *_AFTER_BIDI)


def _add(
    document: DocxDocument,
    text: str,
    lang: str,
    *,
    style: str | None = None,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    center: bool = False,
) -> Paragraph:
    paragraph = document.add_paragraph(style=style)
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    if size:
        run.font.size = Pt(size)
    fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi"):
        fonts.set(qn(attribute), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    fonts.set(qn("w:cs"), COMPLEX_SCRIPT_FONT)
    if lang == "ar":
        _set_rtl(paragraph)
        run.font.rtl = True
        run.font.complex_script = True
        if bold:
            run.font.cs_bold = True
        if italic:
            run.font.cs_italic = True
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return paragraph


def _label(document: DocxDocument, doc: FormalDocument, label: str, value: str) -> None:
    _add(document, f"{label}: {value}", doc.lang)


def _party(document: DocxDocument, doc: FormalDocument, party: Authority) -> None:
    _add(document, party.heading, doc.lang, bold=True, size=11.5)
    _add(document, party.party, doc.lang, bold=True)
    if party.authority:
        _label(document, doc, doc.labels["authority"], party.authority)
    if party.contact:
        _label(document, doc, doc.labels["contact"], party.contact)


def _value(document: DocxDocument, value: Text) -> None:
    _add(document, value.value, value.lang)


def _defaults(document: DocxDocument, lang: str) -> None:
    normal = document.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(10.5)
    r_pr = normal.element.get_or_add_rPr()
    fonts = r_pr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    fonts.set(qn("w:cs"), COMPLEX_SCRIPT_FONT)
    language = r_pr.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        r_pr.append(language)
    tag = WORD_LANGUAGE[lang]
    language.set(qn("w:val"), tag if lang not in {"ar", "zh"} else "en-GB")
    language.set(qn("w:eastAsia"), WORD_LANGUAGE["zh"])
    language.set(qn("w:bidi"), WORD_LANGUAGE["ar"])
    if lang == "ar":
        # The section itself runs right to left: columns, margins and page numbers mirror.
        section = document.sections[0]._sectPr
        if section.find(qn("w:bidi")) is None:
            section.append(OxmlElement("w:bidi"))


def to_docx(doc: FormalDocument) -> bytes:
    """The document as DOCX bytes."""
    document = Document()
    _defaults(document, doc.lang)
    properties = document.core_properties
    properties.title = doc.title
    properties.language = WORD_LANGUAGE[doc.lang]
    properties.author = doc.requesting.authority or doc.requesting.party
    _party(document, doc, doc.requesting)
    _party(document, doc, doc.requested)
    _label(document, doc, doc.labels["channel"], doc.channel)
    _add(document, doc.title, doc.lang, style="Title", bold=True, size=16, center=True)
    _add(document, doc.labels["legal_basis"], doc.lang, bold=True, size=11.5)
    _label(document, doc, doc.labels["instrument"], doc.instrument_title)
    _label(document, doc, doc.labels["articles"], doc.articles)
    if doc.treaty:
        _label(document, doc, doc.labels["treaty"], doc.treaty)
    _add(document, doc.labels["contents"], doc.lang, bold=True, size=11.5)
    for number, entry in enumerate(doc.elements, start=1):
        _add(document, f"{number}. {entry.label}", doc.lang, bold=True)
        _add(document, f"{doc.labels['citation']}: {entry.citation}", doc.lang, size=8.5)
        if entry.value is None:
            _add(document, doc.labels["not_provided"], doc.lang, italic=True)
            continue
        if entry.value.needs_translation:
            original = doc.labels["original_language"].format(language=doc.source_language_name)
            _add(
                document,
                f"[{doc.labels['translation_required'].upper()}] {original}",
                doc.lang,
                bold=True,
                size=8.5,
            )
        _value(document, entry.value)
    if doc.needs_translation:
        _add(document, doc.labels["kept_as_written"], doc.lang, italic=True, size=9)
    _add(document, "", doc.lang)
    _add(document, doc.labels["done_at"], doc.lang)
    for line in ("signature", "name_and_title", "seal"):
        _add(document, "", doc.lang)
        _add(document, f"{doc.labels[line]}: ______________________________", doc.lang)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
