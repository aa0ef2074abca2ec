"""The OCR'd pages of a library's documents, kept on disk page by page.

`<library>/ocr/<sha256>/p<page>.json` holds one page: the text, confidence, engine, the
language setting it was read with, and the word boxes in PDF points (top-left origin, as the
page view draws). Each file is written atomically the moment its page is read, so an
ingestion that is cancelled or killed (kill -9 included) keeps its pages: adding the PDF again
reads only the rest. After the document is added the files stay: the page view highlights a
cited passage on a scanned page with their boxes. Removing the document deletes them.

Plain JSON, never pickle; a file that can't be read is ignored and the page is read again.
This module is light (no numpy, no engine) because the GUI's page view reads word boxes.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from rag_desktop.fsutil import atomic_write_text
from rag_desktop.library.ocr_engines import PageOcr, Word

log = logging.getLogger(__name__)
FOLDER = "ocr"
_FORMAT = 1


def document_folder(library: Path, sha256: str) -> Path:
    """Where a document's OCR'd pages are kept."""
    return Path(library) / FOLDER / sha256


class OcrPages:
    """One document's kept pages (0-based index in the API, 1-based page in the file name)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _file(self, index: int) -> Path:
        return self.folder / f"p{index + 1:05d}.json"

    def get(self, index: int, language: str) -> PageOcr | None:
        """The page read earlier with the same language setting, else None."""
        data = _load(self._file(index))
        if data is None or data.get("language") != language:
            return None
        return _page(data)

    def put(self, index: int, result: PageOcr, settings: Any) -> None:
        """Keep one page read with `settings` (OcrSettings), atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {"format": _FORMAT, "engine": result.engine, "language": settings.language,
                "dpi": settings.dpi, "confidence": result.confidence, "text": result.text,
                "words": [list(word) for word in result.words]}
        atomic_write_text(self._file(index), json.dumps(data, ensure_ascii=False))

    def count(self) -> int:
        """How many pages are kept."""
        return len(list(self.folder.glob("p*.json"))) if self.folder.is_dir() else 0


def page_words(library: Path, sha256: str, page: int) -> list[Word]:
    """The word boxes of a kept OCR page (1-based), in PDF points; [] when it has none."""
    data = _load(document_folder(library, sha256) / f"p{page:05d}.json")
    result = _page(data) if data is not None else None
    return list(result.words) if result is not None else []


def forget(library: Path, sha256: str) -> None:
    """Delete a document's kept pages (after it was removed from the library)."""
    shutil.rmtree(document_folder(library, sha256), ignore_errors=True)


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable OCR page %s (%s)", path, exc)
        return None
    return data if isinstance(data, dict) and data.get("format") == _FORMAT else None


def _page(data: dict[str, Any]) -> PageOcr | None:
    try:
        words = tuple((str(w[0]), float(w[1]), float(w[2]), float(w[3]), float(w[4]))
                      for w in data.get("words", []))
        return PageOcr(str(data["text"]), float(data["confidence"]), str(data["engine"]), words)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
