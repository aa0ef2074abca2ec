"""The persistent library of PDFs: add, remove, hybrid search, check and reindex."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag_desktop.config import (
    DEFAULT_EMBEDDING_MODEL,
    ChunkSettings,
    OcrSettings,
    RetrievalSettings,
)
from rag_desktop.fsutil import file_sha256
from rag_desktop.library import ann, ingest, ocr, ocr_cache, readers
from rag_desktop.library.documents import Chunk, DocumentError, check_file
from rag_desktop.library.embeddings import Embedder, canonical_model_id, get_embedder
from rag_desktop.library.fusion import first_per_key, seat
from rag_desktop.library.results import (
    AddOutcome,
    AddResult,
    CheckReport,
    SearchHit,
    SearchResult,
    expand_pdf_paths,
)
from rag_desktop.library.retrieval import Scored, SearchState
from rag_desktop.library.store import (
    DB_FILE,
    FORMAT_VERSION,
    DocumentInfo,
    LibraryError,
    LibraryStore,
    Manifest,
    new_index,
    utc_now,
)
from rag_desktop.library.textindex import TOKENIZER_ID, TOKENIZERS
from rag_desktop.library.writelock import LibraryBusyError, WriteLock, tidy_when_idle, writes
from rag_desktop.progress import Cancelled, CancelToken, ProgressCallback, ProgressEvent

log = logging.getLogger(__name__)
_DEFAULTS = RetrievalSettings()  # search()'s defaults are the app's, chosen in docs/retrieval.md

__all__ = [
    "AddOutcome", "AddResult", "CheckReport", "DocumentInfo", "EmbeddingMismatchError",
    "Library", "LibraryBusyError", "LibraryError", "Manifest", "SearchHit", "SearchResult",
    "expand_pdf_paths",
]


class EmbeddingMismatchError(LibraryError):
    """The library's vectors come from another embedding model than the app's."""

    def __init__(self, path: Path, library_model: str, app_model: str) -> None:
        self.library_model = library_model
        self.app_model = app_model
        super().__init__(
            f"library {path} was built with embedding model {library_model}; this app is set "
            f"to {app_model}; run `rag-desktop reindex --library {path}` to rebuild it"
        )


def _report(progress: ProgressCallback | None, stage: str, done: int, total: int,
            message: str = "") -> None:
    if progress is not None:
        progress(ProgressEvent(stage, done, total, message))


class Library:
    """A library folder (see libstore for the files). Build one with Library.open()."""

    dense_settings = ann.DenseIndexSettings()  # when "auto" turns approximate (tests lower it)

    def __init__(self, store: LibraryStore, embedder: Embedder | None) -> None:
        self.store = store
        self.manifest = store.manifest()
        self._embedder = embedder
        # The GUI drives the library from one worker thread; the lock guards odd callers.
        self._lock = threading.RLock()
        self._state: SearchState | None = None
        self._writer = WriteLock(store.path)  # changes: one process at a time (writelock.py)
        self.ocr_settings = OcrSettings.from_env()  # the session sets the user's
        self.pending = ingest.Pending()  # documents being added (from another thread too)

    @classmethod
    def open(
        cls,
        path: Path,
        embedder: Embedder | None = None,
        *,
        create: bool = True,
        chunk_settings: ChunkSettings | None = None,
        embedding_model: str = DEFAULT_EMBEDDING_MODEL,
    ) -> Library:
        """Open (or create) the library at `path`. Cheap: no embedding, no index is loaded.

        A new library records `embedder`'s model (else `embedding_model`) and chunk_settings.
        An existing one keeps its manifest: an `embedder` for another model raises
        EmbeddingMismatchError, and without one the manifest's model is made on first use.
        """
        path = Path(path).expanduser().resolve()
        if not (path / DB_FILE).is_file() and not create:
            raise LibraryError(f"no library at {path}; add a PDF to create one")
        store = LibraryStore.connect(path)
        try:
            if not store.initialized:
                if not create:
                    raise LibraryError(f"{path} is not a rag-desktop library")
                store.initialize(_new_manifest(embedder, embedding_model, chunk_settings))
            _check_manifest(store, embedder)
        except BaseException:
            store.close()
            raise
        tidy_when_idle(store)
        return cls(store, embedder)

    @property
    def path(self) -> Path:
        """The library folder."""
        return self.store.path

    @property
    def embedder(self) -> Embedder:
        """The embedder of the manifest's model, made on first use."""
        if self._embedder is None:
            self._embedder = get_embedder(self.manifest.embedding_model)
        return self._embedder

    @property
    def version(self) -> str:
        """Changes on every committed change (also another process's); for cache keys.

        "<generation>-<uid>": the uid differs between libraries made at the same path.
        """
        return f"{self.store.generation}-{self.store.meta('uid')}"

    def documents(self) -> list[DocumentInfo]:
        """Every document, oldest first, with how many of its pages OCR read."""
        scanned = ocr.ocr_summary(self.store.conn)
        return [replace(d, ocr_pages=scanned[d.sha256][0], ocr_confidence=scanned[d.sha256][1])
                if d.sha256 in scanned else d for d in self.store.documents()]

    def chunk_count(self) -> int:
        """Number of chunks over all documents."""
        return self.store.chunk_count()

    def get_document(self, name_or_sha: str) -> DocumentInfo:
        """A document by sha256, a unique sha256 prefix (8+ characters), or its file name."""
        docs = self.documents()
        matches = [d for d in docs if d.sha256 == name_or_sha]
        if not matches and len(name_or_sha) >= 8:
            matches = [d for d in docs if d.sha256.startswith(name_or_sha)]
        if not matches:
            matches = [d for d in docs if d.name == name_or_sha]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise LibraryError(f"{len(matches)} documents match {name_or_sha!r}; use the sha256")
        raise LibraryError(f"no document {name_or_sha!r} in library {self.path}")

    # ----- changes ---------------------------------------------------------------------------
    @writes
    def add_pdf(self, path: Path, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> AddResult:
        """Read, chunk, embed and commit one PDF; a known sha256 is a "duplicate" (no change).

        Raises DocumentError or Cancelled with the library unchanged (OCR'd pages are kept
        for the next try: ocr_cache.py). Reports stages "pages", "ocr", "chunks" (embedding
        batches) and "saving".
        """
        path = Path(path)
        check_file(path)
        sha = file_sha256(path)
        known = [d for d in self.documents() if d.sha256 == sha]
        if known:
            return AddResult("duplicate", known[0])
        try:
            ready = ingest.prepare(self, path, sha, progress, cancel, self.ocr_settings)
            if cancel is not None:
                cancel.raise_if_cancelled()
            _report(progress, "saving", 0, 1, path.name)
            info = DocumentInfo(path.name, sha, str(path.resolve()), len(ready.pages),
                                len(ready.chunks), utc_now())
            with self._lock, self.store.transaction():
                ids = ocr.insert_document(self.store, info, ready.chunks, ready.pages)
                index = self.store.load_index()  # read from the file: already a copy to change
                index.add_with_ids(ready.vectors, np.asarray(ids, dtype=np.int64))
                self.manifest = ann.commit(self.store, index, settings=self.dense_settings)
        finally:
            self.pending.drop(sha)
        _report(progress, "saving", 1, 1, path.name)
        return AddResult("added", info)

    def page_coverage(self) -> tuple[int, int]:
        """(pages searchable, those plus the pages of documents being added right now)."""
        indexed = sum(d.pages for d in self.documents())
        return indexed, indexed + self.pending.pages()

    @writes
    def add_pdfs(self, paths: Iterable[Path], progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> list[AddOutcome]:
        """Add many files (folders expand to their PDFs); one bad file does not stop the rest.

        After a cancel, the file in progress and all later ones are "cancelled".
        Reports stage "files" besides add_pdf's stages.
        """
        files = expand_pdf_paths(paths)
        outcomes: list[AddOutcome] = []
        for done, file in enumerate(files):
            if cancel is not None and cancel.cancelled:
                outcomes.append(AddOutcome(file, "cancelled", None, None))
                continue
            _report(progress, "files", done, len(files), file.name)
            try:
                result = self.add_pdf(file, progress, cancel)
                outcomes.append(AddOutcome(file, result.status, result.document, None))
            except Cancelled:
                outcomes.append(AddOutcome(file, "cancelled", None, None))
            except (DocumentError, LibraryError, OSError) as exc:
                outcomes.append(AddOutcome(file, "error", None, str(exc)))
        _report(progress, "files", len(files), len(files))
        return outcomes

    @writes
    def remove(self, name_or_sha: str) -> DocumentInfo:
        """Remove a document with its chunks and vectors, in one atomic commit."""
        info = self.get_document(name_or_sha)
        with self._lock, self.store.transaction():
            ids = self.store.delete_document(info.sha256)
            index = self.store.load_index()
            index.remove_ids(np.asarray(ids, dtype=np.int64))
            self.manifest = ann.commit(self.store, index, settings=self.dense_settings)
        ocr_cache.forget(self.path, info.sha256)
        return info

    @writes
    def reindex(self, embedder: Embedder, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> None:
        """Re-embed every chunk with `embedder` and switch the manifest to it, atomically."""
        rows = self.store.chunk_texts()
        vectors = embedder.embed_documents([r[1] for r in rows], progress=progress, cancel=cancel)
        if cancel is not None:
            cancel.raise_if_cancelled()
        index = new_index(embedder.dim)
        index.add_with_ids(vectors, np.asarray([r[0] for r in rows], dtype=np.int64))
        manifest = replace(self.manifest, embedding_model=embedder.model_id, dim=embedder.dim)
        with self._lock, self.store.transaction():
            if [r[0] for r in self.store.chunk_texts()] != [r[0] for r in rows]:
                raise LibraryError("the library changed during reindex; run it again")
            self.manifest = ann.commit(self.store, index, manifest, self.dense_settings)
            self._embedder = embedder

    @writes
    def set_dense_index(self, mode: str) -> None:
        """Keep the vectors in an "exact", an "ivf" (approximate) or an "auto" index (ann.py)."""
        with self._lock, self.store.transaction():
            self.manifest = ann.set_mode(self.store, mode, self.dense_settings)

    # ----- search ----------------------------------------------------------------------------
    def prepare_search(self) -> None:
        """Load what the first search needs (indexes, query encoder) ahead of it.

        open_session runs this while the runner loads the model, so a cold start's first
        question does not wait for both one after the other (docs/performance.md, cold start).
        """
        with self._lock:
            self._search_state()
        encoder = getattr(self.embedder, "query_encoder", None)
        if encoder is not None:
            encoder()

    def _search_state(self) -> SearchState:
        """The pinned generation's search state, reloaded at the first search after a commit,
        also another process's (readers.py)."""
        if self._state is None or self._state.generation != self.store.generation:
            manifest, self._state = readers.load_state(self.store)
            if manifest.embedding_model != self.manifest.embedding_model:
                self._embedder = None  # another process reindexed: embed queries with its model
            self.manifest = manifest
        return self._state

    def search(self, query: str, k: int = _DEFAULTS.k, bm25_weight: float = _DEFAULTS.bm25_weight,
               k_per_leg: int = _DEFAULTS.k_per_leg, *, fusion: str = _DEFAULTS.fusion,
               rrf_c: int = _DEFAULTS.rrf_c,
               one_chunk_per_page: bool = _DEFAULTS.one_chunk_per_page,
               leg_seats: bool = _DEFAULTS.leg_seats) -> SearchResult:
        """Hybrid search: BM25 and dense legs fused by `fusion`, best first.

        "rrf" is LangChain's EnsembleRetriever, sum(w_i / (rank_i + rrf_c)); "convex" mixes
        min-max normalised scores w : 1 - w (docs/retrieval.md compares them). Each hit reports
        its raw BM25 score and dense cosine (also when only the other leg found it) and the
        fused score. With one_chunk_per_page, a page fills at most one of the k places; with
        leg_seats, each leg's own first chunk is sure of a place. The result also carries the
        relevance gate's signals (top cosine, term coverage, unknown terms).
        """
        if not 0.0 <= bm25_weight <= 1.0:
            raise ValueError(f"bm25_weight must be within 0..1, not {bm25_weight}")
        started = time.perf_counter()
        with self._lock:
            # Extra candidates so that de-duplicating pages and seats can still fill k places.
            per_leg = max(k, k_per_leg)
            n = 2 * per_leg if one_chunk_per_page or leg_seats else k
            state, scored, chunks = readers.pinned_search(self.store, self._search_state, (
                lambda st: st.search(query, self.embedder, n, bm25_weight, per_leg, fusion, rrf_c)))
            # A weight of 0 or 1 asks for one leg alone: no seat for the other.
            seats = leg_seats and 0.0 < bm25_weight < 1.0
            scored = self._place(state, query, scored, chunks, k, one_chunk_per_page, seats)
            top_cosine = state.top_cosine(query, self.embedder) if scored else 0.0
            coverage = state.coverage(query, [s.chunk_id for s in scored])
            unknown = state.unknown_share(query)
        hits = [SearchHit(rank, chunks[s.chunk_id], s.bm25, s.dense, s.fused)
                for rank, s in enumerate(scored, start=1)]
        return SearchResult(query, time.perf_counter() - started, hits, top_cosine, coverage,
                            unknown)

    def _place(self, state: SearchState, query: str, scored: list[Scored],
               chunks: dict[int, Chunk], k: int, one_chunk_per_page: bool,
               leg_seats: bool) -> list[Scored]:
        """The k hits to show: one chunk per page and each leg's best, when asked for."""
        by_id = {s.chunk_id: s for s in scored}
        ids = list(by_id)
        page = {i: (chunks[i].sha256, chunks[i].page) if i in chunks else i for i in ids}
        if one_chunk_per_page:
            ids = first_per_key(ids, page, len(ids))
        if leg_seats:
            forced = [i for i in state.leg_tops(query, self.embedder) if i in by_id]
            ids = seat(ids, forced, page, k)
        return [by_id[i] for i in ids[:k]]

    # ----- integrity -------------------------------------------------------------------------
    def check(self, repair: bool = False) -> CheckReport:
        """Find (and with repair=True fix) disagreements between manifest, SQLite and FAISS.

        Checked: manifest.json readable and current; the vector file readable with the
        manifest's dim; every vector has a chunk and every chunk a document and one vector;
        documents.chunks counts. Repair drops orphans, fixes counts, re-embeds what is missing.
        """
        problems: list[str] = []
        with self._writer.held() if repair else contextlib.nullcontext(), self._lock:
            if self.store.read_manifest_file() != self.manifest:
                problems.append("manifest.json is missing, unreadable or out of date")
                if repair:
                    self.store.write_manifest_file(self.manifest)
            with self.store.transaction():
                found, plan = self.store.find_problems(self.manifest.dim)
                if repair and found:
                    self.store.repair(plan, self.manifest.dim, self.embedder.embed_documents)
            problems.extend(found)
        return CheckReport(ok=repair or not problems, problems=problems,
                           repaired=list(problems) if repair else [])

    def close(self) -> None:
        """Close the database; the object is unusable afterwards."""
        with self._lock:
            self._state = None
            self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _new_manifest(embedder: Embedder | None, embedding_model: str,
                  chunk_settings: ChunkSettings | None) -> Manifest:
    """The manifest of a new library (the dim comes from the model's config, no load)."""
    chunking = chunk_settings or ChunkSettings()
    if embedder is None:
        embedder = get_embedder(canonical_model_id(embedding_model))
    return Manifest(FORMAT_VERSION, embedder.model_id, embedder.dim, chunking.chunk_size,
                    chunking.chunk_overlap, TOKENIZER_ID, utc_now())


def _check_manifest(store: LibraryStore, embedder: Embedder | None) -> None:
    """Refuse a library this app cannot use, with a message that says what to do."""
    manifest = store.manifest()
    if manifest.format_version > FORMAT_VERSION:
        raise LibraryError(f"library {store.path} was made by a newer rag-desktop; update the app")
    if manifest.tokenizer not in TOKENIZERS:
        raise LibraryError(f"library {store.path} uses an unknown tokenizer {manifest.tokenizer}; "
                           "update the app")
    if embedder is not None and embedder.model_id != manifest.embedding_model:
        raise EmbeddingMismatchError(store.path, manifest.embedding_model, embedder.model_id)
