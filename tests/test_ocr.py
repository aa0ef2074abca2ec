"""OCR of scanned pages: real image-only PDFs (text drawn by Pillow), read by the real engine."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np
import pytest

# The OCR engine is in the dev extra (`make setup` installs it): its absence is a failure here.
import rapidocr_onnxruntime  # noqa: F401

from rag_desktop.config import OcrSettings
from rag_desktop.library import ocr, ocr_engines
from rag_desktop.library.documents import DocumentError, read_pdf
from rag_desktop.progress import Cancelled, CancelToken, ProgressEvent
from tests.pdfs import nanum_font

DESCALE = ["Descaling: fill the kettle with white", "vinegar and boil it for fifteen minutes."]
FILTER = ["Filter: rinse the charcoal filter under", "cold water once every month."]
TEXT_PAGE = "Warranty: the kettle is covered for two years from the date of purchase."
# A4 at 150 dpi; the font is about 19 pt on paper, a clean scan's size.
_PAGE_PX = (1240, 1754)


def korean_tesseract(*data: str) -> None:
    """Skip without Tesseract's `data` languages; fail instead where CI says it has them."""
    missing = set(data) - ocr.tesseract_languages()
    if missing:
        message = f"Tesseract lacks {sorted(missing)} (apt install tesseract-ocr-kor)"
        if os.environ.get("RAG_DESKTOP_REQUIRE_TESSERACT"):
            pytest.fail(message)
        pytest.skip(message)


def page_image(lines: list[str] | None, font: Path | None = None) -> object:
    """A white page with `lines` in large type; None: a page of pure noise."""
    from PIL import Image, ImageDraw, ImageFont

    if lines is None:
        noise = np.random.default_rng(7).integers(0, 256, _PAGE_PX[::-1], dtype=np.uint8)
        return Image.fromarray(noise)
    image = Image.new("L", _PAGE_PX, 255)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(str(font or nanum_font()), 40)
    for i, line in enumerate(lines):
        draw.text((100, 150 + 60 * i), line, font=face, fill=0)
    return image


