"""A scanned PDF in the real window: OCR in the background with its pace, a question answered
while it runs ("answered from N of M pages"), and the cited passage highlighted on a scan."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from rag_desktop.answer import Source
from rag_desktop.gui.app import make_app, open_settings
from rag_desktop.gui.main_window import MainWindow
from rag_desktop.gui.params import Params
from tests.gui.conftest import GapProbe
from tests.pdfs import make_pdf
from tests.test_ocr import DESCALE, FILTER, make_scanned_pdf
from tests.test_scanned import PT_PER_PX, WARRANTY

GAP_LIMIT_S = 0.100
MANUAL = ["The kettle holds 1.7 litres of water and boils it in about four minutes.",
          "Press the lid button to open the lid; never open it while the water boils."]


@pytest.fixture(scope="module")
def window(gui_home: Path) -> Iterator[MainWindow]:
    """The main window on a library with one small text manual, the default model loaded."""
    make_app([])
    win = MainWindow(open_settings(gui_home / "gui-settings.ini"))
    win.apply_params(Params(max_tokens=16))
    win.show()
    win.start(library=gui_home / "libraries" / "manuals")
    yield win
    win.close()
    QApplication.processEvents()


def test_a_question_is_answered_while_a_scan_is_read(window: MainWindow, qtbot: Any,
                                                     tmp_path: Path) -> None:
    qtbot.waitUntil(lambda: window.library_path is not None and not window.client.working_on
                    and window.model_info is not None, timeout=600000)
    with qtbot.waitSignal(window.client.ingest_finished, timeout=600000):
        window.add_pdfs([str(make_pdf(tmp_path / "kettle.pdf", MANUAL))])
    scan = make_scanned_pdf(tmp_path / "scan.pdf", [WARRANTY, DESCALE, FILTER, WARRANTY,
                                                    DESCALE, FILTER])
    labels: list[str] = []
    got: dict[str, Any] = {}

    def on_progress(_job: int, event: Any) -> None:
        labels.append(window.library_panel.progress_label.text())
        if event.stage == "ocr" and event.done >= 1 and "asked" not in got:
            got["asked"] = True
            window.ask_panel.question.setPlainText("How much water does the kettle hold?")
            window.ask_panel.request_ask()

    window.client.progress.connect(on_progress)
    window.client.answered.connect(lambda *args: got.setdefault("answer", (args, len(got))))
    window.client.ingest_finished.connect(lambda *args: got.setdefault("ingest", len(got)))
    probe = GapProbe().start()
    window.add_pdfs([str(scan)])
    qtbot.waitUntil(lambda: "answer" in got and "ingest" in got, timeout=600000)
    gap = probe.stop()
    print(f"OCR with a question: longest GUI gap {gap * 1000:.0f} ms over {probe.ticks} ticks")
    window.client.progress.disconnect(on_progress)
    (_, result), answer_order = got["answer"]
    assert answer_order < got["ingest"], "the answer waited for the ingestion"
    assert result.answer.coverage == (2, 8)
    assert "answered from 2 of 8 pages" in window.ask_panel.metrics.text()
    assert any("pages/s" in text and "left" in text for text in labels), labels[-5:]
    assert gap < GAP_LIMIT_S, f"longest gap {gap * 1000:.0f} ms; {probe.where}"
    assert {d.name for d in window.documents} == {"kettle.pdf", "scan.pdf"}
    model = window.library_panel.model
    row = next(i for i, r in enumerate(model.rows) if r.name == "scan.pdf")
    assert model.data(model.index(row, 4)) == "ok · 6 pages by OCR"
    assert "6 scanned pages read by OCR, mean confidence 0.9" in model.data(
        model.index(row, 4), Qt.ItemDataRole.ToolTipRole)


def test_the_cited_passage_is_highlighted_on_a_scanned_page(window: MainWindow,
                                                            qtbot: Any) -> None:
    qtbot.waitUntil(lambda: len(window.documents) == 2, timeout=60000)
    text = "Descaling: fill the kettle with white vinegar and boil it for fifteen minutes."
    source = Source(1, "scan.pdf", 2, None, text, 0.0, 0.0, 1.0)
    window.show_source(source)
    pdf = window.ask_panel.pdf
    assert pdf.current_page() == 2
    rects = pdf.highlight_rects()
    assert len(rects) == 2, rects  # one a line
    assert abs(rects[0].top() - 150 * PT_PER_PX) < 8
    assert abs(rects[1].top() - 210 * PT_PER_PX) < 8


def test_the_ocr_setting_is_kept_and_reaches_the_library(window: MainWindow, qtbot: Any) -> None:
    from rag_desktop.gui.panels.settings import SettingsDialog
    from rag_desktop.gui.params import load_params

    dialog = SettingsDialog(Params(ocr_language="ko"), [])
    assert dialog.ocr.currentData() == "ko" and dialog.params().ocr_language == "ko"
    dialog.ocr.setCurrentIndex(dialog.ocr.findData("off"))
    window.apply_params(replace(window.params, ocr_language=dialog.params().ocr_language))
    library = window.client.engine.session.library
    qtbot.waitUntil(lambda: not library.ocr_settings.enabled, timeout=60000)
    assert load_params(window.settings).ocr_language == "off"
    window.apply_params(replace(window.params, ocr_language="auto"))
    qtbot.waitUntil(lambda: library.ocr_settings.enabled, timeout=60000)
    assert library.ocr_settings.language == "auto"


def test_a_cancelled_scan_goes_on_from_its_kept_pages(window: MainWindow, qtbot: Any,
                                                      tmp_path: Path) -> None:
    scan = make_scanned_pdf(tmp_path / "later.pdf", [FILTER, DESCALE, WARRANTY])
    messages: list[str] = []

    def cancel_after_one(_job: int, event: Any) -> None:
        messages.append(event.message)
        if event.stage == "ocr" and event.done == 1:
            window.library_panel.cancel_requested.emit()

    window.client.progress.connect(cancel_after_one)
    with qtbot.waitSignal(window.client.ingest_finished, timeout=600000) as blocker:
        window.add_pdfs([str(scan)])
    window.client.progress.disconnect(cancel_after_one)
    assert [o.status for o in blocker.args[1]] == ["cancelled"]
    assert "add the file again to go on" in window.library_panel.progress_label.text()
    messages.clear()
    window.client.progress.connect(lambda _job, event: messages.append(event.message))
    with qtbot.waitSignal(window.client.ingest_finished, timeout=600000) as blocker:
        window.add_pdfs([str(scan)])
    assert [o.status for o in blocker.args[1]] == ["added"]
    assert any("pages kept from before" in m for m in messages), messages
