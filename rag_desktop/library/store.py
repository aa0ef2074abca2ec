"""A library folder on disk: manifest, SQLite rows, and the generation-numbered FAISS commit."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag_desktop.config import ChunkSettings
from rag_desktop.fsutil import TEMP_SUFFIX, atomic_write_text
from rag_desktop.library import ann
from rag_desktop.library.documents import Chunk, with_header

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
DB_FILE = "library.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents(sha256 TEXT PRIMARY KEY, name TEXT NOT NULL,
    path TEXT NOT NULL, pages INTEGER NOT NULL, chunks INTEGER NOT NULL, added_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL,
    ordinal INTEGER NOT NULL, page INTEGER NOT NULL, page_label TEXT,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
    section TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(sha256, ordinal);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_CHUNK_SELECT = (
    'SELECT c.id, d.name, c.sha256, c.page, c.page_label, c.start, c."end", c.text, c.ordinal, '
    "{section} FROM chunks c JOIN documents d ON d.sha256 = c.sha256"
)
# Added after format 1 shipped; additive, so the format version stays 1 and older apps, which
# name their columns, still read and write these libraries.
_ADD_SECTION = "ALTER TABLE chunks ADD COLUMN section TEXT NOT NULL DEFAULT ''"


class LibraryError(Exception):
    """A library that cannot be opened or changed; the message says what to do."""


def utc_now() -> str:
    """The current time as ISO-8601 UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Manifest:
    """What a library was built with; SQLite's copy is the truth, manifest.json a readable one."""

    format_version: int
    embedding_model: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    tokenizer: str
    created_at: str
    # The dense index setting ("auto", "exact" or "ivf": ann.py) and the kind the committed
    # vector file holds ("flat" or "ivf-flat"). Added after format 1 shipped, with defaults, so
    # older manifests read as exact; older apps ignore the fields.
    dense_index: str = "auto"
    dense_kind: str = "flat"

    @property
    def chunk_settings(self) -> ChunkSettings:
        """The chunking the library's documents were split with."""
        return ChunkSettings(chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap)

    def to_json(self) -> str:
        """Stable, readable JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse a manifest; raises ValueError, TypeError or KeyError when malformed."""
        data = json.loads(text)
        return cls(**{f.name: data[f.name] for f in fields(cls)
                      if f.name in data or f.default is MISSING})


@dataclass(frozen=True)
class DocumentInfo:
    """One PDF in the library; `ocr_pages` of its pages were read by OCR, at a mean
    `ocr_confidence` (Library.documents fills them in; not part of equality)."""

    name: str
    sha256: str
    path: str
    pages: int
    chunks: int
    added_at: str
    ocr_pages: int = field(default=0, compare=False)
    ocr_confidence: float | None = field(default=None, compare=False)


def new_index(dim: int) -> Any:
    """An empty exact inner-product index whose ids are chunk ids."""
    return ann.new_flat(dim)


def clone_index(index: Any) -> Any:
    """A copy to change, so that the loaded index stays the committed one if a commit fails."""
    import faiss

    return faiss.clone_index(index)


