"""The OCR engines: RapidOCR (its wheel's models) and Tesseract (the OS's), and which to use.

Each engine reads one page image into a PageOcr: the text, a confidence and the words with
their boxes (pixels of the image; ocr.py turns them into PDF points for the page view).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag_desktop.config import OcrSettings
from rag_desktop.frozen import is_frozen
from rag_desktop.progress import CancelToken

log = logging.getLogger("rag_desktop.library.ocr")

# Share of Hangul among a document's text-layer letters above which "auto" reads its scanned
# pages as Korean.
_HANGUL_SHARE = 0.3
_TESSERACT_TIMEOUT_S = 300
_OSD_TIMEOUT_S = 60
INSTALL_OCR = "install the OCR extra: pip install 'rag-desktop[ocr]'"
NOT_IN_BUILD = "OCR is not part of this build; install rag-desktop[ocr] (pip) to read scanned PDFs"
INSTALL_KOREAN = (
    "Korean OCR needs Tesseract with its Korean data: apt install tesseract-ocr "
    "tesseract-ocr-kor (Linux); brew install tesseract tesseract-lang (macOS); on Windows the "
    "UB Mannheim Tesseract installer with Korean ticked, on the PATH"
)

# A word (or a line fragment, for RapidOCR) and its box: text, left, top, right, bottom.
Word = tuple[str, float, float, float, float]


class OcrUnavailable(Exception):
    """The engine a page needs is not installed; str() says what to install."""


@dataclass(frozen=True)
class PageOcr:
    """What OCR read on one page: text ("" when nothing), mean confidence 0-1, engine name,
    and the words with their boxes (pixels of the read image, or PDF points once scaled)."""

    text: str
    confidence: float
    engine: str
    words: tuple[Word, ...] = field(default=(), compare=False, repr=False)

    def scaled(self, factor: float) -> PageOcr:
        """The same result with every word box multiplied by `factor` (pixels -> points)."""
        words = tuple((t, round(a * factor, 2), round(b * factor, 2), round(c * factor, 2),
                       round(d * factor, 2)) for t, a, b, c, d in self.words)
        return PageOcr(self.text, self.confidence, self.engine, words)


@dataclass(frozen=True)
class OcrEngine:
    """An engine's name (kept with each page it read) and its page reader."""

    name: str
    read: Callable[..., PageOcr]  # (page image, cancel token or None) -> PageOcr


def hangul_share(texts: Iterable[str | None]) -> float:
    """Share of Hangul syllables among the letters of `texts` (0.0 without letters)."""
    letters = hangul = 0
    for text in texts:
        for char in text or "":
            if char.isalpha():
                letters += 1
                hangul += "\uac00" <= char <= "\ud7a3"
    return hangul / letters if letters else 0.0


# ----- RapidOCR --------------------------------------------------------------------------------
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
    return OcrEngine("rapidocr", _read_rapid)


def _read_rapid(image: Any, cancel: CancelToken | None = None) -> PageOcr:
    import numpy as np

    with _RAPID_LOCK:  # one page at a time: onnxruntime already uses every core
        result, _ = _rapid(np.asarray(image.convert("RGB")))
    found = [(box, str(text), float(score)) for box, text, score in result or []]
    ordered = _in_lines(found)
    words = tuple((text.strip(), min(p[0] for p in box), min(p[1] for p in box),
                   max(p[0] for p in box), max(p[1] for p in box))
                  for line in ordered for box, text, _ in line)
    lines = [[(text, score) for _, text, score in line] for line in ordered]
    return page_ocr(lines, "rapidocr", words)


def group_lines(boxes: Sequence[tuple[Any, str, float]]) -> list[list[tuple[str, float]]]:
    """Words or fragments (4-point box, text, score) as lines, top to bottom, left to right.

    A fragment whose vertical middle lies within the current line's top and bottom joins it.
    """
    return [[(text, score) for _, text, score in line] for line in _in_lines(boxes)]


def _in_lines(boxes: Sequence[tuple[Any, str, float]]) -> list[list[tuple[Any, str, float]]]:
    """group_lines, keeping each fragment's box (the page view highlights with them)."""
    placed = sorted(
        ((min(p[1] for p in box), max(p[1] for p in box), min(p[0] for p in box), i)
         for i, (box, text, _) in enumerate(boxes) if text.strip()),
        key=lambda item: item[0],
    )
    lines: list[list[tuple[float, int]]] = []
    top = bottom = 0.0
    for y0, y1, x0, i in placed:
        if lines and top <= (y0 + y1) / 2 <= bottom:
            lines[-1].append((x0, i))
            bottom = max(bottom, y1)
        else:
            lines.append([(x0, i)])
            top, bottom = y0, y1
    return [[boxes[i] for _, i in sorted(line)] for line in lines]


def page_ocr(lines: list[list[tuple[str, float]]], engine: str,
             words: tuple[Word, ...] = ()) -> PageOcr:
    """Join lines into text; the confidence is the mean score weighted by characters."""
    text = "\n".join(" ".join(t for t, _ in line) for line in lines)
    weights = [(len(t), s) for line in lines for t, s in line]
    total = sum(n for n, _ in weights)
    confidence = sum(n * s for n, s in weights) / total if total else 0.0
    return PageOcr(text, round(confidence, 4), engine, words)


