"""Jobs with identity: cancel names its job, progress and failures are routed by job id and kind.

The window and the engine thread are real; the Session under them is a stand-in whose ingestion
waits until it is released or cancelled, so that "ask while ingesting" is deterministic and fast.
tests/gui/test_flow.py runs the same window on the real core.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from rag_desktop.config import GenerationSettings, RetrievalSettings
from rag_desktop.gui.app import make_app, open_settings
from rag_desktop.gui.client import EngineClient
from rag_desktop.gui.jobs import Job, JobKind, JobQueue, JobState
from rag_desktop.gui.main_window import MainWindow
from rag_desktop.gui.panels.jobs import JobsView
from rag_desktop.gui.params import Params
from rag_desktop.library.library import AddOutcome, DocumentInfo
from rag_desktop.llm.client import ModelInfo
from rag_desktop.progress import CancelToken, ProgressCallback, ProgressEvent
from tests.gui.test_models import answer

MISSING = "not-on-this-machine"


class FakeLLM:
    """What the engine reads of the model client: the loaded model and the runner's pid."""

    def __init__(self) -> None:
        self.info: ModelInfo | None = None
        self.runner_pid = 4242


class FakeLibrary:
    """Ingestion that reports progress until released or cancelled."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.docs = [DocumentInfo("manual.pdf", "s1", str(path / "manual.pdf"), 3, 9, "t")]
        self.release = threading.Event()
        self.ingesting = threading.Event()

    def documents(self) -> list[DocumentInfo]:
        return list(self.docs)

    def add_pdfs(self, paths: list[Path], progress: ProgressCallback,
                 cancel: CancelToken) -> list[AddOutcome]:
        self.ingesting.set()
        deadline, n = time.monotonic() + 60, 0
        while not self.release.is_set() and time.monotonic() < deadline:
            if cancel.cancelled:
                return [AddOutcome(p, "cancelled", None, None) for p in paths]
            progress(ProgressEvent("chunks", n % 100, 100))
            n += 1
            time.sleep(0.01)
        doc = DocumentInfo(paths[0].name, "s2", str(paths[0]), 1, 2, "t")
        self.docs.append(doc)
        return [AddOutcome(p, "added", doc, None) for p in paths]

    def search(self, _query: str, k: int = 4) -> list[Any]:
        return []


class FakePipeline:
    def __init__(self, llm: FakeLLM) -> None:
        self.llm = llm

    def ask(self, question: str, *, on_token: Any, cancel: CancelToken, **_: Any) -> Any:
        assert self.llm.info is not None
        for piece in ("It ", "writes"):
            on_token(piece)
        return replace(answer(), question=question, model=self.llm.info,
                       stopped=cancel.cancelled)

    def ask_turn(self, question: str, turns: Any = (), **kwargs: Any) -> Any:
        from rag_desktop.chat.turns import Turn

        return Turn(question, question, self.ask(question, **kwargs))


class FakeSession:
    """The parts of rag_desktop.session.Session that the engine uses."""

    def __init__(self, home: Path) -> None:
        self.llm = FakeLLM()
        self.library = FakeLibrary(home)
        self.generation = GenerationSettings()
        self.retrieval = RetrievalSettings()
        self.loads: list[str] = []
        self.closed = False
        self.catalog = self
        self.store: Any = None
        self.home = home

    def conversations(self) -> Any:
        from rag_desktop.chat.store import ConversationStore  # the real store, in tmp

        if self.store is None:
            self.store = ConversationStore(self.home / "conversations.sqlite")
        return self.store

    def entries(self) -> list[Any]:
        return []

    def refresh_catalog(self) -> FakeSession:
        return self

    def require_library(self) -> FakeLibrary:
        return self.library

    def load_model(self, model_id: str, generation: GenerationSettings | None = None) -> Any:
        if model_id == MISSING:
            raise FileNotFoundError(f"{model_id}.gguf is not in the models folder")
        self.loads.append(model_id)
        self.llm.info = ModelInfo(model_id, "m.gguf", "Q4_1", 0, "CPU", 2, 2048, 30)
        return self.llm.info

    def pipeline(self, *_: Any, **__: Any) -> FakePipeline:
        return FakePipeline(self.llm)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def window(gui_home: Path, tmp_path: Path, qtbot: Any) -> Iterator[MainWindow]:
    """A window on a FakeSession, with model `fake` loaded."""
    make_app([])
    session = FakeSession(tmp_path)
    client = EngineClient(Params(), session_factory=lambda: session)  # type: ignore[arg-type,return-value]
    win = MainWindow(open_settings(tmp_path / "s.ini"), client)
    win.session = session  # type: ignore[attr-defined]
    win.show()
    with qtbot.waitSignal(client.model_loaded, timeout=60000):
        win.load_model("fake")
    yield win
    session.library.release.set()
    win.close()
    QApplication.processEvents()


def _start_ingest(window: MainWindow, qtbot: Any) -> Job:
    window.add_pdfs(["/tmp/other.pdf"])
    ingest = window.client.jobs.active(JobKind.ADD_PDFS)[0]
    qtbot.waitUntil(lambda: window.client.jobs.state(ingest.id) is JobState.RUNNING,
                    timeout=10000)
    return ingest


def test_job_queue_cancels_by_id() -> None:
    queue = JobQueue()
    ingest, ask, settings = (queue.add(Job(k)) for k in
                             (JobKind.ADD_PDFS, JobKind.ASK, JobKind.SETTINGS))
    assert len({ingest.id, ask.id, settings.id}) == 3
    queue.start(ingest.id)
    assert queue.running() == ingest and queue.state(ask.id) is JobState.QUEUED
    assert queue.cancel(ask.id)
    assert ask.cancel_token.cancelled and not ingest.cancel_token.cancelled
    assert not queue.cancel(settings.id)  # settings always apply
    queue.finish(ask.id)
    assert queue.kind_of(ask.id) is JobKind.ASK  # a late event still finds its kind
    assert queue.active() == [ingest, settings] and not queue.cancel(ask.id)
    assert queue.cancel_kind(JobKind.ADD_PDFS) == [ingest.id]


def test_jobs_view_lists_each_job_with_its_own_cancel(qtbot: Any) -> None:
    queue = JobQueue()
    view = JobsView(queue)
    qtbot.addWidget(view)
    view.cancel_requested.connect(queue.cancel)
    load = queue.add(Job(JobKind.LOAD_MODEL, "m"))
    assert view.isHidden()  # one job: its own panel shows it
    queue.start(load.id)
    ask = queue.add(Job(JobKind.ASK))
    assert not view.isHidden()
    assert set(view.rows) == {load.id, ask.id}
    assert not view.cancel_buttons[load.id].isEnabled()  # a running load can't stop half-way
    view.cancel_buttons[ask.id].click()
    assert ask.cancel_token.cancelled and not load.cancel_token.cancelled


def test_cancel_the_ingest_while_a_question_waits(window: MainWindow, qtbot: Any) -> None:
    seen: list[int] = []
    window.library_panel.progress.valueChanged.connect(seen.append)
    eval_status = window.eval_panel.status.text()
    ingest = _start_ingest(window, qtbot)
    window.tabs.setCurrentWidget(window.ask_panel)
    window.ask_panel.question.setPlainText("What does it write?")
    window.ask_panel.request_ask()
    ask_job = window._ask_job
    qtbot.waitUntil(lambda: window.jobs_view.isVisible(), timeout=5000)  # two jobs: the queue
    assert set(window.jobs_view.rows) == {ingest.id, ask_job}
    got: dict[str, tuple[Any, ...]] = {}
    window.client.ingest_finished.connect(lambda *args: got.setdefault("ingest", args))
    window.client.answered.connect(lambda *args: got.setdefault("ask", args))
    window.jobs_view.cancel_buttons[ingest.id].click()  # the ingest, by its id
    qtbot.waitUntil(lambda: len(got) == 2, timeout=20000)
    assert got["ingest"][0] == ingest.id and got["ingest"][1][0].status == "cancelled"
    assert got["ask"][0] == ask_job and not got["ask"][1].answer.stopped
    assert window.ask_panel.answer_text() == "It writes filename.pdf [1]."  # cited: source 1
    assert seen and window.eval_panel.status.text() == eval_status  # progress went to ingest
    qtbot.waitUntil(lambda: not window.client.jobs.active(), timeout=5000)
    assert not window.jobs_view.isVisible()


def test_cancel_the_question_while_the_ingest_runs(window: MainWindow, qtbot: Any) -> None:
    progress_jobs: set[int] = set()
    window.client.progress.connect(lambda job_id, _event: progress_jobs.add(job_id))
    ingest = _start_ingest(window, qtbot)
    window.ask_panel.question.setPlainText("What does it write?")
    window.ask_panel.request_ask()
    ask_job = window._ask_job
    with qtbot.waitSignal(window.client.failed, timeout=1000) as failed:
        window.stop_answer()  # Esc: stops the question, not the ingestion
    assert failed.args == [ask_job, "cancelled"]  # at once, though the engine is busy
    assert "cancelled" in window.ask_panel.metrics.text()
    assert window.ask_panel.ask_btn.isEnabled()
    assert not ingest.cancel_token.cancelled
    with qtbot.waitSignal(window.client.ingest_finished, timeout=10000) as done:
        window.session.library.release.set()  # type: ignore[attr-defined]
    assert done.args[0] == ingest.id and done.args[1][0].status == "added"
    assert progress_jobs == {ingest.id}


def test_failures_are_routed_by_kind(window: MainWindow, qtbot: Any) -> None:
    ask_text = window.ask_panel.metrics.text()
    with qtbot.waitSignal(window.client.failed, timeout=10000) as blocker:
        window.load_model(MISSING)
    assert window.client.jobs.kind_of(blocker.args[0]) is JobKind.LOAD_MODEL
    assert "not in the models folder" in window.picker.busy_label.text()
    assert window.ask_panel.metrics.text() == ask_text  # not shown as an answer's error
    assert not window.picker.busy.isVisible()
    qtbot.waitUntil(lambda: not window.client.jobs.active(), timeout=5000)
    assert "not in the models folder" in window.statusBar().currentMessage()  # still shown


def test_a_lost_model_shows_as_not_loaded_and_the_next_ask_reloads(
        window: MainWindow, qtbot: Any) -> None:
    session: FakeSession = window.session  # type: ignore[attr-defined]
    session.llm.info = None  # the runner died
    with qtbot.waitSignal(window.client.model_unloaded, timeout=10000):
        window.client.refresh_catalog()  # any job notices
    assert "not loaded" in window.status.model.text() and window.model_info is None
    window.ask_panel.question.setPlainText("What does it write?")
    with qtbot.waitSignal(window.client.answered, timeout=10000):
        window.ask_panel.request_ask()
    assert session.loads == ["fake", "fake"]
    assert window.model_info is not None and "not loaded" not in window.status.model.text()
