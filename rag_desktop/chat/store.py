"""Conversations saved in SQLite under the user data dir: JSON rows, one transaction per change.

A turn is written in one transaction together with the conversation's new update time, so a
process killed at any moment (kill -9 mid-answer included) leaves every turn that was appended
whole, and nothing of a turn that was not. The journal is WAL with synchronous=FULL: a commit is
on disk before append_turn returns. Rows are JSON text, never pickled.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from pathlib import Path

from rag_desktop.chat.turns import (
    Conversation,
    ConversationInfo,
    Turn,
    now_iso,
    title_from,
    turn_from_json,
)

FILE_NAME = "conversations.sqlite"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, title TEXT NOT NULL, "
    "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS turns (conversation_id TEXT NOT NULL "
    "REFERENCES conversations(id) ON DELETE CASCADE, n INTEGER NOT NULL, data TEXT NOT NULL, "
    "PRIMARY KEY (conversation_id, n))",
)


class ConversationNotFound(KeyError):
    """No conversation has that id (or more than one starts with that prefix)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "conversation not found"


def default_path() -> Path:
    """Where the conversations live: conversations.sqlite in the user data dir."""
    from rag_desktop.config import home_dir

    return home_dir() / FILE_NAME


class ConversationStore:
    """Create, list, rename, delete, read and extend conversations; safe to share across threads."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._lock, self._db:
            for statement in SCHEMA:
                self._db.execute(statement)

    # -- conversations ---------------------------------------------------------------------
    def create(self, title: str = "") -> ConversationInfo:
        """A new empty conversation; an empty title is set from its first question."""
        now = now_iso()
        info = ConversationInfo(uuid.uuid4().hex, " ".join(title.split()), now, now, 0)
        with self._lock, self._db:
            self._db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?)",
                             (info.id, info.title, info.created_at, info.updated_at))
        return info

    def list(self) -> list[ConversationInfo]:
        """Every conversation, the most recently changed first, with its turn count."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.title, c.created_at, c.updated_at, COUNT(t.n) FROM conversations c"
                " LEFT JOIN turns t ON t.conversation_id = c.id GROUP BY c.id"
                " ORDER BY c.updated_at DESC, c.rowid DESC").fetchall()
        return [ConversationInfo(*row) for row in rows]

    def resolve(self, id_or_prefix: str) -> str:
        """The full id of the one conversation whose id is or starts with `id_or_prefix`."""
        key = id_or_prefix.strip()
        with self._lock:
            rows = self._db.execute("SELECT id FROM conversations WHERE id = ? OR "
                                    "substr(id, 1, ?) = ?", (key, len(key), key)).fetchall()
        exact = [r[0] for r in rows if r[0] == key]
        if exact:
            return str(exact[0])
        if len(rows) != 1 or not key:
            what = "no conversation" if not rows else f"{len(rows)} conversations"
            raise ConversationNotFound(f"{what} with id {id_or_prefix!r}")
        return str(rows[0][0])

    def get(self, conversation_id: str) -> Conversation:
        """The conversation with every turn, oldest first; ConversationNotFound if unknown."""
        with self._lock:
            head = self._db.execute("SELECT id, title, created_at, updated_at FROM conversations "
                                    "WHERE id = ?", (conversation_id,)).fetchone()
            rows = self._db.execute("SELECT data FROM turns WHERE conversation_id = ? "
                                    "ORDER BY n", (conversation_id,)).fetchall()
        if head is None:
            raise ConversationNotFound(f"no conversation with id {conversation_id!r}")
        return Conversation(head[0], head[1], head[2], head[3],
                            [turn_from_json(json.loads(r[0])) for r in rows])

    def rename(self, conversation_id: str, title: str) -> None:
        """Give a conversation a new title (whitespace collapsed)."""
        self._change("UPDATE conversations SET title = ? WHERE id = ?",
                     (" ".join(title.split()), conversation_id), conversation_id)

    def delete(self, conversation_id: str) -> None:
        """Delete a conversation and its turns in one transaction."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            gone = self._db.execute("DELETE FROM conversations WHERE id = ?",
                                    (conversation_id,)).rowcount
        if not gone:
            raise ConversationNotFound(f"no conversation with id {conversation_id!r}")

    # -- turns -----------------------------------------------------------------------------
    def append_turn(self, conversation_id: str, turn: Turn) -> int:
        """Append `turn` (one transaction, on disk when this returns); returns its 1-based number.

        The first turn of an untitled conversation gives it its title.
        """
        data = json.dumps(turn.to_json(), ensure_ascii=False)
        with self._lock, self._db:
            head = self._db.execute("SELECT title FROM conversations WHERE id = ?",
                                    (conversation_id,)).fetchone()
            if head is None:
                raise ConversationNotFound(f"no conversation with id {conversation_id!r}")
            n = int(self._db.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM turns WHERE "
                                     "conversation_id = ?", (conversation_id,)).fetchone()[0])
            self._db.execute("INSERT INTO turns VALUES (?, ?, ?)", (conversation_id, n, data))
            title = head[0] or title_from(turn.question)
            self._db.execute("UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                             (title, now_iso(), conversation_id))
        return n

    def replace_turn(self, conversation_id: str, n: int, turn: Turn) -> None:
        """Put `turn` in place of turn `n` (1-based) in one transaction (a regenerated answer)."""
        data = json.dumps(turn.to_json(), ensure_ascii=False)
        with self._lock, self._db:
            changed = self._db.execute("UPDATE turns SET data = ? WHERE conversation_id = ? "
                                       "AND n = ?", (data, conversation_id, n)).rowcount
            if not changed:
                raise ConversationNotFound(f"no turn {n} in conversation {conversation_id!r}")
            self._db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?",
                             (now_iso(), conversation_id))

    def _change(self, sql: str, params: tuple[object, ...], conversation_id: str) -> None:
        with self._lock, self._db:
            if not self._db.execute(sql, params).rowcount:
                raise ConversationNotFound(f"no conversation with id {conversation_id!r}")

    def close(self) -> None:
        """Close the database (every change is already committed)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
