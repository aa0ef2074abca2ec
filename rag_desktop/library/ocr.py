"""OCR of scanned pages: which pages need it, the engines, and the record of OCR'd pages.

A page needs OCR when it draws a picture and has (almost) no text layer; the other pages keep
their PDF text. RapidOCR (PP-OCRv4 models inside its wheel: Chinese and English) reads by
default; Korean is read by Tesseract with its Korean data when the OS has them. Nothing is
downloaded at run time: a missing engine is an `OcrUnavailable` that says what to install.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag_desktop.config import OcrSettings
from rag_desktop.frozen import is_frozen
from rag_desktop.progress import CancelToken, ProgressCallback, ProgressEvent

log = logging.getLogger(__name__)

# Fewer extracted characters than this on a page with a picture: a scan (perhaps with a
# stamped page number or file name), so the picture is read.
MIN_TEXT_CHARS = 16
# Share of Hangul among a mixed document's text-layer letters above which "auto" reads its
# scanned pages as Korean.
_HANGUL_SHARE = 0.3
_TESSERACT_TIMEOUT_S = 300
INSTALL_OCR = "install the OCR extra: pip install 'rag-desktop[ocr]'"
NOT_IN_BUILD = "OCR is not part of this build; install rag-desktop[ocr] (pip) to read scanned PDFs"
INSTALL_KOREAN = (
    "Korean OCR needs Tesseract with its Korean data: apt install tesseract-ocr "
    "tesseract-ocr-kor (Linux); brew install tesseract tesseract-lang (macOS); on Windows the "
    "UB Mannheim Tesseract installer with Korean ticked, on the PATH"
)


class OcrUnavailable(Exception):
    """The engine a page needs is not installed; str() says what to install."""


@dataclass(frozen=True)
class PageOcr:
    """What OCR read on one page: text ("" when nothing), mean confidence 0-1, engine name."""

    text: str
    confidence: float
    engine: str


OcrEngine = Callable[[Any], PageOcr]


def needs_ocr(text: str | None, has_images: bool) -> bool:
    """A page whose text layer is (almost) empty but which draws a picture."""
    return text is not None and has_images and len(text.strip()) < MIN_TEXT_CHARS


def hangul_share(texts: Iterable[str | None]) -> float:
    """Share of Hangul syllables among the letters of `texts` (0.0 without letters)."""
    letters = hangul = 0
    for text in texts:
        for char in text or "":
            if char.isalpha():
                letters += 1
                hangul += "\uac00" <= char <= "\ud7a3"
    return hangul / letters if letters else 0.0


# ----- engines ---------------------------------------------------------------------------------
_RAPID_LOCK = threading.Lock()
_rapid: Any = None


def rapid_engine() -> OcrEngine:
    """RapidOCR, loaded once per process; raises OcrUnavailable when it is not installed."""
    global _rapid
    with _RAPID_LOCK:
        if _rapid is None:
            before = dict(os.environ)
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise OcrUnavailable(NOT_IN_BUILD if is_frozen() else INSTALL_OCR) from exc
            finally:
                # opencv-python's import points QT_QPA_PLATFORM_PLUGIN_PATH, QT_QPA_FONTDIR and
                # LD_LIBRARY_PATH at its own Qt: the app's Qt and the model runner must not see it.
                os.environ.clear()
                os.environ.update(before)
            _rapid = RapidOCR()
    return _read_rapid


def _read_rapid(image: Any) -> PageOcr:
    import numpy as np

    with _RAPID_LOCK:  # one page at a time: onnxruntime already uses every core
        result, _ = _rapid(np.asarray(image.convert("RGB")))
    lines = group_lines([(box, str(text), float(score)) for box, text, score in result or []])
    return _page_ocr(lines, "rapidocr")


def group_lines(boxes: Sequence[tuple[Any, str, float]]) -> list[list[tuple[str, float]]]:
    """Words or fragments (4-point box, text, score) as lines, top to bottom, left to right.

    A fragment whose vertical middle lies within the current line's top and bottom joins it.
    """
    placed = sorted(
        ((min(p[1] for p in box), max(p[1] for p in box), min(p[0] for p in box), text, score)
         for box, text, score in boxes if text.strip()),
        key=lambda item: item[0],
    )
    lines: list[list[tuple[float, str, float]]] = []
    top = bottom = 0.0
    for y0, y1, x0, text, score in placed:
        if lines and top <= (y0 + y1) / 2 <= bottom:
            lines[-1].append((x0, text, score))
            bottom = max(bottom, y1)
        else:
            lines.append([(x0, text, score)])
            top, bottom = y0, y1
    return [[(text, score) for _, text, score in sorted(line)] for line in lines]


def _page_ocr(lines: list[list[tuple[str, float]]], engine: str) -> PageOcr:
    """Join lines into text; the confidence is the mean score weighted by characters."""
    text = "\n".join(" ".join(t for t, _ in line) for line in lines)
    weights = [(len(t), s) for line in lines for t, s in line]
    total = sum(n for n, _ in weights)
    confidence = sum(n * s for n, s in weights) / total if total else 0.0
    return PageOcr(text, round(confidence, 4), engine)


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def tesseract_languages() -> set[str]:
    """The languages the installed `tesseract` reads (empty without tesseract)."""
    exe = shutil.which("tesseract")
    if exe is None:
        return set()
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return set()
    return {line.strip() for line in out.stdout.splitlines()[1:] if line.strip()}


def tesseract_engine(language: str = "kor") -> OcrEngine:
    """Tesseract reading `language` (+eng); raises OcrUnavailable when it or its data is missing."""
    if language not in tesseract_languages():
        raise OcrUnavailable(INSTALL_KOREAN)
    exe = shutil.which("tesseract") or "tesseract"

    def read(image: Any) -> PageOcr:
        with tempfile.TemporaryDirectory() as tmp:
            png, base = Path(tmp) / "page.png", Path(tmp) / "out"
            image.save(png)
            # --psm 6 reads the page as one block of text: the automatic layout analysis broke
            # a scanned Korean page into fragments and lost words ("식초" among them). One run
            # writes the text (its word spacing is right; the TSV's Korean words are syllables)
            # and the TSV (the confidences).
            subprocess.run([exe, str(png), str(base), "-l", f"{language}+eng", "--psm", "6",
                            "txt", "tsv"], capture_output=True, timeout=_TESSERACT_TIMEOUT_S)
            text = _read_text(base.with_suffix(".txt"))
            scored = _page_ocr(parse_tsv(_read_text(base.with_suffix(".tsv"))), "tesseract")
        lines = [" ".join(line.split()) for line in text.splitlines()]
        return PageOcr("\n".join(line for line in lines if line), scored.confidence,
                       "tesseract")

    return read


def parse_tsv(tsv: str) -> list[list[tuple[str, float]]]:
    """Tesseract's TSV as lines of (word, confidence 0-1), in its reading order."""
    lines: dict[tuple[str, ...], list[tuple[str, float]]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or not cols[11].strip() or float(cols[10]) < 0:
            continue
        lines.setdefault(tuple(cols[1:5]), []).append((cols[11].strip(), float(cols[10]) / 100))
    return list(lines.values())


def choose_engine(settings: OcrSettings, texts: Sequence[str | None]) -> OcrEngine:
    """The engine for one document: "ko" is Tesseract; "auto" picks it for a Korean document.

    "auto" looks at the document's own text-layer pages: a scan has none, so a wholly
    scanned Korean manual needs the setting (RapidOCR's models do not read Hangul).
    """
    if settings.language == "ko":
        return tesseract_engine("kor")
    if settings.language == "auto" and hangul_share(texts) > _HANGUL_SHARE:
        try:
            return tesseract_engine("kor")
        except OcrUnavailable:
            log.warning("scanned pages of a Korean document read with RapidOCR; %s",
                        INSTALL_KOREAN)
    return rapid_engine()


# ----- reading a document's scanned pages ------------------------------------------------------
def ocr_scanned_pages(
    extractor: Any, texts: list[str | None], settings: OcrSettings, name: str,
    progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
) -> tuple[dict[int, PageOcr], str | None]:
    """OCR every page of `texts` (0-based, extracted text) that needs it, in place.

    `extractor` is the document's pdftext.PageTexts. Returns the OCR of each read page by
    index, and why pages that needed OCR were not read (None when all were). Reports stage
    "ocr" (pages done of those to read); raises Cancelled when `cancel` is set.
    """
    # has_images only for pages whose text came out (and so whose streams pypdf checked).
    todo = [i for i, text in enumerate(texts)
            if needs_ocr(text, True) and extractor.has_images(i)]
    if not todo:
        return {}, None
    if not settings.enabled:
        return {}, "OCR is turned off in the settings"
    try:
        engine = choose_engine(settings, texts)
    except OcrUnavailable as exc:
        log.warning("%s: %d scanned pages not read: %s", name, len(todo), exc)
        return {}, str(exc)
    done: dict[int, PageOcr] = {}
    _report(progress, 0, len(todo), name)
    for count, index in enumerate(todo, start=1):
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            result = engine(extractor.render(index, settings.dpi))
        except Exception as exc:  # a broken or oversized picture must not lose the other pages
            log.warning("%s: page %d cannot be read by OCR (%s)", name, index + 1, exc)
            _report(progress, count, len(todo), name)
            continue
        done[index] = result
        texts[index] = result.text
        if not result.text:
            log.warning("%s: page %d: OCR found no text", name, index + 1)
        _report(progress, count, len(todo), name)
    return done, None


def _report(progress: ProgressCallback | None, done: int, total: int, name: str) -> None:
    if progress is not None:
        progress(ProgressEvent("ocr", done, total, name))


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
