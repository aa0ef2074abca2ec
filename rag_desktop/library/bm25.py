"""The keyword leg of hybrid search: BM25Okapi (rank_bm25's formula) over numpy postings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rag_desktop.library import postings as postings_mod
from rag_desktop.library.postings import Postings
from rag_desktop.library.textindex import Tokenizer, tokenize

# rank_bm25's BM25Okapi defaults.
K1, B, EPSILON = 1.5, 0.75, 0.25
WEIGHT_CACHE = 8_000_000  # postings whose tf part is kept (8 bytes each: 64 MB)


def okapi_idf(doc_freq: np.ndarray, corpus_size: int) -> np.ndarray:
    """rank_bm25's idf per term: log((N - df + .5) / (df + .5)), negatives floored at
    EPSILON times the mean idf (math.log, as rank_bm25 computes it)."""
    idf = np.asarray([math.log(corpus_size - df + 0.5) - math.log(df + 0.5)
                      for df in doc_freq.tolist()], dtype=np.float64)
    if idf.size:
        idf[idf < 0] = EPSILON * (float(idf.sum()) / idf.size)
    return idf


class RowLookup:
    """chunk id -> row, over the rows' chunk ids (binary search when they are ascending)."""

    def __init__(self, chunk_ids: np.ndarray) -> None:
        self.ids = np.asarray(chunk_ids, dtype=np.int64)
        ascending = self.ids.size < 2 or bool(np.all(self.ids[1:] > self.ids[:-1]))
        self._dict = None if ascending else {int(i): r for r, i in enumerate(self.ids.tolist())}

    def get(self, chunk_id: int) -> int | None:
        """The row of a chunk id, or None."""
        if self._dict is not None:
            return self._dict.get(int(chunk_id))
        at = int(np.searchsorted(self.ids, chunk_id))
        return at if at < self.ids.size and self.ids[at] == chunk_id else None

    def __contains__(self, chunk_id: object) -> bool:
        return isinstance(chunk_id, (int, np.integer)) and self.get(int(chunk_id)) is not None

    def __getitem__(self, chunk_id: int) -> int:
        row = self.get(chunk_id)
        if row is None:
            raise KeyError(chunk_id)
        return row


class BM25Leg:
    """rank_bm25's BM25Okapi scores over `Postings`; `top_ids` gives the top k chunk ids.

    `top_ids` keeps only chunks that share at least one token with the query.
    """

    def __init__(self, postings: Postings, tokenizer: Tokenizer = tokenize, k: int = 20) -> None:
        self.postings, self.tokenizer, self.k = postings, tokenizer, k
        self.corpus_size = postings.size
        self.avgdl = float(int(postings.doc_len.sum(dtype=np.int64)) / max(1, self.corpus_size))
        self.idf = okapi_idf(np.diff(postings.ptr), self.corpus_size)
        self.position = RowLookup(postings.chunk_ids)
        self._memo: dict[str, np.ndarray] = {}
        self._weights: dict[int, np.ndarray] = {}
        self._reference: Any = None

    @classmethod
    def from_texts(cls, chunk_ids: list[int], texts: list[str],
                   tokenizer: Tokenizer = tokenize) -> BM25Leg:
        """Index `texts` (one per chunk id); needs at least one text."""
        return cls(postings_mod.build(chunk_ids, texts, tokenizer), tokenizer)

    @property
    def chunk_ids(self) -> np.ndarray:
        """The chunk ids in row order."""
        return self.postings.chunk_ids

    @property
    def bm25(self) -> Any:
        """rank_bm25's BM25Okapi over the same bags of tokens (a reference: tests, benchmarks)."""
        if self._reference is None:
            from rank_bm25 import BM25Okapi

            self._reference = BM25Okapi(postings_mod.reference_corpus(self.postings))
        return self._reference

    def scores(self, query: str) -> np.ndarray:
        """BM25Okapi scores of every chunk, in row order (the last query memoised)."""
        if query not in self._memo:
            self._memo.clear()
            self._memo[query] = self.okapi_scores(self.tokenizer(query))
        return self._memo[query]

    def okapi_scores(self, terms: list[str]) -> np.ndarray:
        """BM25Okapi.get_scores(terms): the same formula and order, over each term's postings.

        rank_bm25 builds a Python list over every chunk for every query term (~100 ms a query
        at 100k chunks, docs/performance.md); chunks without the term add 0.
        """
        score = np.zeros(self.corpus_size)
        for term in terms:
            at = self.postings.term_id(term)
            if at is not None:
                score[self.postings.postings(at)[0]] += self.idf[at] * self._tf_part(at)
        return score

    def _tf_part(self, at: int) -> np.ndarray:
        """tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)) of each of a term's postings.

        Kept for recent terms (up to WEIGHT_CACHE entries in all): a common word's postings
        cover most of a million chunks, and this is most of the work of scoring it.
        """
        cached = self._weights.pop(at, None)
        if cached is None:
            rows, tf_small = self.postings.postings(at)
            tf = tf_small.astype(np.float64)
            norm = K1 * (1 - B + B * self.postings.doc_len[rows] / self.avgdl)
            cached = tf * (K1 + 1) / (tf + norm)
        self._weights[at] = cached  # last used last: the first entries are the oldest
        while sum(w.size for w in self._weights.values()) > WEIGHT_CACHE and len(self._weights) > 1:
            self._weights.pop(next(iter(self._weights)))
        return cached

    def top_rows(self, scores: np.ndarray, k: int) -> np.ndarray:
        """The rows of the top k non-zero scores, best first, ties in row order.

        rank_bm25's idf floor can make matched chunks negative in a tiny corpus, so "matched"
        is "non-zero". A partition first: a common word matches most of a million chunks.
        """
        matched = np.flatnonzero(scores)  # ascending, so a stable sort keeps ties in row order
        if matched.size > k > 0:
            kth = np.partition(-scores[matched], k - 1)[k - 1]
            matched = matched[-scores[matched] <= kth]  # every tie at the k-th place stays
        return matched[np.argsort(-scores[matched], kind="stable")][:k]

    def top_ids(self, query: str) -> list[int]:
        """The chunk ids of the top k matching chunks, best first."""
        ids = self.postings.chunk_ids
        return [int(ids[i]) for i in self.top_rows(self.scores(query), self.k)]

    def doc_freq(self, term: str) -> int:
        """How many chunks use the term."""
        return self.postings.doc_freq(term)

    def knows(self, term: str) -> bool:
        """True when some chunk uses the term."""
        return self.postings.term_id(term) is not None

    def has_stem(self, word_stem: str) -> bool:
        """True when some chunk uses a word with this stem."""
        return bool(self.postings.terms_with_stem(word_stem))

    def rows_use_stem(self, word_stem: str, rows: np.ndarray) -> bool:
        """True when one of these rows (ascending) uses a word with this stem."""
        for t in self.postings.terms_with_stem(word_stem):
            have, _ = self.postings.postings(t)
            at = np.searchsorted(have, rows)
            inside = at < have.size
            if np.any(have[at[inside]] == rows[inside]):
                return True
        return False
