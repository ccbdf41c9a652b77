"""The DOCX document: translated title, right-to-left Arabic paragraphs, East Asian font."""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn

from comity.directory.document import Directory
from comity.documents import render_request
from tests.documents.conftest import ON, example

ARABIC_TITLE = "طلب التحفظ العاجل على البيانات الحاسوبية المخزنة"


def _open(content: bytes) -> DocxDocument:
    return Document(io.BytesIO(content))


def test_arabic_docx_has_title_and_rtl_paragraphs(polyglot: Directory) -> None:
    document = _open(render_request(example("preservation"), polyglot, "ar", "docx", ON))
    title = next(p for p in document.paragraphs if p.text == ARABIC_TITLE)
    assert title._p.pPr.find(qn("w:bidi")) is not None
    assert all(run.font.rtl for run in title.runs)
    facts = next(p for p in document.paragraphs if p.text.startswith("On Friday 2026-08-14"))
    assert facts._p.pPr is None or facts._p.pPr.find(qn("w:bidi")) is None
    assert document.sections[0]._sectPr.find(qn("w:bidi")) is not None
    assert any(p.text.startswith("[ترجمة مطلوبة]") for p in document.paragraphs)


def test_chinese_docx_names_an_east_asian_font(polyglot: Directory) -> None:
    document = _open(render_request(example("preservation"), polyglot, "zh", "docx", ON))
    title = next(p for p in document.paragraphs if p.text == "快速保全存储的计算机数据请求书")
    fonts = title.runs[0]._r.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "Noto Serif CJK SC"
    assert title._p.pPr is None or title._p.pPr.find(qn("w:bidi")) is None


def test_french_docx_title_and_language(scenario: Directory) -> None:
    document = _open(render_request(example("mla"), scenario, "fr", "docx", ON))
    assert "Demande d'entraide judiciaire" in [p.text for p in document.paragraphs]
    assert document.core_properties.language == "fr-FR"
