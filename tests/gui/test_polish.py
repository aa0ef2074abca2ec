"""Polish a new user noticed (issue 13): the preview follows the answer, a missing viewer is
reported, full error tooltips, export permissions and dialog folders, a CPU-only build said
so, readable chart labels, the last evaluation reloaded, and a startup that says what it does.

The window and its engine thread are real; the Session is test_jobs' stand-in.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from rag_desktop.gui import saved_runs
from rag_desktop.gui.app import make_app, open_settings
from rag_desktop.gui.client import EngineClient
from rag_desktop.gui.engine import Engine
from rag_desktop.gui.files import Folders, default_folder
from rag_desktop.gui.history import HistoryEntry
from rag_desktop.gui.jobs import Job, JobKind
from rag_desktop.gui.main_window import MainWindow
from rag_desktop.gui.messages import AskResult, EvalResult
from rag_desktop.gui.panels import pdf_view
from rag_desktop.gui.panels.charts import EvalCharts, short_question_labels
from rag_desktop.gui.panels.evaluation import EvalPanel
from rag_desktop.gui.panels.library import DocumentRow, LibraryPanel, documents_model
from rag_desktop.gui.panels.settings import SettingsDialog
from rag_desktop.gui.params import Params
from rag_desktop.gui.saved_runs import latest_run
from rag_desktop.gui.status import CPU_ONLY, READY, gpu_layers_text
from rag_desktop.library.library import DocumentInfo
from rag_desktop.llm.catalog import ModelEntry
from rag_desktop.llm.client import ModelInfo
from tests.gui.conftest import dev_pdf
from tests.gui.test_jobs import FakeSession
from tests.gui.test_models import SOURCES, answer, eval_row

LONG_A = "smollm2-135m-instruct-q4_k_m"
LONG_B = "smollm2-135m-instruct-q4_0"


@pytest.fixture
def window(gui_home: Path, tmp_path: Path, qtbot: Any) -> Iterator[MainWindow]:
    """A 1024×700 window on a FakeSession that knows the LilyPond manual."""
    make_app([])
    session = FakeSession(tmp_path)
    client = EngineClient(Params(), session_factory=lambda: session)  # type: ignore[arg-type,return-value]
    win = MainWindow(open_settings(tmp_path / "s.ini"), client)
    win.documents = [DocumentInfo("manual.pdf", "s1", str(dev_pdf()), 73, 9, "t")]
    win.resize(1024, 700)
    win.show()
    yield win
    win.close()
    QApplication.processEvents()


def _answered(window: MainWindow, sources: list[Any]) -> None:
    """The engine's answer to the question the Ask panel is showing."""
    window.ask_panel.start_answer()
    window._ask_job = 987654
    result = AskResult(replace(answer(), sources=sources))
    window.client.answered.emit(window._ask_job, result)


def test_preview_follows_the_current_answer(window: MainWindow) -> None:
    pdf = window.ask_panel.pdf
    window.show_source(SOURCES[0])  # the last question's LilyPond page
    assert pdf.path == dev_pdf() and pdf.current_page() == 4
    _answered(window, [SOURCES[1]])  # a Korean source of a file this library does not hold
    assert pdf.path is None and "Click a source" in pdf.title.text()
    assert not pdf.external_btn.isEnabled()
    _answered(window, [replace(SOURCES[0], page=7), SOURCES[1]])
    assert pdf.path == dev_pdf() and pdf.current_page() == 7  # the new answer's first source
    assert window.ask_panel.table.selectionModel().isRowSelected(0)


def test_open_in_viewer_says_when_no_viewer_starts(window: MainWindow, qtbot: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_view, "open_url", lambda _url: False)
    window.show_source(SOURCES[0])
    qtbot.mouseClick(window.ask_panel.pdf.external_btn, Qt.MouseButton.LeftButton)
    for shown in (window.ask_panel.pdf.title.text(), window.statusBar().currentMessage()):
        assert "No PDF viewer" in shown and str(dev_pdf()) in shown