# ----- Tesseract -------------------------------------------------------------------------------
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

    def read(image: Any, cancel: CancelToken | None = None) -> PageOcr:
        with tempfile.TemporaryDirectory() as tmp:
            png, base = Path(tmp) / "page.png", Path(tmp) / "out"
            image.save(png)
            # --psm 6 reads the page as one block of text: the automatic layout analysis broke
            # a scanned Korean page into fragments and lost words ("식초" among them). One run
            # writes the text (its word spacing is right; the TSV's Korean words are syllables)
            # and the TSV (the confidences and the word boxes).
            run_cancellable([exe, str(png), str(base), "-l", f"{language}+eng", "--psm", "6",
                             "txt", "tsv"], cancel)
            text = _read_text(base.with_suffix(".txt"))
            tsv = _read_text(base.with_suffix(".tsv"))
        scored = page_ocr(parse_tsv(tsv), "tesseract")
        lines = [" ".join(line.split()) for line in text.splitlines()]
        return PageOcr("\n".join(line for line in lines if line), scored.confidence,
                       "tesseract", tsv_words(tsv))

    return OcrEngine("tesseract", read)


def run_cancellable(cmd: list[str], cancel: CancelToken | None) -> None:
    """Run a Tesseract command; a cancel kills it at once (a Korean page takes ~25 s) and
    raises Cancelled, so that its empty output is never kept as the page's text."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    remove = cancel.on_cancel(proc.kill) if cancel is not None else None
    try:
        proc.wait(timeout=_TESSERACT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    finally:
        if remove is not None:
            remove()
    if cancel is not None:
        cancel.raise_if_cancelled()


def _tsv_rows(tsv: str) -> Iterable[list[str]]:
    """The TSV's word rows (12 columns, a confidence, some text)."""
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) >= 12 and cols[11].strip() and float(cols[10]) >= 0:
            yield cols


def parse_tsv(tsv: str) -> list[list[tuple[str, float]]]:
    """Tesseract's TSV as lines of (word, confidence 0-1), in its reading order."""
    lines: dict[tuple[str, ...], list[tuple[str, float]]] = {}
    for cols in _tsv_rows(tsv):
        lines.setdefault(tuple(cols[1:5]), []).append((cols[11].strip(), float(cols[10]) / 100))
    return list(lines.values())


def tsv_words(tsv: str) -> tuple[Word, ...]:
    """Tesseract's TSV words with their boxes (left, top, right, bottom in pixels)."""
    words = []
    for cols in _tsv_rows(tsv):
        left, top, width, height = (float(c) for c in cols[6:10])
        words.append((cols[11].strip(), left, top, left + width, top + height))
    return tuple(words)


_SCRIPT = re.compile(r"^Script:\s*(\w+)", re.MULTILINE)


def page_script(image: Any) -> str | None:
    """The script Tesseract's orientation and script detection sees on a page ("Latin",
    "Korean", ...); None when it can't tell (too little text, no `osd` data, no Tesseract)."""
    exe = shutil.which("tesseract")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "page.png"
        image.save(png)
        try:
            out = subprocess.run([exe, str(png), "-", "--psm", "0"], capture_output=True,
                                 text=True, timeout=_OSD_TIMEOUT_S)
        except (OSError, subprocess.SubprocessError):
            return None
    found = _SCRIPT.search(out.stdout)
    return found.group(1) if found else None


def choose_engine(settings: OcrSettings, texts: Sequence[str | None],
                  samples: Sequence[Callable[[], Any]] = ()) -> OcrEngine:
    """The engine for one document: "ko" is Tesseract; "auto" picks it for a Korean document.

    "auto" looks at the document's own text-layer pages; a wholly scanned document has none,
    so its scanned pages are looked at (`samples`: page images, made when called) when
    Tesseract has its Korean data. RapidOCR's models do not read Hangul.
    """
    if settings.language == "ko":
        return tesseract_engine("kor")
    if settings.language == "auto" and _looks_korean(texts, samples):
        try:
            return tesseract_engine("kor")
        except OcrUnavailable:
            log.warning("scanned pages of a Korean document read with RapidOCR; %s",
                        INSTALL_KOREAN)
    return rapid_engine()


def _looks_korean(texts: Sequence[str | None], samples: Sequence[Callable[[], Any]]) -> bool:
    """The text layer's script, else Tesseract's script detection on up to three scanned
    pages; when a page has too little text for it, Tesseract reads the first one (Korean and
    English) and the share of Hangul decides."""
    if any(c.isalpha() for text in texts for c in text or ""):
        return hangul_share(texts) > _HANGUL_SHARE
    languages = tesseract_languages()
    if not samples or "kor" not in languages:
        return False
    if "osd" in languages:
        for sample in samples[:3]:
            script = page_script(sample())
            if script is not None:
                log.info("OCR script detection: %s", script)
                return script in ("Korean", "Hangul")
    read = tesseract_engine("kor").read(samples[0]())
    return hangul_share([read.text]) > _HANGUL_SHARE
