"""The one worker: a QObject in its own QThread that owns the library, the pipeline and the LLM.

The GUI thread never calls the core. It emits request signals (queued into this thread) and
renders the result signals. Cancellation is a CancelToken made by the GUI per job, so a Stop
pressed before the job starts still counts; cancel() is thread-safe and the LLM client sends its
stop to the runner the moment it is called.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThread, Signal, Slot

from rag_desktop.gui.params import Params
from rag_desktop.gui.worker_setup import batch_priority, freeze_heap, import_core
from rag_desktop.progress import Cancelled, CancelToken, ProgressEvent

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class AskResult:
    """An answer with the optional reference answer and its cosine similarity."""

    answer: Any  # pipeline.Answer (kept Any so the GUI does not import the core eagerly)
    reference: str = ""
    cosine: float | None = None


@dataclass(frozen=True)
class EvalRequest:
    """What the Evaluate tab asks for."""

    questions: Path
    models: list[str]
    bm25_weights: list[float]
    k: int
    max_tokens: int
    limit: int | None = None
    out_dir: Path | None = None
    fusions: list[str] = field(default_factory=lambda: ["convex"])
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalResult:
    """Rows of one evaluation run, its summary, and whether it was cancelled."""

    rows: list[Any]
    summary: Any
    cancelled: bool
    run_info: dict[str, Any]


def job(what: str) -> Callable[[F], F]:
    """Run a slot as one job: busy while it runs, errors become the `failed` signal."""

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def run(self: Engine, *args: Any) -> Any:
            self.busy.emit(what)
            try:
                return method(self, *args)
            except Cancelled:
                self.failed.emit(what, "cancelled")
            except Exception as exc:  # any core error is shown, never kills the thread
                log.exception("%s failed", what)
                self.failed.emit(what, str(exc) or type(exc).__name__)
            finally:
                self.busy.emit("")
            return None

        return run  # type: ignore[return-value]

    return wrap


class Engine(QObject):
    """Owns Library, LLM and Pipeline; every slot runs in the worker thread."""

    busy = Signal(str)  # what is running; "" when idle
    progress = Signal(object)  # ProgressEvent
    library_opened = Signal(str, list)  # path, [DocumentInfo]
    library_details = Signal(str)  # library.library_details: embedder, BM25 words, chunking
    documents_changed = Signal(list)
    ingest_finished = Signal(list)  # [AddOutcome]
    model_loaded = Signal(object)  # ModelInfo
    catalog_changed = Signal(list)  # [ModelEntry]
    token = Signal(str)
    answered = Signal(object)  # AskResult
    eval_row = Signal(object)
    eval_finished = Signal(object)  # EvalResult
    failed = Signal(str, str)  # what, message

    def __init__(self, params: Params) -> None:
        super().__init__()
        self.params = params
        self._scorer: Any = None  # the answer-vs-reference embedder, made on first use
        self.library: Any = None
        self.llm: Any = None
        self.catalog: Any = None

    # -- setup --------------------------------------------------------------------------------
    @Slot()
    def warm_up(self) -> None:
        """Import the heavy modules here, off the GUI thread, and list the models."""
        batch_priority()
        self.refresh_catalog()
        import_core()
        try:
            import torch

            # One intra-op thread: the GUI thread keeps a core on a 2-core desktop.
            torch.set_num_threads(1)
        except ImportError:
            pass
        freeze_heap()

    @Slot()
    def refresh_catalog(self) -> None:
        """Reload the catalog and the GGUFs on disk."""
        from rag_desktop.llm.catalog import load_catalog

        self.catalog = load_catalog()
        self.catalog_changed.emit(self.catalog.entries())

    def _pipeline(self) -> Any:
        from rag_desktop.pipeline import Pipeline

        if self.llm is None:
            from rag_desktop.llm.client import LLM

            self.llm = LLM()
        if self.catalog is None:
            self.refresh_catalog()
        return Pipeline(self.library, self.llm, self.catalog,
                        self.params.retrieval(), self.params.generation(), None)

    def _emit_progress(self, event: ProgressEvent) -> None:
        self.progress.emit(event)

    # -- library ------------------------------------------------------------------------------
    @Slot(str)
    @job("Opening library")
    def open_library(self, path: str) -> None:
        """Close the current library and open (or create) the one at `path`."""
        from rag_desktop.library.library import Library

        library = Library.open(Path(path), embedding_model=self.params.embedding_model)
        if self.library is not None:
            self.library.close()
        self.library = library
        self.library_opened.emit(str(library.path), library.documents())
        from rag_desktop.library.results import library_details

        self.library_details.emit(library_details(library.manifest))
        # Load the embedder and build the search indexes now, not at the first question.
        if library.documents():
            library.search("warm up", k=1)
        else:
            library.embedder.embed_query("warm up")
        freeze_heap()

    @Slot(list, object)
    @job("Adding PDFs")
    def add_pdfs(self, paths: list[str], cancel: CancelToken) -> None:
        """Ingest PDFs or folders; one outcome per file, errors included."""
        outcomes = self.library.add_pdfs([Path(p) for p in paths], self._emit_progress, cancel)
        self.library.search("warm up", k=1)  # rebuild the indexes now, not at the next question
        freeze_heap()
        self.documents_changed.emit(self.library.documents())
        self.ingest_finished.emit(outcomes)

    @Slot(str)
    @job("Removing document")
    def remove_document(self, name_or_sha: str) -> None:
        """Remove one document from the library."""
        self.library.remove(name_or_sha)
        self.documents_changed.emit(self.library.documents())

    # -- model --------------------------------------------------------------------------------
    @Slot(str)
    @job("Loading model")
    def load_model(self, model_id: str) -> None:
        """Load a model; the LLM client closes the previous one first."""
        info = self._pipeline().load_model(model_id)
        self.model_loaded.emit(info)

    @Slot(object)
    def set_params(self, params: Params) -> None:
        """New parameters; reload the model when a load-time setting changed."""
        old, self.params = self.params, params
        if self.llm is not None and self.llm.info is not None and params.needs_reload(old):
            self.load_model(self.llm.info.id)

    # -- ask ----------------------------------------------------------------------------------
    @Slot(str, str, object)
    @job("Answering")
    def ask(self, question: str, reference: str, cancel: CancelToken) -> None:
        """Answer from the library, streaming tokens; cosine to the reference when given."""
        if self.library is None or not self.library.documents():
            raise RuntimeError("the library is empty; add a PDF first")
        pipe = self._pipeline()
        answer = pipe.ask(question, on_token=self.token.emit, cancel=cancel,
                          k=self.params.k, bm25_weight=self.params.bm25_weight, use_cache=False)
        cosine = None
        if reference.strip() and answer.text:
            from rag_desktop.evaluation.scoring import cosine as cosine_of
            from rag_desktop.evaluation.scoring import scorer_model
            from rag_desktop.library.embeddings import get_embedder

            # The evaluation's multilingual scorer, so the Ask tab and results.csv agree.
            if self._scorer is None:
                self._scorer = get_embedder(scorer_model())
            cosine = float(cosine_of(self._scorer, answer.text, reference))
        self.answered.emit(AskResult(answer, reference, cosine))

    # -- evaluate -----------------------------------------------------------------------------
    @Slot(object, object)
    @job("Evaluating")
    def evaluate(self, request: EvalRequest, cancel: CancelToken) -> None:
        """Run the evaluation grid with the core's evaluation module."""
        from rag_desktop.gui.evaluate import run

        result = run(request, self.library, self._emit_progress, cancel, self.eval_row.emit)
        self.eval_finished.emit(result)

    # -- shutdown -----------------------------------------------------------------------------
    @Slot()
    def shutdown(self) -> None:
        """Stop the runner and close the library (called in this thread before it quits)."""
        if self.llm is not None:
            self.llm.close()
            self.llm = None
        if self.library is not None:
            self.library.close()
            self.library = None


