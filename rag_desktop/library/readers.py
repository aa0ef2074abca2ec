"""Searches that stay consistent while another process writes the library (one writer).

A writer (holding write.lock, writelock.py) commits generation N+1 in one SQLite transaction
(the rows, meta.generation and meta.faiss_file) after writing vectors-<N+1>.faiss, and deletes
vectors-<N>.faiss after the commit. SQLite's rollback journal hides uncommitted rows from other
connections, and a vector file is read only once a commit names it, so nothing half-written is
ever seen. What a reader adds, the simplest scheme that is correct without keeping old files:

1. Pin a generation: its number, vector file name, manifest and chunk texts come from one read
   transaction, so they agree; the named vector file is read after it. Should a writer have
   committed again and deleted that file meanwhile, the reader pins the new generation (a retry;
   a missing file while the generation is unchanged is damage, reported as before). Once read,
   the index lives in memory, so later deletions do not touch it.
2. Notice a newer generation at the next search (one small query) and reload.
3. Fetch the hits' chunk rows in a read transaction that also checks that the pinned generation
   is still the committed one: SQLite reuses the ids of deleted chunks, so after a removal an id
   may name another chunk. If a writer committed in between, the search runs again on the new
   generation.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator

from rag_desktop.library import postings
from rag_desktop.library.bm25 import BM25Leg
from rag_desktop.library.documents import Chunk
from rag_desktop.library.retrieval import Scored, SearchState
from rag_desktop.library.store import LibraryError, LibraryStore, Manifest
from rag_desktop.library.textindex import TOKENIZERS

ATTEMPTS = 10  # commits come seconds apart (each embeds a PDF); this many in a row is odd


@contextlib.contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """Every SELECT in the block sees one committed state (joins a transaction in progress)."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")  # it only read: ends the snapshot


def load_state(store: LibraryStore) -> tuple[Manifest, SearchState]:
    """The committed generation's manifest and search state (step 1 of the module docstring)."""
    for _ in range(ATTEMPTS):
        with read_transaction(store.conn):
            generation = store.generation
            file_name = store.meta("faiss_file")
            manifest = store.manifest()
            key = f"{store.meta('uid')}:{manifest.tokenizer}"
            # The BM25 postings as of this generation: saved ones, else the texts to index
            # (postings.py; indexed after this read transaction, so no writer waits on it).
            snapshot = postings.read_snapshot(store.conn, store.path, generation, key)
        try:
            index = store.load_index(file_name)
        except LibraryError:
            if store.generation == generation:
                raise  # not replaced by a commit: the file is damaged
            continue
        tokenizer = TOKENIZERS[manifest.tokenizer]
        keyword = BM25Leg(postings.complete(snapshot, tokenizer), tokenizer)
        return manifest, SearchState(generation, index, [], tokenizer, keyword)
    raise LibraryError(f"library {store.path} changed {ATTEMPTS} times while it was being "
                       "read; try again")


def chunks_of_generation(store: LibraryStore, generation: int,
                         ids: list[int]) -> dict[int, Chunk] | None:
    """The chunks with these ids as of `generation`; None once a newer one is committed."""
    with read_transaction(store.conn):
        if store.generation != generation:
            return None
        return store.chunks_by_id(ids)


def pinned_search(store: LibraryStore, state_now: Callable[[], SearchState],
                  run: Callable[[SearchState], list[Scored]],
                  ) -> tuple[SearchState, list[Scored], dict[int, Chunk]]:
    """run(state) on the committed generation, with its hits' chunks as of that generation
    (step 3 of the module docstring): (state, scored, chunks)."""
    for _ in range(ATTEMPTS):
        state = state_now()
        scored = run(state)
        chunks = chunks_of_generation(store, state.generation, [s.chunk_id for s in scored])
        if chunks is not None:
            return state, scored, chunks
    raise LibraryError(f"library {store.path} changed {ATTEMPTS} times during one search; "
                       "try again")
