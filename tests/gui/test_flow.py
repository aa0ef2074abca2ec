"""The user's path through the real window, real core and real models, in order.

One window serves the whole module: ingesting the manual once is most of the cost, and each step
builds on the last (the library the drop made is the one the questions go to). Each test still
checks one thing the issue names.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from rag_desktop.config import DEFAULT_MODEL_ID
from rag_desktop.gui.app import make_app, open_settings
from rag_desktop.gui.jobs import JobKind
from rag_desktop.gui.main_window import MainWindow
from rag_desktop.gui.params import Params
from tests.gui.conftest import GapProbe, dev_pdf

GAP_LIMIT_S = 0.100
QUESTION = "What output file does LilyPond produce by default when it processes filename.ly?"
EXPECTED_PAGE = 4  # sample-questions.jsonl: lilypond-usage-01
OTHER_MODEL = "gemma3-270m-q4_k_m"
state: dict[str, Any] = {}


@pytest.fixture(scope="module")
def window(gui_home: Path) -> Iterator[MainWindow]:
    """The main window on an empty library, with the default model loading."""
    make_app([])
    settings = open_settings(gui_home / "gui-settings.ini")
    win = MainWindow(settings)
    win.apply_params(Params(max_tokens=24))
    win.show()
    win.start(library=gui_home / "libraries" / "manuals")
    yield win
    win.close()
    QApplication.processEvents()


def drop(widget: Any, paths: list[Path]) -> None:
    """Deliver a drop of local files onto `widget`, as a file manager would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)


def test_drop_pdf_ingests_to_100_percent(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    qtbot.waitUntil(lambda: window.library_path is not None and not window.client.working_on
                    and window.client.engine.warmed.is_set(), timeout=60000)
    seen: list[int] = []
    window.library_panel.progress.valueChanged.connect(seen.append)
    probe = GapProbe().start()
    with qtbot.waitSignal(window.client.ingest_finished, timeout=600000) as blocker:
        drop(window.library_panel, [dev_pdf(), broken])
    state["ingest_gap"] = probe.stop()
    state["ingest_where"] = probe.where
    print(f"ingestion: longest GUI gap {probe.max_gap * 1000:.0f} ms over {probe.ticks} ticks")
    QApplication.processEvents()
    assert max(seen) == 100
    statuses = {o.path.name: o.status for o in blocker.args[1]}  # (job id, outcomes)
    assert statuses[dev_pdf().name] == "added"
    assert statuses["broken.pdf"] == "error"
    rows = {r.name: r for r in window.library_panel.model.rows}
    assert rows[dev_pdf().name].pages == 73
    assert rows["broken.pdf"].status == "error" and rows["broken.pdf"].error  # next to the file


def test_gui_never_blocks_during_ingestion(window: MainWindow) -> None:
    gap = state["ingest_gap"]
    assert gap < GAP_LIMIT_S, f"longest gap {gap * 1000:.0f} ms; {state['ingest_where']}"


def test_ask_streams_tokens(window: MainWindow, qtbot: Any) -> None:
    qtbot.waitUntil(lambda: window.model_info is not None, timeout=600000)
    panel = window.ask_panel
    panel.question.setPlainText(QUESTION)
    probe = GapProbe().start()
    with qtbot.waitSignal(window.client.answered, timeout=600000) as blocker:
        qtbot.keyClick(panel.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: panel.tokens_seen >= 2, timeout=600000)
        streamed = panel.answer_text()
        sources_while_streaming = panel.sources.rowCount()
    state["ask_gap"] = probe.stop()
    state["ask_where"] = probe.where
    print(f"generation: longest GUI gap {probe.max_gap * 1000:.0f} ms over {probe.ticks} ticks")
    answer = blocker.args[1].answer
    assert streamed and panel.tokens_seen > 2  # text was on screen before the answer was final
    assert sources_while_streaming > 0  # the sources came with retrieval, not with the answer
    assert answer.text and streamed.strip() in answer.text
    assert "tok/s" in panel.metrics.text() and answer.model.id in panel.metrics.text()
    state["answer"] = answer


def test_gui_never_blocks_during_generation(window: MainWindow) -> None:
    gap = state["ask_gap"]
    assert gap < GAP_LIMIT_S, f"longest gap {gap * 1000:.0f} ms; {state['ask_where']}"


def test_sources_show_right_page_and_click_opens_it(window: MainWindow, qtbot: Any) -> None:
    panel = window.ask_panel
    pages = [panel.sources.record(r).page for r in range(panel.sources.rowCount())]
    assert EXPECTED_PAGE in pages
    row = pages.index(EXPECTED_PAGE)
    index = panel.sources.index(row, 0)
    rect = panel.table.visualRect(index)
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: panel.pdf.path is not None, timeout=5000)
    assert panel.pdf.document.pageCount() == 73
    assert panel.pdf.current_page() == EXPECTED_PAGE
    assert f"(PDF p. {EXPECTED_PAGE} of 73)" in panel.pdf.title.text()  # printed label first


