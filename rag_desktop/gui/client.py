"""The GUI-thread handle on the engine: starts its thread, sends Jobs, keeps the job queue."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from rag_desktop.gui.engine import OUT_SIGNALS, Engine, EvalRequest, EvalResult, SessionFactory
from rag_desktop.gui.jobs import Job, JobKind, JobQueue, JobState
from rag_desktop.gui.params import Params

if TYPE_CHECKING:
    from rag_desktop.gui.history import HistoryEntry


class IngestLane(QObject):
    """Runs the engine's library jobs in a thread of their own, so that a question can be
    asked while a long ingestion (OCR of a scanned manual) goes on.

    The handlers are the engine's own (the same Session and Library): Library.search and the
    add's commit share the library's lock, and every signal is queued to the GUI as before.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    @Slot(object, object)
    def run(self, job: Job, args: tuple[Any, ...]) -> None:
        """Run one library job with the engine's handler, in this lane's thread."""
        self.engine.run(job, args)


# Jobs that change the open library: the lane runs them in order behind an ingestion.
_LIBRARY_KINDS = (JobKind.ADD_PDFS, JobKind.OPEN_LIBRARY, JobKind.REMOVE)


class EngineClient(QObject):
    """Sends requests as Jobs and re-emits every engine signal from the GUI thread.

    The re-emission (signal-to-signal, queued) means widgets and tests only ever see events
    delivered in the GUI thread. Each request method returns its Job; `cancel(job_id)` cancels
    that job alone.
    """

    started = Signal(int)
    finished = Signal(int)
    failed = Signal(int, str)
    progress = Signal(int, object)
    library_opened = Signal(int, str, list)
    library_details = Signal(str)
    documents_changed = Signal(list)
    ingest_finished = Signal(int, list)
    model_loaded = Signal(int, object)
    model_unloaded = Signal(str)
    catalog_changed = Signal(list)
    token = Signal(int, str)
    sources_found = Signal(int, list)
    answered = Signal(int, object)
    conversations_listed = Signal(list)
    conversation_opened = Signal(int, object)
    eval_row = Signal(int, object)
    eval_finished = Signal(int, object)
    exported = Signal(int, str)
    eval_restored = Signal(int, object)

    req_run = Signal(object, object)  # Job, the handler's arguments
    req_lane = Signal(object, object)  # the same, for the ingest lane
    req_shutdown = Signal()

    def __init__(self, params: Params, session_factory: SessionFactory | None = None) -> None:
        super().__init__()
        self.jobs = JobQueue()
        self._dropped: set[int] = set()  # cancelled while queued, and already reported so
        self.engine = Engine(params, session_factory)
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("rag-engine")
        self.engine.moveToThread(self.worker_thread)
        self.req_run.connect(self.engine.run)
        self.req_shutdown.connect(self.engine.shutdown)
        # The job's life cycle goes through a filter (see cancel); results go straight through.
        self.engine.started.connect(self._engine_started)
        self.engine.failed.connect(self._engine_failed)
        self.engine.finished.connect(self._engine_finished)
        for name in OUT_SIGNALS:
            if name not in ("started", "failed", "finished"):
                getattr(self.engine, name).connect(getattr(self, name))
        # Connected before any widget, so the queue is up to date when they hear of a job.
        self.started.connect(self.jobs.start)
        self.finished.connect(self.jobs.finish)
        self.worker_thread.started.connect(self.engine.warm_up)
        self.worker_thread.start()
        self.lane = IngestLane(self.engine)
        self.lane_thread = QThread()
        self.lane_thread.setObjectName("rag-ingest")
        self.lane.moveToThread(self.lane_thread)
        self.req_lane.connect(self.lane.run)
        self.lane_thread.start()

    @property
    def working_on(self) -> str:
        """The label of the job the engine is running; "" when idle."""
        job = self.jobs.running()
        return job.label if job is not None else ""

    def _submit(self, kind: JobKind, *args: Any, detail: str = "") -> Job:
        in_lane = self._to_lane(kind)
        job = self.jobs.add(Job(kind, detail, in_lane=in_lane))
        (self.req_lane if in_lane else self.req_run).emit(job, args)
        return job

    def _to_lane(self, kind: JobKind) -> bool:
        """An ingestion runs in the lane, unless a library job waits in the engine's queue
        (an open: the ingestion must come after it); an open or a remove asked for during the
        lane's ingestion waits behind it there. Everything else runs in the engine."""
        if kind not in _LIBRARY_KINDS:
            return False
        active = [j for j in self.jobs.active() if j.kind in _LIBRARY_KINDS]
        if any(not j.in_lane for j in active):
            return False
        return self.engine.ready.is_set() if kind is JobKind.ADD_PDFS else bool(active)

    # -- requests -----------------------------------------------------------------------------
    def open_library(self, path: str | Path) -> Job:
        """Open or create a library folder."""
        return self._submit(JobKind.OPEN_LIBRARY, str(path), detail=Path(path).name)

    def add_pdfs(self, paths: list[str]) -> Job:
        """Ingest PDFs and folders (cancellable by id)."""
        detail = Path(paths[0]).name if len(paths) == 1 else f"({len(paths)} items)"
        return self._submit(JobKind.ADD_PDFS, [str(p) for p in paths], detail=detail)

    def remove(self, name_or_sha: str) -> Job:
        """Remove a document."""
        return self._submit(JobKind.REMOVE, name_or_sha, detail=name_or_sha)

    def load_model(self, model_id: str) -> Job:
        """Load a model in the background."""
        return self._submit(JobKind.LOAD_MODEL, model_id, detail=model_id)

    def set_params(self, params: Params) -> Job:
        """Apply new parameters (the engine reloads the model when a load setting changed)."""
        return self._submit(JobKind.SETTINGS, params)

    def refresh_catalog(self) -> Job:
        """Rescan the catalog and the model folders."""
        return self._submit(JobKind.CATALOG)

    def download_model(self, model_id: str) -> Job:
        """Download a catalog model (`models pull`'s code: resumes, checks sha256; cancellable)."""
        return self._submit(JobKind.DOWNLOAD_MODEL, model_id, detail=model_id)

    def add_model(self, path: str | Path) -> Job:
        """Copy a local GGUF into the user's models folder, checked first (cancellable)."""
        return self._submit(JobKind.ADD_MODEL, str(path), detail=Path(path).name)

    def ask(self, question: str, reference: str = "", conversation_id: str | None = None,
            regenerate: int = 0) -> Job:
        """Ask a question as the next turn of a conversation (a new one when None), or turn
        `regenerate` again with the current model (cancellable by id)."""
        return self._submit(JobKind.ASK, question, reference, conversation_id, regenerate)

    def list_conversations(self) -> Job:
        """List the saved conversations (conversations_listed)."""
        return self._submit(JobKind.CONVERSATIONS)

    def open_conversation(self, conversation_id: str) -> Job:
        """Read a saved conversation (conversation_opened)."""
        return self._submit(JobKind.OPEN_CONVERSATION, conversation_id)

    def rename_conversation(self, conversation_id: str, title: str) -> Job:
        """Retitle a conversation."""
        return self._submit(JobKind.RENAME_CONVERSATION, conversation_id, title)

    def delete_conversation(self, conversation_id: str) -> Job:
        """Delete a conversation."""
        return self._submit(JobKind.DELETE_CONVERSATION, conversation_id)

    def export_conversation(self, conversation_id: str, path: Path) -> Job:
        """Write a conversation as Markdown or CSV (by the file's suffix)."""
        return self._submit(JobKind.EXPORT_CONVERSATION, conversation_id, str(path))

    def evaluate(self, request: EvalRequest) -> Job:
        """Run an evaluation (cancellable by id)."""
        return self._submit(JobKind.EVALUATE, request, detail=", ".join(request.models))

    def export_reports(self, folder: str, result: EvalResult) -> Job:
        """Write an evaluation's report files (plots included) in the engine thread."""
        return self._submit(JobKind.EXPORT_REPORTS, folder, result, detail=Path(folder).name)

    def export_history(self, path: Path, entries: list[HistoryEntry]) -> Job:
        """Write the history as CSV or Markdown in the engine thread."""
        return self._submit(JobKind.EXPORT_HISTORY, str(path), list(entries), detail=path.name)

    def restore_evaluation(self) -> Job:
        """Reload the newest saved evaluation (files are read in the engine thread)."""
        return self._submit(JobKind.RESTORE_EVAL)

    # -- cancelling ---------------------------------------------------------------------------
    def cancel(self, job_id: int) -> bool:
        """Cancel one job by id (thread-safe token); False when it is done or can't be.

        A job still waiting behind another is reported cancelled at once: the engine, busy
        with the other job, would only say so when it gets there (and then skips it).
        """
        queued = self.jobs.state(job_id) is JobState.QUEUED
        if not self.jobs.cancel(job_id):
            return False
        if queued:
            self._dropped.add(job_id)
            self.failed.emit(job_id, "cancelled")
            self.finished.emit(job_id)
        return True

    def cancel_kind(self, kind: JobKind) -> list[int]:
        """Cancel every active job of one kind (a panel's Stop); the ids cancelled."""
        return [j.id for j in self.jobs.active(kind) if self.cancel(j.id)]

    # The engine's reports of a job already reported cancelled are dropped, so each job
    # starts, fails and finishes at most once in the GUI's eyes.
    @Slot(int)
    def _engine_started(self, job_id: int) -> None:
        if job_id not in self._dropped:
            self.started.emit(job_id)

    @Slot(int, str)
    def _engine_failed(self, job_id: int, message: str) -> None:
        if job_id not in self._dropped:
            self.failed.emit(job_id, message)

    @Slot(int)
    def _engine_finished(self, job_id: int) -> None:
        if job_id in self._dropped:
            self._dropped.discard(job_id)  # the engine's last word on it
        else:
            self.finished.emit(job_id)

    def close(self, timeout_ms: int = 15000) -> None:
        """Cancel every job, close the session in the worker, and end the thread."""
        for job in self.jobs.active():
            job.cancel_token.cancel()  # all of them, settings included: nothing more will run
        # The lane first: its ingestion stops at its next check (a page, a batch), and only then
        # may the engine close the library under it.
        self.lane_thread.quit()
        self.lane_thread.wait(timeout_ms)
        self.req_shutdown.emit()
        self.worker_thread.quit()
        self.worker_thread.wait(timeout_ms)