class LibraryStore:
    """The files of one library folder. Every change is one commit of a new generation:

    vectors-<g+1>.faiss is written (temp, fsync, rename) inside the SQLite write transaction
    that then points meta.faiss_file at it, so a crash leaves either the old or the new state.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        # False only for an old library that could not be migrated (read-only, or busy):
        # it is searched with empty sections.
        self.has_section = _has_column(conn, "chunks", "section")

    @classmethod
    def connect(cls, path: Path) -> LibraryStore:
        """Open (creating the folder, database and tables if needed) without reading anything."""
        try:
            path.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path / DB_FILE, check_same_thread=False, isolation_level=None)
            # Rollback journal (the default), fully synced: no -wal file to lose when a user
            # copies or syncs the folder.
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise LibraryError(f"cannot open library {path}: {exc}") from exc
        _migrate(conn, path)
        return cls(path, conn)

    @property
    def initialized(self) -> bool:
        """True once a manifest was committed."""
        return self.conn.execute("SELECT 1 FROM meta WHERE key='manifest'").fetchone() is not None

    def initialize(self, manifest: Manifest) -> None:
        """Commit generation 0: an empty index and the manifest."""
        with self.transaction():
            if self.initialized:  # another process made it since we looked
                return
            # The uid tells apart two libraries made at one path (say, deleted and made again),
            # whose generations both start at 0, so that caches keyed by version stay right.
            self._set_meta({"generation": "-1", "faiss_file": "", "uid": uuid.uuid4().hex[:12]})
            self.commit_generation(new_index(manifest.dim), manifest)

    def meta(self, key: str) -> str:
        """One committed meta value."""
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row is None:
            raise LibraryError(f"library {self.path} is damaged (no {key}); run check --repair")
        return str(row[0])

    def _set_meta(self, values: dict[str, str]) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                              values.items())

    @property
    def generation(self) -> int:
        """The committed generation; another process's commits count too."""
        return int(self.meta("generation"))

    def manifest(self) -> Manifest:
        """The committed manifest."""
        return Manifest.from_json(self.meta("manifest"))

    def read_manifest_file(self) -> Manifest | None:
        """manifest.json as it is on disk, or None when missing or unreadable."""
        try:
            return Manifest.from_json((self.path / MANIFEST_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def write_manifest_file(self, manifest: Manifest) -> None:
        """Rewrite manifest.json (atomically) from the committed manifest."""
        atomic_write_text(self.path / MANIFEST_FILE, manifest.to_json())

    def sweep(self) -> None:
        """Delete vector files no commit points at, and temp files, left by a crash."""
        with self.transaction():  # holding the write lock: no writer is between file and commit
            keep = self.meta("faiss_file")
            strays = [p for p in self.path.glob("vectors-*.faiss") if p.name != keep]
            for stray in [*strays, *self.path.glob(f".*{TEMP_SUFFIX}")]:
                _unlink_quietly(stray)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE (the write lock) ... COMMIT, rolled back on any exception."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # locked by another process, or read-only
            raise LibraryError(f"library {self.path} cannot be changed now ({exc}); "
                               "close other rag-desktop windows and try again") from exc
        try:
            yield
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def write_faiss(self, path: Path, index: Any) -> None:
        """Write an index crash-safely (faiss.write_index, streamed: ann.write_index)."""
        ann.write_index(path, index)

    def commit_generation(self, index: Any, manifest: Manifest | None = None) -> None:
        """Inside transaction(): write vectors-<g+1>.faiss, point meta at it, commit, drop old."""
        old_file = self.meta("faiss_file")
        generation = self.generation + 1
        new_file = f"vectors-{generation}.faiss"
        try:
            self.write_faiss(self.path / new_file, index)
            values = {"generation": str(generation), "faiss_file": new_file}
            if manifest is not None:
                values["manifest"] = manifest.to_json()
            self._set_meta(values)
            self.conn.execute("COMMIT")
        except BaseException:
            (self.path / new_file).unlink(missing_ok=True)
            raise
        if old_file:  # readers that read meta before the commit retry (readers.py)
            _unlink_quietly(self.path / old_file)
        if manifest is not None:
            self.write_manifest_file(manifest)

    def load_index(self, file_name: str | None = None) -> Any:
        """The committed FAISS index (or the vector file `file_name`), read from disk
        (faiss.read_index, streamed: ann.read_index)."""
        file = self.path / (file_name or self.meta("faiss_file"))
        try:
            return ann.read_index(file)
        except (OSError, RuntimeError) as exc:
            raise LibraryError(
                f"library {self.path}: vector file {file.name} is unreadable ({exc}); "
                "run `rag-desktop check --repair`"
            ) from exc

    # ----- rows ------------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        """Every document, oldest first."""
        rows = self.conn.execute(
            "SELECT name, sha256, path, pages, chunks, added_at FROM documents "
            "ORDER BY added_at, name"
        )
        return [DocumentInfo(*row) for row in rows]

    def insert_document(self, info: DocumentInfo, chunks: list[Chunk]) -> list[int]:
        """Insert a document and its chunks; returns the new chunk ids in order."""
        self.conn.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            (info.sha256, info.name, info.path, info.pages, info.chunks, info.added_at),
        )
        # Not migrated (read-only or busy): the change fails anyway, but with SQLite's message.
        columns = ["sha256", "ordinal", "page", "page_label", "start", '"end"', "text", "section"]
        n = len(columns) if self.has_section else len(columns) - 1
        insert = (f"INSERT INTO chunks({', '.join(columns[:n])}) "
                  f"VALUES ({', '.join('?' * n)})")
        rows = [(c.sha256, c.ordinal, c.page, c.page_label, c.start, c.end, c.text, c.section)[:n]
                for c in chunks]
        return [int(self.conn.execute(insert, row).lastrowid or 0) for row in rows]

    def delete_document(self, sha256: str) -> list[int]:
        """Delete a document and its chunks; returns the deleted chunk ids."""
        ids = [r[0] for r in self.conn.execute("SELECT id FROM chunks WHERE sha256=?", (sha256,))]
        self.conn.execute("DELETE FROM chunks WHERE sha256=?", (sha256,))
        self.conn.execute("DELETE FROM documents WHERE sha256=?", (sha256,))
        return ids

    def chunk_count(self) -> int:
        """Number of chunk rows."""
        return int(self.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def chunk_texts(self, contextual_header: bool = False) -> list[tuple[int, str]]:
        """(id, text) of every chunk, by id; with contextual_header, Chunk.index_text(True)."""
        section = "section" if self.has_section else "''"
        rows = self.conn.execute(f"SELECT id, text, {section} FROM chunks ORDER BY id")
        if contextual_header:
            return [(r[0], with_header(r[2], r[1])) for r in rows]
        return [(r[0], r[1]) for r in rows]

    def chunks_by_id(self, ids: list[int]) -> dict[int, Chunk]:
        """The chunks with these ids (those that exist and belong to a document)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        select = _CHUNK_SELECT.format(section="c.section" if self.has_section else "''")
        rows = self.conn.execute(f"{select} WHERE c.id IN ({marks})", ids)
        return {row[0]: Chunk(*row[1:]) for row in rows}

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()

    # ----- integrity -------------------------------------------------------------------------
    def find_problems(self, dim: int) -> tuple[list[str], RepairPlan]:
        """Disagreements between SQLite rows and the vector file, and how to mend them."""
        problems: list[str] = []
        for name, stored, real in self.conn.execute(
            "SELECT d.name, d.chunks, COUNT(c.id) FROM documents d "
            "LEFT JOIN chunks c ON c.sha256 = d.sha256 GROUP BY d.sha256"
        ):
            if stored != real:
                problems.append(f"{name}: documents.chunks says {stored}, there are {real}")
        lost = {r[0] for r in self.conn.execute(
            "SELECT id FROM chunks WHERE sha256 NOT IN (SELECT sha256 FROM documents)")}
        if lost:
            problems.append(f"{len(lost)} chunks belong to no document")
        chunk_ids = {r[0] for r in self.conn.execute("SELECT id FROM chunks")} - lost
        try:
            index = self.load_index()
        except LibraryError as exc:
            return [*problems, str(exc)], RepairPlan(None, set(), chunk_ids)
        if index.d != dim:
            problems.append(f"vector file has dim {index.d}, the manifest says {dim}")
            return problems, RepairPlan(None, set(), chunk_ids)
        counts = Counter(ann.stored_ids(index).tolist())
        seen = set(counts)
        doubled = {i for i, n in counts.items() if n > 1}
        orphans = seen - chunk_ids
        missing = (chunk_ids - seen) | (doubled & chunk_ids)
        if orphans:
            problems.append(f"{len(orphans)} vectors have no chunk (ids {sorted(orphans)[:5]})")
        if missing:
            problems.append(f"{len(missing)} chunks have no vector, or two")
        return problems, RepairPlan(index, orphans | doubled, missing)

    def repair(self, plan: RepairPlan, dim: int, embed: Callable[[list[str]], np.ndarray]) -> None:
        """Inside transaction(): drop orphans, fix counts, embed missing vectors, and commit."""
        self.conn.execute("DELETE FROM chunks WHERE sha256 NOT IN (SELECT sha256 FROM documents)")
        self.conn.execute(
            "UPDATE documents SET chunks = "
            "(SELECT COUNT(*) FROM chunks c WHERE c.sha256 = documents.sha256)"
        )
        index = new_index(dim) if plan.index is None else clone_index(plan.index)
        index.remove_ids(np.asarray(sorted(plan.drop), dtype=np.int64))
        ids = sorted(plan.embed)
        if ids:
            texts = self.chunks_by_id(ids)
            index.add_with_ids(embed([texts[i].text for i in ids]), np.asarray(ids, np.int64))
        self.commit_generation(index)


def _unlink_quietly(path: Path) -> None:
    """Delete a file no commit needs; on Windows a reader may have it open: the next sweep."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring an older library's tables up to date, in one transaction (all or nothing).

    The check is repeated under the write lock: another process may have migrated meanwhile.
    A library that cannot be changed now (read-only, busy) is still opened, for searching.
    """
    if _has_column(conn, "chunks", "section"):
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not _has_column(conn, "chunks", "section"):
                conn.execute(_ADD_SECTION)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        log.warning("library %s: cannot add section paths now (%s)", path, exc)


@dataclass(frozen=True)
class RepairPlan:
    """What check(repair=True) changes: the index to start from (None: a new one), vector ids
    to drop, and chunk ids whose vectors must be computed."""

    index: Any
    drop: set[int]
    embed: set[int]