def test_cancel_the_ingest_not_the_question(window: MainWindow, qtbot: Any,
                                            pdf_factory: Any) -> None:
    long_pdf = pdf_factory("long.pdf", [f"Part {i}. " + "LilyPond engraves music. " * 60
                                        for i in range(40)])
    documents = [d.name for d in window.documents]
    progress_jobs: list[int] = []

    def on_progress(job_id: int, _event: Any) -> None:
        progress_jobs.append(job_id)

    window.client.progress.connect(on_progress)
    window.add_pdfs([str(long_pdf)])
    ingest = window.client.jobs.active(JobKind.ADD_PDFS)[-1]
    qtbot.waitUntil(lambda: ingest.id in progress_jobs, timeout=120000)
    got: dict[str, tuple[Any, ...]] = {}
    window.client.ingest_finished.connect(lambda *args: got.setdefault("ingest", args))
    window.client.answered.connect(lambda *args: got.setdefault("ask", args))
    window.ask_panel.question.setPlainText(QUESTION)
    window.ask_panel.request_ask()  # answered beside the ingestion (client.IngestLane)
    assert window.jobs_view.isVisibleTo(window)  # two jobs: the queue, each with its Cancel
    window.jobs_view.cancel_buttons[ingest.id].click()
    qtbot.waitUntil(lambda: len(got) == 2, timeout=600000)
    window.client.progress.disconnect(on_progress)
    assert got["ingest"][0] == ingest.id
    assert [o.status for o in got["ingest"][1]] == ["cancelled"]
    assert got["ask"][0] == window._ask_job
    answer = got["ask"][1].answer
    assert answer.text and not answer.stopped  # the question was not the job cancelled
    assert set(progress_jobs) == {ingest.id}
    assert [d.name for d in window.documents] == documents


def test_stop_ends_generation(window: MainWindow, qtbot: Any) -> None:
    window.apply_params(Params(max_tokens=400))
    panel = window.ask_panel
    panel.question.setPlainText("Explain every command line option of lilypond.")
    with qtbot.waitSignal(window.client.answered, timeout=600000) as blocker:
        panel.request_ask()
        qtbot.waitUntil(lambda: panel.tokens_seen >= 1, timeout=600000)
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    answer = blocker.args[1].answer
    window.apply_params(Params(max_tokens=24))
    assert answer.stopped
    assert answer.timings.completion_tokens < 400
    assert window.ask_panel.ask_btn.isEnabled() and not window.ask_panel.stop_btn.isEnabled()


def test_switch_model(window: MainWindow, qtbot: Any) -> None:
    picker = window.picker
    index = picker.combo.findData(OTHER_MODEL)
    assert index >= 0
    pid = window.client.engine.session.llm.runner_pid
    with qtbot.waitSignal(window.client.model_loaded, timeout=600000) as blocker:
        picker.combo.activated.emit(index)
        assert picker.busy.isVisible()  # busy indicator while it loads
    assert blocker.args[1].id == OTHER_MODEL
    assert not picker.busy.isVisible()
    assert OTHER_MODEL in window.status.model.text()
    assert "CPU" in window.status.backend.text() or "CUDA" in window.status.backend.text()
    # Same runner: the old model was closed.
    assert window.client.engine.session.llm.runner_pid == pid
    assert window.settings.value("session/model") == OTHER_MODEL  # remembered for next start


