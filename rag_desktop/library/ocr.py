"""OCR of scanned pages: which pages need it, reading them (resumably), and their record.

A page needs OCR when it draws a picture and has (almost) no text layer; the other pages keep
their PDF text. RapidOCR (PP-OCRv4 models inside its wheel: Chinese and English) reads by
default; Korean is read by Tesseract with its Korean data when the OS has them
(ocr_engines.py). Nothing is downloaded at run time: a missing engine is an `OcrUnavailable`
that says what to install. Each page read is kept on disk at once (ocr_cache.py), so a
cancelled or killed ingestion resumes where it stopped.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rag_desktop.config import OcrSettings
from rag_desktop.library.ocr_cache import OcrPages
from rag_desktop.library.ocr_engines import (
    INSTALL_KOREAN,
    INSTALL_OCR,
    NOT_IN_BUILD,
    OcrEngine,
    OcrUnavailable,
    PageOcr,
    Word,
    choose_engine,
    group_lines,
    hangul_share,
    parse_tsv,
    rapid_engine,
    tesseract_engine,
    tesseract_languages,
)
from rag_desktop.progress import Cancelled, CancelToken, ProgressCallback, ProgressEvent

log = logging.getLogger(__name__)

__all__ = [
    "INSTALL_KOREAN", "INSTALL_OCR", "NOT_IN_BUILD", "OcrEngine", "OcrUnavailable", "PageOcr",
    "PageSource", "Word", "choose_engine", "group_lines", "hangul_share", "needs_ocr",
    "ocr_scanned_pages", "ocr_summary", "page_sources", "parse_tsv", "rapid_engine",
    "record_ocr_pages", "tesseract_engine", "tesseract_languages",
]

# Fewer extracted characters than this on a page with a picture: a scan (perhaps with a
# stamped page number or file name), so the picture is read.
MIN_TEXT_CHARS = 16


def needs_ocr(text: str | None, has_images: bool) -> bool:
    """A page whose text layer is (almost) empty but which draws a picture."""
    return text is not None and has_images and len(text.strip()) < MIN_TEXT_CHARS


# ----- reading a document's scanned pages ------------------------------------------------------
def ocr_scanned_pages(
    extractor: Any, texts: list[str | None], settings: OcrSettings, name: str,
    progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
    cache: OcrPages | None = None,
) -> tuple[dict[int, PageOcr], str | None]:
    """OCR every page of `texts` (0-based, extracted text) that needs it, in place.

    `extractor` is the document's pdftext.PageTexts. Pages already in `cache` (read earlier
    with the same language setting) are taken from it; each page read is put there at once.
    Returns the OCR of each read page by index (word boxes in PDF points), and why pages that
    needed OCR were not read (None when all were). Reports stage "ocr" (pages done of those to
    read; the message says how many came from the cache); raises Cancelled when `cancel` is set.
    """
    # has_images only for pages whose text came out (and so whose streams pypdf checked).
    todo = [i for i, text in enumerate(texts)
            if needs_ocr(text, True) and extractor.has_images(i)]
    if not todo:
        return {}, None
    if not settings.enabled:
        return {}, "OCR is turned off in the settings"
    done: dict[int, PageOcr] = {}
    if cache is not None:
        done = {i: r for i in todo if (r := cache.get(i, settings.language)) is not None}
    reader = _Reader(extractor, settings, [t for i, t in enumerate(texts) if i not in todo],
                     todo)
    _report(progress, len(done), len(todo), name, len(done))
    for index in todo:
        if index in done:
            continue
        if cancel is not None:
            cancel.raise_if_cancelled()
        result = reader.read(index, name, cancel)
        if reader.problem is not None:
            break
        if result is not None:
            done[index] = result
            if cache is not None:
                cache.put(index, result, settings)
        _report(progress, len(done) + reader.failed, len(todo), name, 0)
    for index, result in done.items():
        texts[index] = result.text
    return done, reader.problem


class _Reader:
    """Reads pages with the document's engine, chosen at the first page not in the cache."""

    def __init__(self, extractor: Any, settings: OcrSettings, layer: list[str | None],
                 scanned: list[int]) -> None:
        self.extractor, self.settings, self.layer = extractor, settings, layer
        self.scanned = scanned
        self.engine: OcrEngine | None = None
        self.problem: str | None = None
        self.failed = 0

    def read(self, index: int, name: str, cancel: CancelToken | None) -> PageOcr | None:
        """Page `index` read (box in points), or None (a failure, logged; or no engine).
        Raises Cancelled when `cancel` stopped the engine in the middle of the page."""
        dpi = self.settings.dpi
        try:
            if self.engine is None:
                samples = [functools.partial(self.extractor.render, i, dpi)
                           for i in self.scanned[:3]]
                self.engine = choose_engine(self.settings, self.layer, samples)
            result = self.engine.read(self.extractor.render(index, dpi), cancel).scaled(72 / dpi)
        except Cancelled:
            raise  # not a page failure: the whole add stops
        except OcrUnavailable as exc:
            log.warning("%s: scanned pages not read: %s", name, exc)
            self.problem = str(exc)
            return None
        except Exception as exc:  # a broken or oversized picture must not lose the other pages
            log.warning("%s: page %d cannot be read by OCR (%s)", name, index + 1, exc)
            self.failed += 1
            return None
        if not result.text:
            log.warning("%s: page %d: OCR found no text", name, index + 1)
        return result


