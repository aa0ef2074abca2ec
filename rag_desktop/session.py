"""The one composition root: the library, the catalog, the one model client and the answer cache.

The CLI, the GUI engine and `run_evaluation` all drive a Session. An evaluation switches models
in the session's own runner, so there is never a second runner, embedder or library in memory.
The model client (llm/backend.py) picks the backend by the entry: a server entry is answered
by its server, and the local runner is stopped meanwhile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag_desktop import config
from rag_desktop.config import (
    ConversationSettings,
    GenerationSettings,
    OcrSettings,
    RetrievalSettings,
)

if TYPE_CHECKING:
    from rag_desktop.cache import AnswerCache
    from rag_desktop.chat.store import ConversationStore
    from rag_desktop.library.embeddings import Embedder
    from rag_desktop.library.library import Library
    from rag_desktop.llm.backend import ModelBackend
    from rag_desktop.llm.catalog import Catalog
    from rag_desktop.llm.client import ModelInfo
    from rag_desktop.pipeline import Pipeline


class NoLibraryError(Exception):
    """A question or an evaluation came before a library was opened."""


@dataclass
class Session:
    """Owns the parts every front end shares; close() releases them all.

    `retrieval` and `generation` are the settings a plain ask uses; an evaluation passes its
    own per question without changing them. `conversation` says how follow-ups are retrieved
    and how many earlier turns a prompt carries; the saved conversations open on first use.
    """

    llm: ModelBackend
    catalog: Catalog
    cache: AnswerCache | None = None
    library: Library | None = None
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    ocr: OcrSettings = field(default_factory=OcrSettings.from_env)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    conversation: ConversationSettings = field(default_factory=ConversationSettings)
    _scorer: Embedder | None = None
    # A model load started in the background (preload_model): (id, settings, its future).
    _preload: tuple[str, GenerationSettings, Future[ModelInfo]] | None = None
    _conversations: ConversationStore | None = None

    @classmethod
    def create(cls, use_cache: bool = True) -> Session:
        """A session with the catalog read, the runner not yet started and no library open."""
        from rag_desktop.cache import AnswerCache
        from rag_desktop.llm.backend import ModelClient
        from rag_desktop.llm.catalog import load_catalog

        cache = AnswerCache(config.home_dir() / "answer-cache.sqlite") if use_cache else None
        return cls(ModelClient(), load_catalog(), cache)

    # -- the parts ------------------------------------------------------------------------
    def open_library(self, path: Path, *, create: bool = True,
                     embedding_model: str | None = None) -> Library:
        """Open (or create) the library at `path`, closing the one open before."""
        from rag_desktop.library.library import Library

        kwargs: dict[str, Any] = {"create": create}
        if embedding_model is not None:
            kwargs["embedding_model"] = embedding_model
        library = Library.open(path, **kwargs)
        library.ocr_settings = self.ocr
        if self.library is not None:
            self.library.close()
        self.library = library
        return library

    def require_library(self) -> Library:
        """The open library, or a NoLibraryError that says what to do."""
        if self.library is None:
            raise NoLibraryError("no library is open: open or create one first")
        return self.library

    def refresh_catalog(self) -> Catalog:
        """Re-read the catalog and the GGUFs in the models folders."""
        from rag_desktop.llm.catalog import load_catalog

        self.catalog = load_catalog()
        return self.catalog

    def load_model(self, model_id: str, generation: GenerationSettings | None = None) -> ModelInfo:
        """Load a catalog model into the one runner (the previous model is freed first).

        When preload_model started this very load, wait for it (its error is this one's).
        """
        settings = generation or self.generation
        preload, self._preload = self._preload, None
        if preload is not None:
            wanted = preload[:2] == (model_id, settings)
            if wanted:
                return preload[2].result()
            _settle(preload[2])
        return self.llm.load(self.catalog.get(model_id), settings)

    def preload_model(self, model_id: str, generation: GenerationSettings | None = None) -> None:
        """Start loading a catalog model now, in a background thread; returns at once.

        The runner loads it in its own process while this one opens the library. Every later
        use of the model waits for it first: load_model, pipeline, keeping_model and close.
        UnknownModelError (raised here) for an id the catalog does not know.
        """
        # What the model-load thread imports is imported here first, so that two threads never
        # import at once: CPython's import-deadlock avoidance can then hand one of them a half
        # initialised module, and the frozen app once failed to start `ask` that way.
        import gguf  # noqa: F401
        import psutil  # noqa: F401

        self.wait_for_model()
        settings = generation or self.generation
        entry = self.catalog.get(model_id)
        if entry.server is not None:
            import rag_desktop.llm.server  # noqa: F401  (httpx: imported here, as above)
        pool = ThreadPoolExecutor(1, thread_name_prefix="model-load")
        self._preload = (model_id, settings, pool.submit(self.llm.load, entry, settings))
        pool.shutdown(wait=False)  # the thread ends with its one load

    def wait_for_model(self) -> None:
        """Wait for a background load (preload_model) to end; its error is left for
        load_model to report, and `llm.info` says whether it succeeded."""
        if self._preload is not None:
            _settle(self._preload[2])

    def pipeline(self, retrieval: RetrievalSettings | None = None,
                 generation: GenerationSettings | None = None,
                 library: Library | None = None, use_cache: bool = True) -> Pipeline:
        """A pipeline over the session's parts; it borrows them and never closes them."""
        from rag_desktop.pipeline import Pipeline

        self.wait_for_model()
        return Pipeline(library or self.require_library(), self.llm, self.catalog,
                        retrieval or self.retrieval, generation or self.generation,
                        self.cache if use_cache else None, self.conversation)

    def conversations(self) -> ConversationStore:
        """The saved conversations (conversations.sqlite in the user data dir), opened once."""
        from rag_desktop.chat.store import ConversationStore

        if self._conversations is None:
            self._conversations = ConversationStore()
        return self._conversations

    def scorer(self, model_id: str | None = None) -> Embedder:
        """The answer-vs-reference embedder, made once and kept (scoring.scorer_model)."""
        from rag_desktop.evaluation.scoring import scorer_model
        from rag_desktop.library.embeddings import get_embedder

        wanted = scorer_model(model_id) if model_id else scorer_model()
        if self._scorer is None or self._scorer.model_id != wanted:
            self._scorer = get_embedder(wanted)
        return self._scorer

    @contextlib.contextmanager
    def keeping_model(self) -> Iterator[None]:
        """Run a block that may switch models, then reload the model that was loaded before."""
        self.wait_for_model()
        before = self.llm.info.id if self.llm.info is not None else None
        try:
            yield
        finally:
            now = self.llm.info.id if self.llm.info is not None else None
            if before is not None and now != before:
                with contextlib.suppress(Exception):  # the block's own error is the one to show
                    self.load_model(before)

    def close(self) -> None:
        """Stop the runner and close the library and the cache."""
        self.wait_for_model()
        self._preload = None
        self.llm.close()
        if self.library is not None:
            self.library.close()
            self.library = None
        if self.cache is not None:
            self.cache.close()
            self.cache = None
        if self._conversations is not None:
            self._conversations.close()
            self._conversations = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_session(
    library_path: Path, model_id: str | None = None, generation: GenerationSettings | None = None,
    retrieval: RetrievalSettings | None = None, use_cache: bool = True,
) -> Session:
    """Open the library and load `model_id` (when given) in one session.

    The runner loads the model in its own process while this one imports the search stack and
    reads the indexes: on a cold start the two take about as long as each other
    (docs/performance.md, cold start).
    """
    session = Session.create(use_cache)
    session.generation = generation or GenerationSettings()
    session.retrieval = retrieval or RetrievalSettings()
    try:
        if model_id is not None:  # an unknown id fails here, before the library is opened
            session.preload_model(model_id)
        session.open_library(library_path).prepare_search()
        if model_id is not None:
            session.load_model(model_id)  # waits for the preload
    except BaseException:
        session.close()
        raise
    return session


def _settle(future: Future[Any] | None) -> None:
    """Wait for a background load that is no longer wanted; its error is not the one to show."""
    if future is not None:
        with contextlib.suppress(BaseException):
            future.result()