def test_history_export(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    for name in ("history.csv", "history.md"):  # written in the engine thread
        with qtbot.waitSignal(window.client.exported, timeout=60000):
            window.export_history(tmp_path / name)
    with (tmp_path / "history.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(window.history) >= 2
    assert rows[0]["question"] == QUESTION
    assert QUESTION in (tmp_path / "history.md").read_text(encoding="utf-8")


def test_evaluation_of_three_questions(window: MainWindow, qtbot: Any) -> None:
    panel = window.eval_panel
    panel.models.set_checked(["smollm2-135m-instruct-q4_1"])
    panel.weights.setText("0.3")
    panel.limit.setValue(3)
    panel.max_tokens.setValue(16)
    with qtbot.waitSignal(window.client.eval_finished, timeout=600000) as blocker:
        panel.run_btn.click()
    result = blocker.args[1]
    assert not result.cancelled and len(result.rows) == 3
    assert panel.proxy.rowCount() == 3
    assert panel.summary_model.rowCount() == 1
    panel.filter.setText(result.rows[1].question_id)
    assert panel.proxy.rowCount() == 1
    panel.filter.setText("")
    assert panel.export_btn.isEnabled()
    state["eval"] = result


def test_export_csv_rows(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.client.exported, timeout=120000):  # plots: engine thread
        window.export_evaluation(str(tmp_path))
    with (tmp_path / "results.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    assert {r["model_id"] for r in rows} == {"smollm2-135m-instruct-q4_1"}
    ids = [r.question_id for r in state["eval"].rows]
    assert [r["question_id"] for r in rows] == ids
    assert all(r["response_time_s"] for r in rows)
    assert (tmp_path / "summary.csv").is_file() and (tmp_path / "run.json").is_file()


def _runners() -> list[Any]:
    """The model runner processes below this one (psutil, as `ps` would list them)."""
    import psutil

    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "rag_desktop.llm.runner" in " ".join(child.cmdline()):
                found.append(child)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue  # one that just ended is no runner any more
    return found


def test_evaluation_switches_models_in_the_one_runner(window: MainWindow, qtbot: Any) -> None:
    """One runner, ever: a GUI evaluation of two models reuses the chat's runner, then
    reloads the model the user had chosen."""
    engine = window.client.engine
    assert window.model_info is not None
    chat = window.model_info.id
    pid = engine.session.llm.runner_pid
    assert pid is not None and [p.pid for p in _runners()] == [pid]
    counts: list[int] = []
    pids: set[int] = set()

    def sample(*_: Any) -> None:
        found = _runners()
        counts.append(len(found))
        pids.update(p.pid for p in found)

    window.client.eval_row.connect(sample)  # at each row, and between rows on a timer
    timer = QTimer()
    timer.timeout.connect(sample)
    timer.start(100)
    panel = window.eval_panel
    panel.weights.setText("0.3")
    panel.limit.setValue(1)
    panel.max_tokens.setValue(8)
    # The chat model first and the other one last, so the evaluation ends on another model
    # and has to load the user's model again.
    request = replace(panel.request(), models=[chat, DEFAULT_MODEL_ID if chat != DEFAULT_MODEL_ID
                                               else OTHER_MODEL])
    with qtbot.waitSignal(window.client.eval_finished, timeout=600000) as blocker:
        window.evaluate(request)
    timer.stop()
    window.client.eval_row.disconnect(sample)
    result = blocker.args[1]
    assert [r.model_id for r in result.rows] == request.models
    assert not any(r.error for r in result.rows), [r.error for r in result.rows]
    assert counts and max(counts) == 1, counts
    assert pids == {pid}
    assert engine.session.llm.runner_pid == pid
    info = engine.session.llm.info
    assert info is not None and info.id == chat  # the user's model is back
    assert window.model_info is not None and window.model_info.id == chat
    assert chat in window.status.model.text()
