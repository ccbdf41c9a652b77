"""Chinese and Arabic come out with real glyphs (embedded Noto fonts, ink on the page), and
Arabic reads right to left and extracts in logical order."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from comity.directory.document import Directory
from comity.documents import render_request
from tests.documents.conftest import ON, example, pdf_text

ARABIC_TITLE = "طلب التحفظ العاجل على البيانات الحاسوبية المخزنة"
CHINESE_TITLE = "快速保全存储的计算机数据请求书"


def _fonts(pdf: Path) -> list[tuple[str, bool]]:
    """(font name, embedded) for each font of the PDF, from pdffonts."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, check=True, text=True)
    rows = out.stdout.splitlines()[2:]
    fonts = []
    for row in rows:
        name = row.split()[0]
        embedded = re.search(r"\s(yes|no)\s+(yes|no)\s+(yes|no)\s", row)
        fonts.append((name, bool(embedded and embedded.group(1) == "yes")))
    return fonts


def _gray_page(pdf: Path, out: Path) -> tuple[int, int, bytes]:
    """Page 1 as 8-bit grey pixels (pdftoppm's PGM), without any imaging library."""
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(out)],
        check=True,
    )
    data = out.with_suffix(".pgm").read_bytes()
    header = data.split(maxsplit=4)
    assert header[0] == b"P5"
    width, height, maxval = int(header[1]), int(header[2]), int(header[3])
    assert maxval == 255
    return width, height, data[-width * height :]


@pytest.mark.parametrize(
    ("lang", "kind", "requested", "font"),
    [
        # Erewhon accepts Chinese; the XA-XE treaty governs the request.
        ("zh", "mla", "XE", "Noto-Serif-CJK-SC"),
        # Dorado accepts Arabic; Budapest governs the preservation.
        ("ar", "preservation", "XD", "Noto-Naskh-Arabic"),
    ],
)
def test_page_has_real_glyphs(
    lang: str, kind: str, requested: str, font: str, scenario: Directory, tmp_path: Path
) -> None:
    request = {**example(kind), "requested_party": requested, "instrument": None}
    pdf = tmp_path / f"{lang}.pdf"
    pdf.write_bytes(render_request(request, scenario, lang, "pdf", ON))
    fonts = _fonts(pdf)
    assert any(font in name for name, _ in fonts), fonts
    assert all(embedded for _, embedded in fonts), fonts
    width, height, pixels = _gray_page(pdf, tmp_path / lang)
    dark = sum(1 for value in pixels if value < 128) / (width * height)
    # A blank page has no ink; a page of tofu boxes or solid fill has far too much.
    assert 0.01 < dark < 0.25, dark


def test_arabic_extracts_in_logical_order(polyglot: Directory, tmp_path: Path) -> None:
    text = pdf_text(render_request(example("preservation"), polyglot, "ar", "pdf", ON), tmp_path)
    assert ARABIC_TITLE in text
    assert "ترجمة مطلوبة" in text


def test_chinese_title_extracts(polyglot: Directory, tmp_path: Path) -> None:
    text = pdf_text(render_request(example("preservation"), polyglot, "zh", "pdf", ON), tmp_path)
    assert CHINESE_TITLE in text


@pytest.mark.parametrize(("lang", "right"), [("ar", True), ("en", False)])
def test_requesting_party_opens_the_page_on_the_reading_side(
    lang: str, right: bool, polyglot: Directory, tmp_path: Path
) -> None:
    pdf = tmp_path / f"{lang}.pdf"
    pdf.write_bytes(render_request(example("preservation"), polyglot, lang, "pdf", ON))
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        check=True,
        text=True,
    )
    width = re.search(r'<page width="([\d.]+)"', out.stdout)
    # The requesting party (Xanadu) opens the page: on the right when Arabic runs RTL.
    name = re.search(r'<word xMin="([\d.]+)"[^>]*>Xanadu</word>', out.stdout)
    assert width is not None
    assert name is not None
    assert (float(name.group(1)) > float(width.group(1)) / 2) is right
