"""Widgets on their own: settings dialog and persistence, model picker, fonts, panels."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QTextLayout
from PySide6.QtWidgets import QApplication

from rag_desktop.gui.fonts import install_hangul_fallback, nanum_gothic_path
from rag_desktop.gui.panels.answer_text import metrics_text
from rag_desktop.gui.panels.ask import AskPanel
from rag_desktop.gui.panels.library import LibraryPanel
from rag_desktop.gui.panels.model_picker import ModelPicker, entry_label, human_size
from rag_desktop.gui.panels.settings import SettingsDialog
from rag_desktop.gui.params import Params, load_params, save_params
from rag_desktop.llm.catalog import ModelEntry
from tests.gui.test_models import answer


def test_settings_dialog_round_trip(qtbot: Any) -> None:
    start = Params(n_gpu_layers=10, n_threads=2, n_ctx=2048, temperature=0.2, max_tokens=64,
                   k=6, bm25_weight=0.45, embedding_model="intfloat/multilingual-e5-small")
    dialog = SettingsDialog(start, ["sentence-transformers/all-MiniLM-L6-v2"])
    qtbot.addWidget(dialog)
    assert dialog.params() == start
    dialog.bm25.setValue(70)
    assert dialog.params().bm25_weight == 0.7 and dialog.bm25_label.text() == "0.70"
    from rag_desktop.config import RetrievalSettings

    assert Params().bm25_weight == RetrievalSettings().bm25_weight  # the CLI's tuned default


def test_params_persist_in_qsettings(settings_path: Path) -> None:
    params = Params(n_threads=3, temperature=0.5, bm25_weight=0.6)
    save_params(QSettings(str(settings_path), QSettings.Format.IniFormat), params)
    again = load_params(QSettings(str(settings_path), QSettings.Format.IniFormat))
    assert again == params
    assert again.generation().n_threads == 3 and again.retrieval().bm25_weight == 0.6
    assert Params().generation().n_gpu_layers is None  # -1 means: let the core decide


def test_model_picker_lists_presence(qtbot: Any) -> None:
    present = ModelEntry("a", "Model A", "a.gguf", "x", "chatml", size_bytes=98_000_000,
                         path=Path(__file__), quant="Q4_1")
    missing = ModelEntry("b", "Model B", "b.gguf", "x", "chatml", size_bytes=3_100_000_000)
    picker = ModelPicker()
    qtbot.addWidget(picker)
    picker.set_entries([present, missing], "a")
    assert picker.ids() == ["a", "b"]
    assert "98 MB · Q4_1" in entry_label(present)
    assert "not on this machine" in entry_label(missing) and human_size(None) == "?"
    assert picker.combo.currentData() == "a"
    chosen: list[str] = []
    picker.model_chosen.connect(chosen.append)
    picker.combo.activated.emit(0)  # same model: nothing to load
    picker.combo.activated.emit(1)
    assert chosen == ["b"]
    picker.set_loading("Loading…")
    assert not picker.combo.isEnabled()


def test_hangul_font_fallback(qtbot: Any) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    assert nanum_gothic_path() is not None
    family = install_hangul_fallback(app)
    assert family and family in app.font().families()
    panel = AskPanel()
    qtbot.addWidget(panel)
    panel.question.setPlainText("릴리폰드는 어떤 파일을 만드나요?")
    assert panel.question.toPlainText().startswith("릴리폰드")
    layout = QTextLayout("Manual 한국어", app.font())
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    hangul = [run for run in layout.glyphRuns() if run.rawFont().familyName() == family]
    assert hangul and all(g != 0 for run in hangul for g in run.glyphIndexes())


def test_ask_panel_renders_answer(qtbot: Any) -> None:
    panel = AskPanel()
    qtbot.addWidget(panel)
    panel.start_answer("What does it write?")
    assert panel.stop_btn.isEnabled() and not panel.ask_btn.isEnabled()
    assert panel.current is not None and panel.current.stop_btn.isVisibleTo(panel)
    for piece in ("It ", "writes"):
        panel.append_token(piece)
    assert panel.answer_text() == "It writes"
    panel.show_answer(answer(), 0.9123)
    assert panel.sources.rowCount() == 2
    assert "cosine to reference <b>0.912</b>" in metrics_text(answer(), 0.9123)
    assert "server cut the prompt" not in metrics_text(answer(), None)
    assert "server cut the prompt" in metrics_text(replace(answer(), truncated=True), None)
    assert panel.ask_btn.isEnabled()
    with qtbot.waitSignal(panel.ask_requested) as blocker:
        panel.question.setPlainText("Q?")
        panel.reference.setText("R")
        panel.request_ask()
    assert blocker.args == ["Q?", "R"]


def test_ask_panel_shows_the_grounded_share_and_marks_unsupported_sentences(qtbot: Any) -> None:
    from dataclasses import replace

    from rag_desktop.gui.panels.answer_text import UNSUPPORTED_STYLE

    panel = AskPanel()
    qtbot.addWidget(panel)
    text = "It writes filename.pdf [1]. Preheat the oven to 200 degrees & bake."
    panel.start_answer("Q?")
    panel.show_answer(replace(answer(text), grounded=0.5), None)
    assert "grounded <b>1/2</b> sentences (unsupported ones highlighted)" in panel.metrics.text()
    assert panel.current is not None
    html = panel.current.text.toHtml()
    assert panel.answer_text() == text  # the highlight changes no character
    highlighted = html.split("background-color:#fde2e1", 1)[1]
    assert "Preheat the oven" in highlighted and "filename.pdf" not in highlighted
    assert UNSUPPORTED_STYLE.startswith("background-color:#fde2e1")
    refusal = replace(answer("The documents do not contain the answer."), refused=True)
    panel.start_answer("Q?")
    panel.show_answer(refusal, None)  # the gate: the footer says why and what to change
    footer = panel.metrics.text()
    assert "<b>Not in the documents</b>" in footer and "Relevance gate" in footer
    assert "grounded" not in footer
    panel.start_answer("Q?")
    panel.show_answer(answer("The documents do not contain the answer."), None)  # the model's
    assert "<b>refused</b>" in panel.metrics.text() and "grounded" not in panel.metrics.text()
    panel.start_answer("Q?")
    panel.show_answer(answer(text), None)  # no share (e.g. an old cached answer): no footer
    assert "grounded" not in panel.metrics.text()


def test_library_panel_shows_errors_next_to_files(qtbot: Any, tmp_path: Path) -> None:
    from rag_desktop.library.library import AddOutcome, DocumentInfo

    panel = LibraryPanel()
    qtbot.addWidget(panel)
    doc = DocumentInfo("good.pdf", "abc", str(tmp_path / "good.pdf"), 2, 5, "2026-01-01T00:00")
    outcomes = [AddOutcome(tmp_path / "good.pdf", "added", doc, None),
                AddOutcome(tmp_path / "bad.pdf", "error", None, "bad.pdf: not a PDF")]
    panel.show_outcomes(outcomes, [doc])
    rows = panel.model.rows
    assert [r.name for r in rows] == ["good.pdf", "bad.pdf"]
    assert rows[1].error == "bad.pdf: not a PDF"
    assert panel.progress_label.text() == "1 added, 1 failed"


def test_remove_asks_for_confirmation(qtbot: Any, monkeypatch: Any, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    from rag_desktop.library.library import DocumentInfo

    panel = LibraryPanel()
    qtbot.addWidget(panel)
    panel.set_documents([DocumentInfo("a.pdf", "s1", str(tmp_path / "a.pdf"), 1, 2, "t")])
    panel.table.selectRow(0)
    removed: list[str] = []
    panel.remove_requested.connect(removed.append)
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked: list[str] = []

    def question(_parent: Any, _title: str, text: str) -> Any:
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    panel.remove_btn.click()
    assert asked and "a.pdf" in asked[0] and removed == []
    panel.remove_btn.click()
    assert removed == ["a.pdf"]


def test_create_and_switch_libraries(qtbot: Any, monkeypatch: Any) -> None:
    from PySide6.QtWidgets import QInputDialog

    from rag_desktop import config

    for name in ("manuals", "sample"):
        (config.libraries_dir() / name).mkdir(parents=True)
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    panel.set_libraries(config.libraries_dir() / "sample")
    assert [panel.library_box.itemText(i) for i in range(panel.library_box.count())] == [
        "manuals", "sample"]
    requested: list[str] = []
    panel.library_requested.connect(requested.append)
    panel.library_box.activated.emit(0)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("설명서 2", True))
    panel._new_library()
    assert requested == [str(config.libraries_dir() / "manuals"),
                         str(config.libraries_dir() / "설명서 2")]
