"""The page view highlights the cited passage: rectangles on the right lines, painted, in view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from rag_desktop.gui.panels.pdf_view import PdfPane
from rag_desktop.library.documents import read_pdf

X, TOP, STEP, HEIGHT = 72.0, 430.0, 26.0, 14.0  # points: lines low on the page, to scroll to
LINES = [
    "Intro heading line",
    "The quick brown fox jumps over the",
    "lazy dog and the config-",
    "uration of the engraver is de-",
    "scribed here in detail.",
    "Another unrelated final line.",
]
NEXT_PAGE = "Words printed on the second page only."
Pdf = tuple[Path, float]  # the test PDF and its cells' left text margin (points)


def cell_top(line: int) -> float:
    return TOP + STEP * line


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Pdf:
    """A two-page PDF with LINES at known places; (path, the cell's left text margin)."""
    from fpdf import FPDF

    doc = FPDF(unit="pt", format="A4")
    doc.set_font("Helvetica", size=12)
    doc.add_page()
    for i, line in enumerate(LINES):
        doc.set_xy(X, cell_top(i))
        doc.cell(400, HEIGHT, line)
    doc.add_page()
    doc.set_xy(X, 100)
    doc.cell(400, HEIGHT, NEXT_PAGE)
    path = tmp_path_factory.mktemp("highlight") / "lines.pdf"
    doc.output(str(path))
    return path, float(doc.c_margin)


def string_width(text: str) -> float:
    from fpdf import FPDF

    doc = FPDF(unit="pt")
    doc.set_font("Helvetica", size=12)
    return float(doc.get_string_width(text))


def cleaned(path: Path, first: str, last: str) -> str:
    """The library's cleaned page-1 text from `first` to the end of `last`: a chunk's text."""
    text = read_pdf(path)[0].text
    return text[text.index(first) : text.index(last) + len(last)]


@pytest.fixture
def pane(qtbot: Any) -> PdfPane:
    widget = PdfPane()
    qtbot.addWidget(widget)
    widget.resize(520, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def assert_on_line(rect: QRectF, line: int, margin: float, text: str) -> None:
    """`rect` (points) covers `text`, which starts line `line` at its cell's text margin."""
    left = X + margin
    assert abs(rect.left() - left) <= 2, (rect, line)
    assert abs(rect.right() - (left + string_width(text))) <= 2, (rect, line)
    assert abs(rect.center().y() - (cell_top(line) + HEIGHT / 2)) <= 2, (rect, line)
    assert rect.height() <= HEIGHT


def test_the_passage_lines_are_highlighted_across_hyphenations(pane: PdfPane,
                                                               pdf: Pdf) -> None:
    path, margin = pdf
    chunk = cleaned(path, "The quick", "detail.")
    # The cleaner joined both hyphenated words and kept the line break of the first line.
    assert "configuration of the engraver is described here" in chunk
    assert pane.show_page(path, 1, None, fallback=False, passage=chunk)
    rects = pane.highlight_rects()
    assert len(rects) == 4
    for rect, line in zip(rects, range(1, 5), strict=True):
        assert_on_line(rect, line, margin, LINES[line])


def test_a_chunk_continuing_on_the_next_page_lights_its_part(pane: PdfPane, pdf: Pdf) -> None:
    path, margin = pdf
    chunk = cleaned(path, "scribed", "final line.") + "\n" + NEXT_PAGE
    assert pane.show_page(path, 1, passage=chunk)
    rects = pane.highlight_rects()
    assert len(rects) == 2
    assert_on_line(rects[0], 4, margin, LINES[4])
    assert_on_line(rects[1], 5, margin, LINES[5])


def test_a_passage_not_on_the_page_shows_the_page_unlit(pane: PdfPane, pdf: Pdf) -> None:
    path, _ = pdf
    chunk = cleaned(path, "The quick", "detail.")
    assert pane.show_page(path, 1, passage=chunk)
    assert pane.highlight_rects()
    assert pane.show_page(path, 2, passage=chunk)  # page 1's passage, page 2 shown
    assert pane.highlight_rects() == []
    assert pane.current_page() == 2
    assert pane.show_page(path, 1, passage="Nothing like this is printed in the file at all.")
    assert pane.highlight_rects() == []
    assert pane.show_page(path, 1, passage=chunk)
    assert pane.view.verticalScrollBar().value() > 0
    assert pane.show_page(path, 1)  # no passage: no highlight left from the last one
    assert pane.highlight_rects() == []
    assert pane.view.verticalScrollBar().value() == 0  # and the page's top again
    pane.show_page(path, 1, passage=chunk)
    pane.clear()
    assert pane.highlight_rects() == []


def pixels(image: QImage) -> np.ndarray:
    """(height, width, 3) RGB of a grabbed widget."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(
        image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).astype(int)


def bands(rows: Any) -> list[tuple[int, int]]:
    """Runs of consecutive True rows, as (first, last)."""
    out: list[tuple[int, int]] = []
    for y in np.flatnonzero(rows):
        if out and y == out[-1][1] + 1:
            out[-1] = (out[-1][0], int(y))
        else:
            out.append((int(y), int(y)))
    return out


def test_the_overlay_is_painted_over_the_rendered_lines(qtbot: Any, pane: PdfPane,
                                                        pdf: Pdf) -> None:
    path, _ = pdf
    assert pane.show_page(path, 1, passage=cleaned(path, "The quick", "detail."))
    view = pane.view
    # The lines are below the first screenful: the view scrolled down to the passage.
    assert view.verticalScrollBar().value() > 0

    def grab() -> np.ndarray:
        return pixels(view.viewport().grab().toImage())

    # Qt renders pages in a thread: wait until text (dark pixels) is drawn.
    qtbot.waitUntil(lambda: bool((grab().max(axis=2) < 100).any()), timeout=10_000)
    rgb = grab()
    # Only the page's columns (mostly white): the grey around the page is not ink.
    page = ((rgb > 250).all(axis=2).mean(axis=0) > 0.5)
    rgb = rgb[:, np.flatnonzero(page)[0] : np.flatnonzero(page)[-1] + 1]
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    yellow = (r > 200) & (g > 190) & (b < 200) & (r - b > 50)
    text = r < 170  # glyph pixels: dark in red too under the translucent yellow
    lit = bands(yellow.any(axis=1))
    lines = bands(text.any(axis=1))
    # Four yellow bands, each over exactly one rendered line; the line above stays unlit.
    assert len(lit) == 4, lit
    for top, bottom in lit:
        inside = [line for line in lines if top <= line[0] and line[1] <= bottom]
        assert len(inside) == 1, (top, bottom, lines)
    above = [line for line in lines if line[1] < lit[0][0]]
    assert above and not yellow[above[-1][0] : above[-1][1] + 1].any()
    below = [line for line in lines if line[0] > lit[-1][1]]
    assert below and not yellow[below[0][0] : below[0][1] + 1].any()
    # The overlay sits on the text horizontally too: it starts at the lines' left edge.
    columns = np.flatnonzero(yellow.any(axis=0))
    text_left = np.flatnonzero(text[lit[0][0] : lit[0][1] + 1].any(axis=0))[0]
    assert abs(columns[0] - text_left) <= 3


def first_line_in_view(pane: PdfPane) -> bool:
    rects = pane.view.viewport_rects()
    return bool(rects) and pane.view.viewport().rect().toRectF().contains(rects[0])


def test_the_passage_comes_into_view_once_the_pane_is_laid_out(qtbot: Any, pdf: Pdf) -> None:
    path, _ = pdf
    widget = PdfPane()
    qtbot.addWidget(widget)
    # Shown before the pane has its size (a source picked while another tab is in front).
    assert widget.show_page(path, 1, passage=cleaned(path, "The quick", "detail."))
    widget.resize(520, 300)
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.view.verticalScrollBar().value() > 0
    assert first_line_in_view(widget)
    # Once the user scrolls, a resize no longer pulls the view back to the passage.
    bar = widget.view.verticalScrollBar()
    bar.triggerAction(bar.SliderAction.SliderToMinimum)
    widget.resize(500, 320)
    qtbot.waitUntil(lambda: widget.view.viewport().width() < 500)
    assert bar.value() == 0
    assert not first_line_in_view(widget)
