"""The one worker: a QObject in its own QThread that owns the one Session and runs every job.

The GUI thread never calls the core. It sends Jobs (queued into this thread) and renders the
signals, each of which names its job by id. Cancellation is the job's own CancelToken, made by
the GUI with the job, so a Cancel pressed before the job starts still counts; cancel() is
thread-safe and the LLM client sends its stop to the runner the moment it is called.

Everything goes through the Session: the library, the catalog, the one model runner and the
scorer. An evaluation runs on that same Session, so it switches models in the one runner and
reloads the user's model at the end; there is never a second runner, library or embedder.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from rag_desktop.gui.chat_jobs import ChatJobs
from rag_desktop.gui.files import normal_permissions
from rag_desktop.gui.job_wrapper import as_job
from rag_desktop.gui.jobs import Job, JobKind
from rag_desktop.gui.messages import EvalRequest, EvalResult
from rag_desktop.gui.params import Params
from rag_desktop.gui.worker_setup import (
    batch_priority,
    freeze_heap,
    import_core,
    limit_torch_threads,
    warm_library,
)
from rag_desktop.progress import Cancelled

if TYPE_CHECKING:  # the GUI imports the heavy core lazily, in the worker thread
    from rag_desktop.evaluation.results import EvalRow
    from rag_desktop.gui.history import HistoryEntry
    from rag_desktop.library.library import Library
    from rag_desktop.llm.client import ModelInfo
    from rag_desktop.session import Session

log = logging.getLogger(__name__)
SessionFactory = Callable[[], "Session"]


def default_out_dir() -> Path:
    """A fresh folder per GUI run, so a run never resumes or overwrites another."""
    from rag_desktop import config

    return config.home_dir() / "evaluations" / datetime.now().strftime("gui-%Y%m%d-%H%M%S-%f")


def _create_session() -> Session:
    from rag_desktop.session import Session

    return Session.create(use_cache=False)  # the GUI always answers afresh


class Engine(QObject, ChatJobs):
    """Owns the one Session; every slot runs in the worker thread."""

    started = Signal(int)  # job id: the engine began it
    finished = Signal(int)  # job id: done, whatever the outcome (after any `failed`)
    failed = Signal(int, str)  # job id, message ("cancelled" for a cancel)
    progress = Signal(int, object)  # job id, ProgressEvent
    library_opened = Signal(int, str, list)  # job id, path, [DocumentInfo]
    library_details = Signal(str)  # library.library_details: embedder, BM25 words, chunking
    documents_changed = Signal(list)
    ingest_finished = Signal(int, list)  # job id, [AddOutcome]
    model_loaded = Signal(int, object)  # job id, ModelInfo (also after an evaluation or reload)
    model_unloaded = Signal(str)  # the chosen model id, when the runner no longer holds it
    catalog_changed = Signal(list)  # [ModelEntry]
    token = Signal(int, str)  # job id, streamed piece
    sources_found = Signal(int, list)  # job id, [Source]: retrieval is done, the model starts
    answered = Signal(int, object)  # job id, AskResult
    conversations_listed = Signal(list)  # [ConversationInfo], newest first
    conversation_opened = Signal(int, object)  # job id, Conversation
    eval_row = Signal(int, object)  # job id, EvalRow
    eval_finished = Signal(int, object)  # job id, EvalResult
    exported = Signal(int, str)  # job id, where the files went
    eval_restored = Signal(int, object)  # job id, EvalResult of the newest saved run
    _warm_requested = Signal()  # queued to warm_search, behind the jobs already sent

    def __init__(self, params: Params, session_factory: SessionFactory | None = None) -> None:
        super().__init__()
        self.params = params
        self._make_session = session_factory or _create_session
        self._warm_requested.connect(self.warm_search, Qt.ConnectionType.QueuedConnection)
        # Set once the open library's query embedder is loaded (the load holds the GIL for a
        # moment: tests that time the GUI thread wait for it, as a user's first minute does).
        self.warmed = threading.Event()
        self.ready = threading.Event()  # the session exists: the ingest lane may use it
        self._session: Session | None = None
        self._chosen: str | None = None  # the model the user chose (reloaded when lost)
        self._shown: ModelInfo | None = None  # the model state the GUI was last told
        self._handlers: dict[JobKind, Callable[..., None]] = {
            JobKind.OPEN_LIBRARY: self.open_library, JobKind.ADD_PDFS: self.add_pdfs,
            JobKind.REMOVE: self.remove_document, JobKind.LOAD_MODEL: self.load_model,
            JobKind.SETTINGS: self.set_params, JobKind.CATALOG: self.refresh_catalog,
            JobKind.ASK: self.ask, JobKind.EVALUATE: self.evaluate,
            JobKind.EXPORT_REPORTS: self.export_reports,
            JobKind.EXPORT_HISTORY: self.export_history,
            JobKind.RESTORE_EVAL: self.restore_evaluation,
            JobKind.DOWNLOAD_MODEL: self.download_model, JobKind.ADD_MODEL: self.add_model,
            JobKind.CONVERSATIONS: self.list_conversations,
            JobKind.OPEN_CONVERSATION: self.open_conversation,
            JobKind.RENAME_CONVERSATION: self.rename_conversation,
            JobKind.DELETE_CONVERSATION: self.delete_conversation,
            JobKind.EXPORT_CONVERSATION: self.export_conversation,
        }

    @property
    def session(self) -> Session:
        """The one Session (made in warm_up, in this thread)."""
        if self._session is None:
            self._session = self._make_session()
        return self._session

    @property
    def library(self) -> Library:
        """The open library (NoLibraryError when none is)."""
        return self.session.require_library()

    # -- setup --------------------------------------------------------------------------------
    @Slot()
    def warm_up(self) -> None:
        """Make the session, list the models, and import the heavy modules off the GUI thread."""
        batch_priority()
        try:
            self._apply(self.params)
        finally:
            self.ready.set()
        self.catalog_changed.emit(self.session.catalog.entries())
        import_core()
        freeze_heap()

    @Slot(object, object)
    def run(self, job: Job, args: tuple[Any, ...]) -> None:
        """Run one job of the queue: the handler of its kind, with the request's arguments."""
        self._handlers[job.kind](job, *args)

    def _apply(self, params: Params) -> None:
        # The session's settings are what an evaluation reloads the user's model with.
        self.params = params
        self.session.generation = params.generation()
        self.session.retrieval = params.retrieval()
        self.session.ocr = params.ocr()
        if self.session.library is not None:
            self.session.library.ocr_settings = self.session.ocr

    def _report_model(self, job: Job) -> None:
        """Tell the GUI when the runner's model changed behind a job (an evaluation's reload,
        a reload before an answer) or was lost (a dead runner): 'model not loaded'."""
        if self._session is None:
            return
        info = self._session.llm.info
        if info == self._shown:
            return
        self._shown = info
        if info is not None:
            self.model_loaded.emit(job.id, info)
        elif self._chosen is not None:
            self.model_unloaded.emit(self._chosen)

    # -- library ------------------------------------------------------------------------------
    @as_job
    def open_library(self, job: Job, path: str) -> None:
        """Close the current library and open (or create) the one at `path`."""
        from rag_desktop.library.results import library_details

        library = self.session.open_library(Path(path),
                                            embedding_model=self.params.embedding_model)
        self.library_opened.emit(job.id, str(library.path), library.documents())
        self.library_details.emit(library_details(library.manifest))
        # The search indexes now, the query embedder after the jobs queued meanwhile (the
        # start's model load): a restart is usable sooner (worker_setup.warm_library).
        library.prepare_search()
        self.warmed.clear()
        self._warm_requested.emit()

    @Slot()
    def warm_search(self) -> None:
        """Load the open library's query embedder and search it once (not a job: no news)."""
        if self._session is not None and self._session.library is not None:
            try:
                warm_library(self._session.library)
            except Exception:  # the first question will meet the same error, and show it
                log.exception("warming up the library failed")
        self.warmed.set()

    @as_job
    def add_pdfs(self, job: Job, paths: list[str]) -> None:
        """Ingest PDFs or folders; one outcome per file, errors included."""
        library = self.library
        outcomes = library.add_pdfs([Path(p) for p in paths],
                                    lambda event: self.progress.emit(job.id, event),
                                    job.cancel_token)
        library.search("warm up", k=1)  # rebuild the indexes now, not at the next question
        limit_torch_threads()  # an embedder may have loaded torch
        freeze_heap()
        self.documents_changed.emit(library.documents())
        self.ingest_finished.emit(job.id, outcomes)

    @as_job
    def remove_document(self, job: Job, name_or_sha: str) -> None:
        """Remove one document from the library."""
        self.library.remove(name_or_sha)
        self.documents_changed.emit(self.library.documents())

    # -- model --------------------------------------------------------------------------------
    @as_job
    def refresh_catalog(self, job: Job) -> None:
        """Reload the catalog and the GGUFs on disk."""
        self.catalog_changed.emit(self.session.refresh_catalog().entries())

    @as_job
    def load_model(self, job: Job, model_id: str) -> None:
        """Load a model into the one runner; the previous model is freed first."""
        self._load(job, model_id)

    def _load(self, job: Job, model_id: str) -> None:
        self._chosen = model_id
        info = self.session.load_model(model_id, self.params.generation())
        self._shown = info
        self.model_loaded.emit(job.id, info)

    @as_job
    def set_params(self, job: Job, params: Params) -> None:
        """New parameters; reload the model when a load-time setting changed."""
        old = self.params
        self._apply(params)
        info = self.session.llm.info
        if info is not None and params.needs_reload(old):
            self._load(job, info.id)

    # -- model files: the Models dialog's jobs (gui/model_jobs.py) -------------------------
    @as_job
    def download_model(self, job: Job, model_id: str) -> None:
        """Download a catalog model with `models pull`'s code; then the catalog lists it."""
        from rag_desktop.gui.model_jobs import download_model

        download_model(self.session.catalog, model_id,
                       lambda event: self.progress.emit(job.id, event), job.cancel_token)
        self.catalog_changed.emit(self.session.refresh_catalog().entries())

    @as_job
    def add_model(self, job: Job, path: str) -> None:
        """Copy a local GGUF (its header checked first) into the user's models folder."""
        from rag_desktop.gui.model_jobs import add_local_gguf

        add_local_gguf(Path(path), lambda event: self.progress.emit(job.id, event),
                       job.cancel_token)
        self.catalog_changed.emit(self.session.refresh_catalog().entries())

    # -- evaluate -----------------------------------------------------------------------------
    @as_job
    def evaluate(self, job: Job, request: EvalRequest) -> None:
        """Run the grid on the session (its runner, library and scorer); rows stream out.

        The core writes the CLI's report files. A cancel keeps the rows done so far: the core
        writes their reports before it stops.
        """
        from rag_desktop.evaluation.questions import load_questions
        from rag_desktop.evaluation.results import EvalConfig, summarize
        from rag_desktop.evaluation.run import run_evaluation

        out_dir = request.out_dir or default_out_dir()
        cfg = EvalConfig(
            library=self.library.path, questions=load_questions(request.questions),
            models=list(request.models), out_dir=out_dir, bm25_weights=list(request.bm25_weights),
            fusions=list(request.fusions), k=request.k, limit=request.limit,
            max_tokens=request.max_tokens, questions_file=str(request.questions),
            **request.extra,
        )
        rows: list[EvalRow] = []

        def collect(row: EvalRow) -> None:
            rows.append(row)
            self.eval_row.emit(job.id, row)

        cancelled = False
        try:
            rows = run_evaluation(cfg, lambda event: self.progress.emit(job.id, event),
                                  job.cancel_token, collect, session=self.session)
        except Cancelled:
            cancelled = True
        info_file = out_dir / "run.json"
        info = json.loads(info_file.read_text(encoding="utf-8")) if info_file.is_file() else {}
        info["out_dir"] = str(out_dir)
        normal_permissions(out_dir.iterdir() if out_dir.is_dir() else [])
        self.eval_finished.emit(job.id, EvalResult(rows, summarize(rows), cancelled, info))

    # -- exports (file I/O and matplotlib stay off the GUI thread) ---------------------------
    @as_job
    def export_reports(self, job: Job, folder: str, result: EvalResult) -> None:
        """Write the CLI's report files (CSV, JSON, plots) for an evaluation into `folder`."""
        from rag_desktop.evaluation.reports import write_reports

        run_info = {k: v for k, v in result.run_info.items() if k not in ("rows", "out_dir")}
        normal_permissions(write_reports(Path(folder), result.rows, run_info))
        self.exported.emit(job.id, folder)

    @as_job
    def export_history(self, job: Job, path: str, entries: list[HistoryEntry]) -> None:
        """Write the asked questions; .md gives Markdown, anything else CSV."""
        from rag_desktop.gui.history import write_csv, write_markdown

        target = Path(path)
        markdown = target.suffix.lower() in (".md", ".markdown")
        (write_markdown if markdown else write_csv)(target, entries)
        normal_permissions([target])
        self.exported.emit(job.id, path)

    @as_job
    def restore_evaluation(self, job: Job) -> None:
        """Read the newest evaluation saved by the GUI (after a restart); nothing when none."""
        from rag_desktop.gui.saved_runs import latest_run

        result = latest_run()
        if result is not None:
            self.eval_restored.emit(job.id, result)

    # -- shutdown -----------------------------------------------------------------------------
    @Slot()
    def shutdown(self) -> None:
        """Stop the runner and close the library (called in this thread before it quits)."""
        if self._session is not None:
            self._session.close()
            self._session = None


OUT_SIGNALS = ("started", "finished", "failed", "progress", "library_opened", "library_details",
               "documents_changed", "ingest_finished", "model_loaded", "model_unloaded",
               "catalog_changed", "token", "sources_found", "answered", "conversations_listed",
               "conversation_opened", "eval_row",
               "eval_finished", "exported", "eval_restored")