def test_status_column_has_the_whole_error_as_tooltip(qtbot: Any) -> None:
    error = "cannot read the file: " + "the cross-reference table is damaged " * 6
    model = documents_model()
    model.set_rows([DocumentRow("ok.pdf", 3, 9, "t"),
                    DocumentRow("bad.pdf", None, None, "", "error", error, "/data/bad.pdf")])
    tip = model.index(1, 4).data(Qt.ItemDataRole.ToolTipRole)
    assert error in tip and "/data/bad.pdf" in tip
    assert not model.index(0, 4).data(Qt.ItemDataRole.ToolTipRole)
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    panel.show_error(error)
    assert panel.progress_label.toolTip() == error


def test_exports_get_normal_permissions(tmp_path: Path) -> None:
    engine = Engine(Params())
    old = os.umask(0o022)
    try:
        target = tmp_path / "history.md"
        engine.export_history(Job(JobKind.EXPORT_HISTORY), str(target),
                              [HistoryEntry(answer(), 4, 0.3)])
        rows = [eval_row("q1", 0.8, 1.0), eval_row("q2", 0.5, 2.0)]
        engine.export_reports(Job(JobKind.EXPORT_REPORTS), str(tmp_path / "eval"),
                              EvalResult(rows, [], False, {"started_at": "t"}))
    finally:
        os.umask(old)
    written = [target, *sorted((tmp_path / "eval").iterdir())]
    assert any(p.name == "results.csv" for p in written)
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_file_dialogs_open_in_documents_or_the_last_folder(
        tmp_path: Path, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    folders = Folders(settings)
    assert folders.start("pdfs") == default_folder() != os.getcwd()
    folders.remember("exports", str(tmp_path / "out" / "history.csv"))
    again = Folders(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert again.start("exports", "h.md") == str(tmp_path / "out" / "h.md")
    asked: list[str] = []

    def fake_dialog(_parent: Any, _title: str, folder: str, _filter: str) -> tuple[list[str], str]:
        asked.append(folder)
        return [str(tmp_path / "pdfs" / "a.pdf")], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", fake_dialog)
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    panel.folders = folders
    panel.choose_pdfs()
    panel.choose_pdfs()
    assert asked == [default_folder(), str(tmp_path / "pdfs")]


def test_settings_say_cpu_only_on_a_build_without_offload(qtbot: Any) -> None:
    dialog = SettingsDialog(Params(n_gpu_layers=12), [], gpu_offload=False)
    qtbot.addWidget(dialog)
    assert dialog.gpu_layers.text() == CPU_ONLY and not dialog.gpu_layers.isEnabled()
    assert dialog.params().n_gpu_layers == 12  # kept for a build that can offload
    gpu = SettingsDialog(Params(), [], gpu_offload=True)
    qtbot.addWidget(gpu)
    assert gpu.gpu_layers.text() == "all (auto)" and gpu.gpu_layers.isEnabled()
    cpu = ModelInfo("m", "m.gguf", "Q4_1", 0, "CPU", 2, 2048, 30)
    assert CPU_ONLY in gpu_layers_text(cpu)
    assert gpu_layers_text(replace(cpu, backend="CUDA", n_gpu_layers=30)) == "GPU layers: 30/30"


def test_chart_labels_are_short_unique_and_keyed(qtbot: Any) -> None:
    rows = [replace(eval_row(f"lilypond-usage-{i:02d}", 0.5 + i / 20, 1.0 + i, model=m),
                    bm25_weight=w, config=f"w{w}")
            for m in (LONG_A, LONG_B) for w in (0.3, 0.5) for i in range(1, 7)]
    panel = EvalPanel(Path("q.jsonl"))
    qtbot.addWidget(panel)
    panel.resize(1024, 700)
    panel.show_result(EvalResult(rows, [], False, {}))
    panel.tabs.setCurrentIndex(2)
    panel.show()
    QApplication.processEvents()
    chart = panel.charts.cosine_view.chart()
    legend = [bar.label() for bar in chart.series()[0].barSets()]
    assert legend == ["M1 w=0.3", "M1 w=0.5", "M2 w=0.3", "M2 w=0.5"]
    categories = chart.axes(Qt.Orientation.Horizontal)[0].categories()
    assert categories == [f"lu-{i:02d}" for i in range(1, 7)]
    width = chart.plotArea().width() / len(categories)
    metrics = panel.charts.cosine_view.fontMetrics()
    assert all(metrics.horizontalAdvance(c) < width for c in categories)  # no "lilypond-usage…"
    key = panel.charts.key.text()
    assert LONG_A in key and LONG_B in key and "lilypond-usage-01" in key
    assert short_question_labels(["a-1", "b"]) == {"a-1": "a-1", "b": "b"}
    collide = short_question_labels(["lilypond-usage-01", "long-urls-01"])
    assert collide == {"lilypond-usage-01": "Q1", "long-urls-01": "Q2"}
    EvalCharts().update([])  # no rows: empty charts, no key


def _save_run(home: Path, name: str, rows: list[Any]) -> Path:
    from rag_desktop.evaluation.reports import write_reports

    folder = home / "evaluations" / name
    write_reports(folder, rows, {"started_at": "2026-11-30T10:00:00+00:00"})
    return folder


def test_the_last_saved_evaluation_is_reloaded_off_the_gui_thread(
        window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag_desktop import config

    home = config.home_dir()  # this test's own home (tests/conftest.py)
    _save_run(home, "gui-20261129-090000-000000", [eval_row("q1", 0.1, 1.0)])
    newest = _save_run(home, "gui-20261130-100000-000000",
                       [eval_row("q1", 0.8, 1.0), eval_row("q2", 0.6, 2.0)])
    (home / "evaluations" / "gui-20261201-000000-000000").mkdir()  # a run with no rows
    found = latest_run(home / "evaluations")
    assert found is not None and len(found.rows) == 2
    on_gui_thread: list[bool] = []

    def spy(root: Path | None = None) -> EvalResult | None:
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return latest_run(root)

    monkeypatch.setattr(saved_runs, "latest_run", spy)
    failures: list[str] = []
    window.client.failed.connect(lambda _job_id, message: failures.append(message))
    with qtbot.waitSignal(window.client.eval_restored, timeout=60000):
        window.client.restore_evaluation()
    assert not failures
    assert on_gui_thread == [False]  # the files were read in the engine thread
    panel = window.eval_panel
    assert panel.result is not None and len(panel.result.rows) == 2
    assert panel.rows_model.rowCount() == 2 and str(newest) in panel.status.text()


def test_startup_says_what_it_does_and_stays_on_ask(window: MainWindow, qtbot: Any) -> None:
    client = window.client
    sent: list[Job] = []

    def submit(kind: JobKind, *_args: Any, detail: str = "") -> Job:
        sent.append(client.jobs.add(Job(kind, detail)))  # queued, never run
        return sent[-1]

    client._submit = submit  # type: ignore[method-assign]
    client.catalog_changed.emit([ModelEntry("smol", "SmolLM2 135M", "s.gguf", "x", "chatml")])
    window.start(library=Path("/nowhere/sample"), model_id="smol")
    assert [j.kind for j in sent] == [JobKind.OPEN_LIBRARY, JobKind.LOAD_MODEL,
                                      JobKind.RESTORE_EVAL, JobKind.CONVERSATIONS]
    assert window.tabs.currentWidget() is window.ask_panel
    assert "opening the library" in window.statusBar().currentMessage()
    opening, loading = sent[0], sent[1]
    client.started.emit(opening.id)
    assert window.statusBar().currentMessage() == "Opening library sample…"
    assert window.ask_panel.waiting_text() == "Opening library sample…"
    client.library_opened.emit(opening.id, "/nowhere/sample", [])  # empty: index the sample
    client.finished.emit(opening.id)
    assert sent[-1].kind is JobKind.ADD_PDFS
    assert window.tabs.currentWidget() is window.ask_panel  # no jump to Library
    client.started.emit(loading.id)
    assert window.statusBar().currentMessage() == "Loading model SmolLM2 135M…"
    assert window.picker.busy_label.text() == "Loading SmolLM2 135M…"
    client.finished.emit(loading.id)
    client.started.emit(sent[-1].id)
    assert "Indexing the sample manual" in window.statusBar().currentMessage()
    assert "Indexing the sample manual" in window.ask_panel.waiting_text()
    client.finished.emit(sent[-1].id)
    assert window.statusBar().currentMessage() == READY
    assert window.ask_panel.waiting_text().startswith("Ask a question about your PDFs.")
    assert window.tabs.currentWidget() is window.ask_panel