OUT_SIGNALS = ("busy", "progress", "library_opened", "library_details", "documents_changed",
               "ingest_finished",
               "model_loaded", "catalog_changed", "token", "answered", "eval_row",
               "eval_finished", "failed")


class EngineClient(QObject):
    """The GUI-thread handle: starts the thread, sends requests, owns the current CancelToken.

    It re-emits every engine signal from the GUI thread (signal-to-signal, queued), so that
    widgets and tests only ever see events delivered in the GUI thread.
    """

    busy = Signal(str)
    progress = Signal(object)
    library_opened = Signal(str, list)
    library_details = Signal(str)
    documents_changed = Signal(list)
    ingest_finished = Signal(list)
    model_loaded = Signal(object)
    catalog_changed = Signal(list)
    token = Signal(str)
    answered = Signal(object)
    eval_row = Signal(object)
    eval_finished = Signal(object)
    failed = Signal(str, str)

    req_open_library = Signal(str)
    req_add_pdfs = Signal(list, object)
    req_remove = Signal(str)
    req_load_model = Signal(str)
    req_params = Signal(object)
    req_ask = Signal(str, str, object)
    req_evaluate = Signal(object, object)
    req_shutdown = Signal()
    req_refresh = Signal()

    def __init__(self, params: Params) -> None:
        super().__init__()
        self.engine = Engine(params)
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("rag-engine")
        self.engine.moveToThread(self.worker_thread)
        self._token = CancelToken()
        self.working_on = ""  # the engine's current job as last reported; "" when idle
        self._connect()
        self.busy.connect(self._on_busy)
        self.worker_thread.started.connect(self.engine.warm_up)
        self.worker_thread.start()

    def _connect(self) -> None:
        e = self.engine
        pairs: list[tuple[Any, Any]] = [
            (self.req_open_library, e.open_library), (self.req_add_pdfs, e.add_pdfs),
            (self.req_remove, e.remove_document), (self.req_load_model, e.load_model),
            (self.req_params, e.set_params), (self.req_ask, e.ask),
            (self.req_evaluate, e.evaluate), (self.req_shutdown, e.shutdown),
            (self.req_refresh, e.refresh_catalog),
        ]
        for signal, slot in pairs:
            signal.connect(slot)
        for name in OUT_SIGNALS:
            getattr(e, name).connect(getattr(self, name))

    def _on_busy(self, what: str) -> None:
        self.working_on = what

    def refresh_catalog(self) -> None:
        """Rescan the catalog and the model folders."""
        self.req_refresh.emit()

    def _new_token(self) -> CancelToken:
        self._token = CancelToken()
        return self._token

    def open_library(self, path: str | Path) -> None:
        """Open or create a library folder."""
        self.req_open_library.emit(str(path))

    def add_pdfs(self, paths: list[str]) -> None:
        """Ingest PDFs and folders (cancellable with stop())."""
        self.req_add_pdfs.emit([str(p) for p in paths], self._new_token())

    def remove(self, name_or_sha: str) -> None:
        """Remove a document."""
        self.req_remove.emit(name_or_sha)

    def load_model(self, model_id: str) -> None:
        """Load a model in the background."""
        self.req_load_model.emit(model_id)

    def set_params(self, params: Params) -> None:
        """Apply new parameters."""
        self.req_params.emit(params)

    def ask(self, question: str, reference: str = "") -> None:
        """Ask a question (cancellable with stop())."""
        self.req_ask.emit(question, reference, self._new_token())

    def evaluate(self, request: EvalRequest) -> None:
        """Run an evaluation (cancellable with stop())."""
        self.req_evaluate.emit(request, self._new_token())

    def stop(self) -> None:
        """Cancel the current job, from the GUI thread, while the worker is busy."""
        self._token.cancel()

    def close(self, timeout_ms: int = 15000) -> None:
        """Cancel, close the core objects in the worker, and end the thread."""
        self.stop()
        self.req_shutdown.emit()
        self.worker_thread.quit()
        self.worker_thread.wait(timeout_ms)
