"""Reading one PDF for the library: its pages (OCR included), chunks and vectors, before commit.

Also the pages being ingested right now, so that an answer given meanwhile can say how much of
the library it was answered from ("answered from 180 of 240 pages").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag_desktop.config import OcrSettings
from rag_desktop.library import ocr_cache
from rag_desktop.library.documents import Chunk, Page, chunk_pages, read_pdf
from rag_desktop.progress import CancelToken, ProgressCallback, ProgressEvent

_TOKEN_MARGIN = 8


@dataclass
class Prepared:
    """A PDF read, chunked and embedded: what the add transaction commits."""

    pages: list[Page]
    chunks: list[Chunk]
    vectors: np.ndarray


class Pending:
    """Pages of documents being ingested (not yet searchable), by sha256; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[str, int] = {}

    def set(self, sha256: str, pages: int) -> None:
        """Record a document's page count while it is ingested."""
        with self._lock:
            self._pages[sha256] = pages

    def drop(self, sha256: str) -> None:
        """The document is committed, failed or was cancelled."""
        with self._lock:
            self._pages.pop(sha256, None)

    def pages(self) -> int:
        """Pages of every document being ingested."""
        with self._lock:
            return sum(self._pages.values())


def prepare(library: Any, path: Path, sha: str, progress: ProgressCallback | None,
            cancel: CancelToken | None, ocr: OcrSettings) -> Prepared:
    """Read `path` (OCR'd pages kept under the library, for resume and highlights), chunk and
    embed it; while it runs, its pages count in `library.pending`."""
    pending: Pending = library.pending

    def tracked(event: ProgressEvent) -> None:
        if event.stage == "pages" and event.done <= 1:
            pending.set(sha, event.total)
        if progress is not None:
            progress(event)

    pages = read_pdf(path, tracked, cancel, ocr=ocr,
                     ocr_cache=ocr_cache.OcrPages(ocr_cache.document_folder(library.path, sha)))
    chunks = chunk_for(library, pages, path.name, sha)
    vectors = library.embedder.embed_documents([c.text for c in chunks], progress=progress,
                                               cancel=cancel)
    return Prepared(pages, chunks, vectors)


def chunk_for(library: Any, pages: list[Page], name: str, sha: str) -> list[Chunk]:
    """Chunks of the manifest's size that the embedder also reads whole.

    An 800-character chunk of code, a table or Hangul can exceed a transformer's window
    (MiniLM: 256 word pieces), and the embedder would silently drop its end; such chunks
    are split again by the embedder's own token count (docs/retrieval.md).
    """
    embedder = library.embedder
    window = getattr(embedder, "max_tokens", None)
    counter = getattr(embedder, "count_tokens", None)
    settings = library.manifest.chunk_settings
    if not window or counter is None:
        return chunk_pages(pages, name, sha, settings)
    # A margin for the prefix some models add ("passage: ") and for rounding in the splitter.
    return chunk_pages(pages, name, sha, settings, length_function=counter,
                       max_length=max(16, window - _TOKEN_MARGIN))