def _report(progress: ProgressCallback | None, done: int, total: int, name: str,
            kept: int) -> None:
    if progress is not None:
        message = f"{name} ({kept} pages kept from before)" if kept else name
        progress(ProgressEvent("ocr", done, total, message))


# ----- the record of OCR'd pages in a library's SQLite ------------------------------------------
# Its own table, created on first use: pages absent from it took their text from the PDF.
# Older apps ignore it, so the library format stays 1.
_TABLE = """CREATE TABLE IF NOT EXISTS ocr_pages(sha256 TEXT NOT NULL, page INTEGER NOT NULL,
    engine TEXT NOT NULL, confidence REAL NOT NULL, chars INTEGER NOT NULL,
    PRIMARY KEY (sha256, page))"""
# Removing a document (store.delete_document, in any app version) drops its records too.
_FORGET = """CREATE TRIGGER IF NOT EXISTS ocr_pages_forget AFTER DELETE ON documents
    BEGIN DELETE FROM ocr_pages WHERE sha256 = OLD.sha256; END"""


@dataclass(frozen=True)
class PageSource:
    """Where one page's text came from: "pdf" or "ocr" (engine, confidence, characters read)."""

    source: str
    engine: str = ""
    confidence: float | None = None
    chars: int = 0


def insert_document(store: Any, info: Any, chunks: list[Any], pages: Iterable[Any]) -> list[int]:
    """store.insert_document(info, chunks), then the record of its OCR'd pages; returns chunk ids.

    Call inside the add transaction. `pages` are documents.Page (their `ocr` is set when read
    by OCR).
    """
    ids: list[int] = store.insert_document(info, chunks)
    record_ocr_pages(store.conn, info.sha256, [(p.number, p.ocr) for p in pages if p.ocr])
    return ids


def record_ocr_pages(conn: sqlite3.Connection, sha256: str,
                     pages: Iterable[tuple[int, PageOcr]]) -> None:
    """Record a document's OCR'd (page number, result); call inside its add transaction."""
    rows = [(sha256, number, r.engine, r.confidence, len(r.text)) for number, r in pages]
    if not rows:
        return
    conn.execute(_TABLE)
    conn.execute(_FORGET)
    conn.executemany("INSERT OR REPLACE INTO ocr_pages VALUES (?, ?, ?, ?, ?)", rows)


def page_sources(conn: sqlite3.Connection, sha256: str, pages: int) -> dict[int, PageSource]:
    """Each page's source (1-based page number -> PageSource) for a document of `pages` pages."""
    out = {number: PageSource("pdf") for number in range(1, pages + 1)}
    try:
        rows = conn.execute("SELECT page, engine, confidence, chars FROM ocr_pages "
                            "WHERE sha256=?", (sha256,)).fetchall()
    except sqlite3.OperationalError:
        rows = []
    for page, engine, confidence, chars in rows:
        out[int(page)] = PageSource("ocr", str(engine), float(confidence), int(chars))
    return out


def ocr_summary(conn: sqlite3.Connection) -> dict[str, tuple[int, float]]:
    """Per document (sha256): how many pages OCR read, and their mean confidence."""
    try:
        rows = conn.execute("SELECT sha256, COUNT(*), AVG(confidence) FROM ocr_pages "
                            "GROUP BY sha256").fetchall()
    except sqlite3.OperationalError:  # no page was ever OCR'd in this library
        return {}
    return {str(sha): (int(n), round(float(mean), 3)) for sha, n, mean in rows}
