"""BM25 postings as numpy arrays: built once, merged on change, persisted per generation.

rank_bm25 keeps a Python dict per chunk and the BM25 leg then built its postings on the first
search: at a million chunks that was minutes and gigabytes (docs/performance.md, libraries of a
million chunks). Here the postings are CSR arrays by term, saved as `postings-<generation>.npz`
(np.savez, read with allow_pickle=False) beside the vector file, and a library that changed
since the last saved generation only tokenizes the chunks it gained.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag_desktop.fsutil import atomic_writer
from rag_desktop.library.textindex import Tokenizer, stem

log = logging.getLogger(__name__)

FILE_PREFIX = "postings-"
_FORMAT = 1
# rank_bm25 divides by the average length: a chunk without a word counts as this one token.
EMPTY_TOKEN = "\x00"
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_IN_BATCH = 500  # SQLite's default limit on ? parameters is 999 in older builds


@dataclass
class Postings:
    """Which chunks hold each term, and how often: the BM25 leg's index.

    Rows are the chunks in `chunk_ids` order; `ptr[t]:ptr[t+1]` slices `rows` and `tf` for term
    `vocab[t]`, rows ascending. `stems[t]` is the term's Snowball stem (the gate's signals
    compare stems). `doc_keys` tells a reused chunk id from the chunk it had before a merge.
    """

    vocab: list[str]
    stems: list[str]
    ptr: np.ndarray
    rows: np.ndarray
    tf: np.ndarray
    doc_len: np.ndarray
    chunk_ids: np.ndarray
    doc_keys: np.ndarray

    def __post_init__(self) -> None:
        self._term_id: dict[str, int] | None = None
        self._stem_terms: dict[str, list[int]] | None = None

    @property
    def size(self) -> int:
        """Number of chunks."""
        return int(self.chunk_ids.size)

    def term_id(self, term: str) -> int | None:
        """The term's index in vocab, or None when no chunk uses it."""
        if self._term_id is None:
            self._term_id = {t: i for i, t in enumerate(self.vocab)}
        return self._term_id.get(term)

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows ascending, term frequencies) of one term."""
        lo, hi = int(self.ptr[term_id]), int(self.ptr[term_id + 1])
        return self.rows[lo:hi], self.tf[lo:hi]

    def doc_freq(self, term: str) -> int:
        """How many chunks use the term."""
        at = self.term_id(term)
        return 0 if at is None else int(self.ptr[at + 1] - self.ptr[at])

    def terms_with_stem(self, word_stem: str) -> list[int]:
        """The term ids whose stem is `word_stem`."""
        if self._stem_terms is None:
            self._stem_terms = {}
            for i, s in enumerate(self.stems):
                self._stem_terms.setdefault(s, []).append(i)
        return self._stem_terms.get(word_stem, [])

    def has_hangul(self) -> bool:
        """True when some term is Korean."""
        return any(_HANGUL.search(t) for t in self.vocab)

    def nbytes(self) -> int:
        """Bytes of the numpy arrays (the vocab's strings not counted)."""
        arrays = (self.ptr, self.rows, self.tf, self.doc_len, self.chunk_ids, self.doc_keys)
        return sum(a.nbytes for a in arrays)


def _doc_counts(texts: Iterable[str], tokenizer: Tokenizer,
                vocab: dict[str, int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """Flat (row, term id, tf) triples in row order and each row's length; vocab grows."""
    rows: list[int] = []
    terms: list[int] = []
    tfs: list[int] = []
    lengths: list[int] = []
    for row, text in enumerate(texts):
        tokens = tokenizer(text) or [EMPTY_TOKEN]
        lengths.append(len(tokens))
        for term, n in Counter(tokens).items():
            rows.append(row)
            terms.append(vocab.setdefault(term, len(vocab)))
            tfs.append(n)
    return rows, terms, tfs, lengths


def _csr(term_of: np.ndarray, rows: np.ndarray, tf: np.ndarray,
         n_terms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries in row order grouped by term (stable, so rows stay ascending within a term)."""
    order = np.argsort(term_of, kind="stable")
    ptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_of, minlength=n_terms), out=ptr[1:])
    return ptr, rows[order].astype(np.int32), _small_ints(tf[order])


def _small_ints(tf: np.ndarray) -> np.ndarray:
    """Term frequencies in two bytes when they fit (an 800-character chunk always does)."""
    return tf.astype(np.uint16 if tf.size == 0 or int(tf.max()) < 2**16 else np.int32)


def _sorted_vocab(vocab: dict[str, int], term_of: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The vocab in sorted order and the entries' term ids renumbered to it."""
    words = list(vocab)
    order = sorted(range(len(words)), key=words.__getitem__)
    new_id = np.empty(len(words), dtype=np.int64)
    new_id[np.asarray(order, dtype=np.int64)] = np.arange(len(words))
    return [words[i] for i in order], new_id[term_of] if term_of.size else term_of


def build(chunk_ids: Iterable[int], texts: Iterable[str], tokenizer: Tokenizer,
          doc_keys: Iterable[int] | None = None) -> Postings:
    """The postings of `texts`, one per chunk id (ids in any order; rows keep it)."""
    ids = np.fromiter(chunk_ids, dtype=np.int64)
    vocab: dict[str, int] = {}
    rows, terms, tfs, lengths = _doc_counts(texts, tokenizer, vocab)
    words, term_of = _sorted_vocab(vocab, np.asarray(terms, dtype=np.int64))
    ptr, post_rows, tf = _csr(term_of, np.asarray(rows, dtype=np.int64),
                              np.asarray(tfs, dtype=np.int64), len(words))
    keys = np.zeros(ids.size, np.int64) if doc_keys is None else np.fromiter(doc_keys, np.int64)
    return Postings(words, [stem(w) for w in words], ptr, post_rows, tf,
                    np.asarray(lengths, dtype=np.int32), ids, keys)


def merge(old: Postings, keep: np.ndarray, added: Postings) -> Postings:
    """`old`'s rows where `keep` is True, then `added`'s rows: one postings, as if built anew."""
    new_row = np.cumsum(keep) - 1
    term_old = np.repeat(np.arange(len(old.vocab), dtype=np.int64), np.diff(old.ptr))
    kept = keep[old.rows]
    words = sorted(set(old.vocab).union(added.vocab))
    position = {w: i for i, w in enumerate(words)}
    old_map = np.fromiter((position[w] for w in old.vocab), np.int64, len(old.vocab))
    add_map = np.fromiter((position[w] for w in added.vocab), np.int64, len(added.vocab))
    term_add = np.repeat(add_map, np.diff(added.ptr))
    base = int(keep.sum())
    # Entries sorted by (term, row) in both halves, and every added row after every kept one:
    # a stable sort by term only merges them (timsort sees two sorted runs).
    term_of = np.concatenate([old_map[term_old[kept]], term_add])
    rows = np.concatenate([new_row[old.rows[kept]], added.rows.astype(np.int64) + base])
    tf = np.concatenate([old.tf[kept].astype(np.int64), added.tf.astype(np.int64)])
    # A term whose every chunk is gone leaves the vocabulary, as in a fresh build (idf's mean).
    used = np.bincount(term_of, minlength=len(words)) > 0
    words = [w for w, u in zip(words, used.tolist(), strict=True) if u]
    term_of = (np.cumsum(used) - 1)[term_of]
    ptr, post_rows, post_tf = _csr(term_of, rows, tf, len(words))
    stems = dict(zip(old.vocab, old.stems, strict=True))
    stems.update(zip(added.vocab, added.stems, strict=True))
    return Postings(words, [stems[w] for w in words], ptr, post_rows, post_tf,
                    np.concatenate([old.doc_len[keep], added.doc_len]),
                    np.concatenate([old.chunk_ids[keep], added.chunk_ids]),
                    np.concatenate([old.doc_keys[keep], added.doc_keys]))


# ----- files -------------------------------------------------------------------------------------
def _blob(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 array and character offsets (no object arrays, so no pickle)."""
    joined = "".join(words)
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum([len(w) for w in words], out=offsets[1:])
    return np.frombuffer(joined.encode("utf-8"), dtype=np.uint8), offsets


def _unblob(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    joined = data.tobytes().decode("utf-8")
    bounds = offsets.tolist()
    return [joined[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def file_name(generation: int) -> str:
    """The postings file of one generation."""
    return f"{FILE_PREFIX}{generation}.npz"


def save(path: Path, postings: Postings, key: str) -> None:
    """Write `postings` to `path` crash-safely (temp, fsync, rename); `key` names its source."""
    vocab, vocab_off = _blob(postings.vocab)
    stems, stem_off = _blob(postings.stems)
    key_bytes = np.frombuffer(key.encode("utf-8"), dtype=np.uint8)
    with atomic_writer(path) as handle:
        np.savez(handle, format=np.asarray([_FORMAT]), key=key_bytes, vocab=vocab,
                 vocab_off=vocab_off, stems=stems, stem_off=stem_off, ptr=postings.ptr,
                 rows=postings.rows, tf=postings.tf, doc_len=postings.doc_len,
                 chunk_ids=postings.chunk_ids, doc_keys=postings.doc_keys)


def load(path: Path, key: str) -> Postings | None:
    """The postings saved at `path` for `key`; None when missing, damaged or for another key."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["format"][0]) != _FORMAT or data["key"].tobytes() != key.encode():
                return None
            return Postings(_unblob(data["vocab"], data["vocab_off"]),
                            _unblob(data["stems"], data["stem_off"]), data["ptr"], data["rows"],
                            data["tf"], data["doc_len"], data["chunk_ids"], data["doc_keys"])
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        log.info("postings %s not used (%s)", path.name, exc)
        return None


# ----- a library's postings ----------------------------------------------------------------------
def _doc_key(sha256: str, ordinal: int) -> int:
    """Which chunk of which document a row is: the same key means the same text."""
    return (int(sha256[:10], 16) << 20) ^ ordinal


def _current_rows(conn: sqlite3.Connection) -> tuple[np.ndarray, np.ndarray]:
    """(chunk ids ascending, their doc keys) as SQLite has them now."""
    rows = conn.execute("SELECT id, sha256, ordinal FROM chunks ORDER BY id").fetchall()
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    return ids, np.fromiter((_doc_key(r[1], r[2]) for r in rows), np.int64, len(rows))


def _texts(conn: sqlite3.Connection, ids: np.ndarray) -> list[str]:
    """The texts of these chunk ids, in their order."""
    found: dict[int, str] = {}
    for lo in range(0, ids.size, _IN_BATCH):
        part = ids[lo:lo + _IN_BATCH].tolist()
        marks = ",".join("?" * len(part))
        found.update(conn.execute(f"SELECT id, text FROM chunks WHERE id IN ({marks})", part))
    return [found[i] for i in ids.tolist()]


def _latest(folder: Path, generation: int) -> tuple[int, Path] | None:
    """The newest postings file of an earlier generation, if any."""
    best: tuple[int, Path] | None = None
    for file in folder.glob(f"{FILE_PREFIX}*.npz"):
        with contextlib.suppress(ValueError):
            g = int(file.stem[len(FILE_PREFIX):])
            if g < generation and (best is None or g > best[0]):
                best = (g, file)
    return best


def in_id_order(postings: Postings) -> Postings:
    """The same postings with rows in chunk id order (a reused id can land out of order)."""
    order = np.argsort(postings.chunk_ids, kind="stable")
    if np.array_equal(order, np.arange(order.size)):
        return postings
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    term_of = np.repeat(np.arange(len(postings.vocab)), np.diff(postings.ptr))
    rows = inverse[postings.rows]
    entries = np.lexsort((rows, term_of))
    return Postings(postings.vocab, postings.stems, postings.ptr, rows[entries].astype(np.int32),
                    postings.tf[entries], postings.doc_len[order], postings.chunk_ids[order],
                    postings.doc_keys[order])


@dataclass
class Snapshot:
    """What a library's postings are made from, read in one SQLite read transaction.

    `ready`: the saved postings of this generation. Else `old` (an earlier generation's, or
    None) with `keep` (its rows still current) and the chunks to tokenize: `ids`, `keys`, `texts`.
    """

    path: Path
    key: str
    ready: Postings | None = None
    old: Postings | None = None
    keep: np.ndarray | None = None
    ids: np.ndarray | None = None
    keys: np.ndarray | None = None
    texts: list[str] | None = None


def read_snapshot(conn: sqlite3.Connection, folder: Path, generation: int,
                  key: str) -> Snapshot:
    """Read what `complete` needs; call it inside the read transaction that pins `generation`.

    Only SQLite is read here (the tokenizing is left to `complete`, outside the transaction,
    so that a writer is not kept waiting): nothing but the saved file when it exists, else the
    chunk ids and the texts of the chunks an earlier saved generation lacks (all without one).
    `key` (the library's uid and tokenizer) keeps another library's or tokenizer's file out.
    """
    path = folder / file_name(generation)
    ready = load(path, key)
    if ready is not None:
        return Snapshot(path, key, ready=ready)
    earlier = _latest(folder, generation)
    old = load(earlier[1], key) if earlier else None
    ids, keys = _current_rows(conn)
    if old is None:
        return Snapshot(path, key, ids=ids, keys=keys, texts=list(_texts_all(conn)))
    at = np.searchsorted(ids, old.chunk_ids)
    inside = at < ids.size
    same = np.zeros(old.size, dtype=bool)
    # A kept row is the same chunk id of the same document at the same place: same text.
    same[inside] = (ids[at[inside]] == old.chunk_ids[inside]) & (
        keys[at[inside]] == old.doc_keys[inside])
    known = np.zeros(ids.size, dtype=bool)
    known[at[same]] = True
    new_ids = ids[~known]
    return Snapshot(path, key, old=old, keep=same, ids=new_ids, keys=keys[~known],
                    texts=_texts(conn, new_ids))


def complete(snapshot: Snapshot, tokenizer: Tokenizer) -> Postings:
    """The postings of a snapshot: the saved ones, or an earlier generation's merged with the
    new chunks, or built from every chunk; saved (older files then deleted) when made here.
    A folder that cannot be written is only searched."""
    if snapshot.ready is not None:
        return snapshot.ready
    assert snapshot.ids is not None and snapshot.keys is not None and snapshot.texts is not None
    fresh = build(snapshot.ids.tolist(), snapshot.texts, tokenizer, snapshot.keys.tolist())
    if snapshot.old is not None and snapshot.keep is not None:
        fresh = in_id_order(merge(snapshot.old, snapshot.keep, fresh))
    try:
        save(snapshot.path, fresh, snapshot.key)
        mine = int(snapshot.path.stem[len(FILE_PREFIX):])
        for stale in snapshot.path.parent.glob(f"{FILE_PREFIX}*.npz"):
            with contextlib.suppress(ValueError, OSError):
                if int(stale.stem[len(FILE_PREFIX):]) < mine:  # never a newer reader's file
                    stale.unlink()
    except OSError as exc:
        log.warning("library %s: postings not saved (%s)", snapshot.path.parent, exc)
    return fresh


def _texts_all(conn: sqlite3.Connection) -> Iterable[str]:
    """Every chunk's text in id order, streamed from SQLite."""
    return (row[0] for row in conn.execute("SELECT text FROM chunks ORDER BY id"))


def reference_corpus(postings: Postings) -> list[list[str]]:
    """Each chunk's tokens (as a bag) rebuilt from the postings: rank_bm25's input."""
    docs: list[list[str]] = [[] for _ in range(postings.size)]
    for t, word in enumerate(postings.vocab):
        rows, tf = postings.postings(t)
        for row, n in zip(rows.tolist(), tf.tolist(), strict=True):
            docs[row].extend([word] * n)
    return docs

