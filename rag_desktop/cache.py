"""The answer cache: SQLite rows keyed by question, model file, settings and library version."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import unicodedata
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from rag_desktop.config import GenerationSettings, RetrievalSettings

if TYPE_CHECKING:
    from rag_desktop.answer import Answer


def normalize_question(question: str) -> str:
    """NFKC, case-folded, whitespace collapsed: trivially different spellings share a key."""
    return " ".join(unicodedata.normalize("NFKC", question).casefold().split())


def model_identity(path: Path | None) -> str:
    """A model file's identity: path, size and modification time (hashing GBs would be slow)."""
    if path is None or not path.exists():
        return str(path)
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def cache_key(
    question: str, model_path: Path | None, generation: GenerationSettings,
    retrieval: RetrievalSettings, library_version: str,
) -> str:
    """The sha256 of everything that can change an answer."""
    doc = {"q": normalize_question(question), "model": model_identity(model_path),
           "gen": asdict(generation), "ret": asdict(retrieval), "lib": library_version}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class AnswerCache:
    """Answers stored as JSON in SQLite (never pickled)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, "
                             "answer TEXT NOT NULL, created REAL NOT NULL)")

    def get(self, key: str) -> Answer | None:
        """The cached answer for `key`, or None."""
        from rag_desktop.answer import answer_from_json

        with self._lock:
            row = self._db.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
        return answer_from_json(json.loads(row[0])) if row else None

    def put(self, key: str, answer: Answer) -> None:
        """Store `answer` under `key` (one transaction)."""
        data = json.dumps(answer_to_store(answer))
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)",
                             (key, data, time.time()))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def answer_to_store(answer: Answer) -> dict[str, object]:
    """Everything needed to rebuild the Answer, including model details and page labels."""
    return asdict(answer)