def make_scanned_pdf(path: Path, pages: list[list[str] | str | None],
                     font: Path | None = None) -> Path:
    """One page per item: lines -> a picture of them; str -> a text-layer page; None -> noise."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for item in pages:
        pdf.add_page()
        if isinstance(item, str):
            pdf.multi_cell(0, 8, item)
        else:
            pdf.image(page_image(item, font), x=0, y=0, w=210, h=297)
    pdf.output(str(path))
    return path


def test_a_scanned_pdf_is_read_searched_and_recorded(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from rag_desktop.library.library import Library

    pdf = make_scanned_pdf(tmp_path / "scan.pdf", [DESCALE, FILTER])
    events: list[ProgressEvent] = []
    with Library.open(tmp_path / "lib", embedder) as lib:
        info = lib.add_pdf(pdf, progress=events.append).document
        ocr_events = [(e.done, e.total) for e in events if e.stage == "ocr"]
        assert ocr_events == [(0, 2), (1, 2), (2, 2)]
        descale = lib.search("how do I descale the kettle with vinegar?", k=2).hits
        assert descale[0].chunk.page == 1 and "vinegar" in descale[0].chunk.text
        rinse = lib.search("how often should the charcoal filter be rinsed?", k=2).hits
        assert rinse[0].chunk.page == 2 and "charcoal" in rinse[0].chunk.text
        sources = ocr.page_sources(lib.store.conn, info.sha256, info.pages)
        assert {s.source for s in sources.values()} == {"ocr"}
        assert all(s.engine == "rapidocr" and (s.confidence or 0) > 0.8 for s in sources.values())
        lib.remove(info.sha256)  # the trigger forgets its OCR records with it
        assert ocr.page_sources(lib.store.conn, info.sha256, 1) == {1: ocr.PageSource("pdf")}


def test_a_mixed_pdf_keeps_its_text_layer_and_reads_only_the_picture(tmp_path: Path) -> None:
    pdf = make_scanned_pdf(tmp_path / "mixed.pdf", [TEXT_PAGE, DESCALE])
    events: list[ProgressEvent] = []
    pages = read_pdf(pdf, events.append)
    assert pages[0].ocr is None and pages[0].text == TEXT_PAGE
    assert pages[1].ocr is not None and pages[1].ocr.engine == "rapidocr"
    assert "boil it for fifteen minutes" in pages[1].text
    assert max(e.total for e in events if e.stage == "ocr") == 1


def test_a_noise_page_is_reported_and_the_rest_is_kept(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    pdf = make_scanned_pdf(tmp_path / "noisy.pdf", [FILTER, None])
    with caplog.at_level(logging.WARNING, logger="rag_desktop.library.ocr"):
        pages = read_pdf(pdf)
    assert "charcoal filter" in pages[0].text
    assert pages[1].text == "" and pages[1].ocr == ocr.PageOcr("", 0.0, "rapidocr")
    assert "noisy.pdf: page 2: OCR found no text" in caplog.text


def test_a_page_of_noise_only_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="OCR found no text") as info:
        read_pdf(make_scanned_pdf(tmp_path / "noise.pdf", [None]))
    assert "no text layer (scanned?)" in str(info.value)


def test_ocr_is_cancelled_between_pages(tmp_path: Path) -> None:
    pdf = make_scanned_pdf(tmp_path / "scan.pdf", [DESCALE, FILTER])
    cancel = CancelToken()
    done: list[int] = []

    def progress(event: ProgressEvent) -> None:
        if event.stage == "ocr":
            done.append(event.done)
            if event.done == 1:
                cancel.cancel()

    with pytest.raises(Cancelled):
        read_pdf(pdf, progress, cancel)
    assert done == [0, 1]


def test_without_the_engine_the_message_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = make_scanned_pdf(tmp_path / "scan.pdf", [DESCALE])
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # import fails
    monkeypatch.setattr(ocr_engines, "_rapid", None)
    with pytest.raises(DocumentError, match=r"pip install 'rag-desktop\[ocr\]'"):
        read_pdf(pdf)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(DocumentError, match="OCR is not part of this build"):
        read_pdf(pdf)
    # A mixed document keeps its text pages; the scanned page is left out.
    pages = read_pdf(make_scanned_pdf(tmp_path / "mixed.pdf", [TEXT_PAGE, DESCALE]))
    assert [p.number for p in pages] == [1, 2] and pages[1].text == "" and pages[1].ocr is None


KOREAN = ["주전자 석회 제거: 식초를 넣고", "십오 분 동안 끓이십시오."]


def test_korean_without_tesseract_says_what_to_install(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr_engines, "tesseract_languages", set)  # as on a machine without it
    pdf = make_scanned_pdf(tmp_path / "ko.pdf", [KOREAN])
    with pytest.raises(DocumentError, match="apt install tesseract-ocr tesseract-ocr-kor"):
        read_pdf(pdf, ocr=OcrSettings(language="ko"))


def test_korean_is_read_by_tesseract(tmp_path: Path) -> None:
    korean_tesseract("kor")
    pages = read_pdf(make_scanned_pdf(tmp_path / "ko.pdf", [KOREAN]),
                     ocr=OcrSettings(language="ko"))
    assert pages[0].ocr is not None and pages[0].ocr.engine == "tesseract"
    assert "식초" in pages[0].text


def test_fragments_are_joined_into_lines_in_reading_order() -> None:
    def box(x: float, y: float) -> list[list[float]]:
        return [[x, y], [x + 50, y], [x + 50, y + 20], [x, y + 20]]

    lines = ocr.group_lines([(box(200, 102), "world", 0.5), (box(10, 100), "hello", 1.0),
                             (box(10, 160), "next", 0.9), (box(10, 130), " ", 0.1)])
    assert lines == [[("hello", 1.0), ("world", 0.5)], [("next", 0.9)]]
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tl\tt\tw\th\tconf\ttext\n"
           "5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t96.0\t주전자\n5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t80\t식초\n"
           "4\t1\t1\t1\t2\t0\t0\t0\t1\t1\t-1\t\n5\t1\t1\t1\t2\t1\t0\t0\t1\t1\t50\tok\n")
    assert ocr.parse_tsv(tsv) == [[("주전자", 0.96), ("식초", 0.8)], [("ok", 0.5)]]
    assert ocr.hangul_share(["주전자 ab", None]) == pytest.approx(0.6)


def test_loading_the_engine_leaves_the_qt_environment_alone() -> None:
    """opencv-python's import points Qt's plugin path at its own Qt; the app's must not move.
    In a fresh interpreter: in this one an earlier test may have loaded the engine already."""
    import subprocess
    import sys

    code = ("import os; keys = ('QT_QPA_PLATFORM_PLUGIN_PATH', 'QT_QPA_FONTDIR', "
            "'LD_LIBRARY_PATH'); before = {k: os.environ.get(k) for k in keys}\n"
            "from rag_desktop.library import ocr; ocr.rapid_engine()\n"
            "import cv2  # already imported: the variables stay as they were\n"
            "assert {k: os.environ.get(k) for k in keys} == before, os.environ")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
