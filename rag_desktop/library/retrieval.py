"""Hybrid retrieval over one library generation: BM25 and FAISS legs, fused (fusion.py).

The legs are plain classes. The RRF setting is specified as LangChain's EnsembleRetriever, so
each leg also has a LangChain retriever view (`SearchState.bm25`, `SearchState._dense`,
`BM25ChunkRetriever`) that tests put in a real EnsembleRetriever; the views are made on first
use, so that opening and searching a library never imports langchain_core (0.55 s of a restart).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag_desktop.library import fusion as fusion_fn
from rag_desktop.library.bm25 import BM25Leg, RowLookup
from rag_desktop.library.embeddings import Embedder
from rag_desktop.library.textindex import Tokenizer, stem, tokenize

__all__ = ["BM25Leg", "DenseLeg", "Scored", "SearchState", "langchain_views"]

_HANGUL = re.compile(r"[\uac00-\ud7a3]")


class DenseLeg:
    """The semantic leg: FAISS inner product (cosine on normalised vectors) to the query."""

    def __init__(self, index: Any, embedder: Any, k: int = 20,
                 memo: dict[str, np.ndarray] | None = None,
                 hits: dict[str, tuple[int, list[int], list[float]]] | None = None) -> None:
        self.index, self.embedder, self.k = index, embedder, k
        self._memo: dict[str, np.ndarray] = {} if memo is None else memo
        # The last query's widest search: a search asks the leg for k, then for its top 1
        # twice (seats, the gate); an approximate index probes the same lists for both.
        self._hits = {} if hits is None else hits

    def vector(self, query: str) -> np.ndarray:
        """The query's embedding (memoised, so scoring hits does not embed it again)."""
        if query not in self._memo:
            self._memo[query] = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        return self._memo[query]

    def top(self, query: str, n: int) -> tuple[list[int], list[float]]:
        """The ids and cosines of the n chunks nearest to the query."""
        import faiss

        n = min(n, int(self.index.ntotal))
        if n <= 0:
            return [], []
        done = self._hits.get(query)
        if done is not None and done[0] >= n:
            return done[1][:n], done[2][:n]
        # One query on one thread: OpenMP's spin-waits made a 10k search 100x slower while other
        # processes held the cores (docs/performance.md, retrieval latency).
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            scores, ids = self.index.search(self.vector(query)[None, :], n)
        finally:
            faiss.omp_set_num_threads(threads)
        kept = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        self._hits.clear()
        self._hits[query] = (n, [i for i, _ in kept], [s for _, s in kept])
        return list(self._hits[query][1]), list(self._hits[query][2])

    def top_ids(self, query: str) -> list[int]:
        """The chunk ids of the k nearest chunks, best first."""
        return self.top(query, self.k)[0]


@functools.cache
def langchain_views() -> tuple[type, type]:
    """(BM25ChunkRetriever, DenseChunkRetriever): LangChain retrievers over a leg, made once.

    Each is the same leg underneath (its k, memo and scores), so an EnsembleRetriever over the
    views ranks what SearchState ranks (tests/test_retrieval.py compares them).
    """
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from pydantic import ConfigDict

    class LegView(BaseRetriever):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        leg: Any

        @property
        def k(self) -> int:
            """The leg's k: how many chunks a query returns."""
            return int(self.leg.k)

        @k.setter
        def k(self, value: int) -> None:
            self.leg.k = value

        def top_ids(self, query: str) -> list[int]:
            """The leg's top_ids."""
            return list(self.leg.top_ids(query))

        def _get_relevant_documents(self, query: str, *,
                                    run_manager: CallbackManagerForRetrieverRun) -> list[Any]:
            return [Document(page_content="", metadata={"chunk_id": i})
                    for i in self.leg.top_ids(query)]

    class BM25ChunkRetriever(LegView):
        """LangChain's view of a BM25Leg: its scores, chunk ids, tokenizer and BM25Okapi."""

        @classmethod
        def from_texts(cls, chunk_ids: list[int], texts: list[str],
                       tokenizer: Tokenizer = tokenize) -> BM25ChunkRetriever:
            """A view of BM25Leg.from_texts."""
            return cls(leg=BM25Leg.from_texts(chunk_ids, texts, tokenizer))

        @property
        def bm25(self) -> Any:
            """rank_bm25's BM25Okapi."""
            return self.leg.bm25

        @property
        def chunk_ids(self) -> list[int]:
            """The chunk ids, in the leg's row order."""
            return [int(i) for i in self.leg.chunk_ids]

        @property
        def tokenizer(self) -> Tokenizer:
            """The library's tokenizer."""
            return self.leg.tokenizer

        def scores(self, query: str) -> np.ndarray:
            """BM25Leg.scores."""
            return np.asarray(self.leg.scores(query))

        def okapi_scores(self, terms: list[str]) -> np.ndarray:
            """BM25Leg.okapi_scores."""
            return np.asarray(self.leg.okapi_scores(terms))

    class DenseChunkRetriever(LegView):
        """LangChain's view of a DenseLeg: its query vector and nearest chunks."""

        def vector(self, query: str) -> np.ndarray:
            """DenseLeg.vector."""
            return np.asarray(self.leg.vector(query))

        def top(self, query: str, n: int) -> tuple[list[int], list[float]]:
            """DenseLeg.top."""
            ids, scores = self.leg.top(query, n)
            return list(ids), list(scores)

    return BM25ChunkRetriever, DenseChunkRetriever


def __getattr__(name: str) -> Any:
    """`BM25ChunkRetriever`: the LangChain view class, imported only when asked for."""
    if name == "BM25ChunkRetriever":
        return langchain_views()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Scored:
    """One ranked chunk: raw BM25 score, dense cosine, and the fused score it was ranked by."""

    chunk_id: int
    bm25: float
    dense: float
    fused: float


class SearchState:
    """What one generation needs for search: the FAISS index and the BM25 leg over its chunks."""

    def __init__(self, generation: int, index: Any, rows: list[tuple[int, str]],
                 tokenizer: Tokenizer, keyword: BM25Leg | None = None) -> None:
        """`keyword` is the BM25 leg when already built (a library's saved postings); else
        it is built from `rows`, (chunk id, text) pairs."""
        self.generation = generation
        self.index = index
        self.tokenizer = tokenizer
        if keyword is None and rows:
            keyword = BM25Leg.from_texts([r[0] for r in rows], [r[1] for r in rows], tokenizer)
        self.keyword = keyword if keyword is not None and keyword.corpus_size else None
        self._bm25_view: Any = None
        self.position = (self.keyword.position if self.keyword is not None
                         else RowLookup(np.zeros(0, dtype=np.int64)))
        self._vectors: dict[str, np.ndarray] = {}  # the last query's embedding, for every leg
        self._hits: dict[str, tuple[int, list[int], list[float]]] = {}  # and its dense hits
        self._has_hangul: bool | None = None

    @property
    def bm25(self) -> Any:
        """The BM25 leg as a LangChain retriever (langchain_views: tests and benchmarks)."""
        if self.keyword is not None and self._bm25_view is None:
            self._bm25_view = langchain_views()[0](leg=self.keyword)
        return self._bm25_view

    def _dense(self, embedder: Embedder, k: int) -> Any:
        """The dense leg as a LangChain retriever (langchain_views: tests and benchmarks)."""
        return langchain_views()[1](leg=self._dense_leg(embedder, k))

    def _dense_leg(self, embedder: Embedder, k: int) -> DenseLeg:
        """The dense leg, sharing this state's memo so a query is embedded once."""
        return DenseLeg(self.index, embedder, k, self._vectors, self._hits)

    def search(self, query: str, embedder: Embedder, n: int, bm25_weight: float,
               k_per_leg: int, fusion: str = "rrf", rrf_c: int = 60) -> list[Scored]:
        """The top n chunks, best first, fused by `fusion` ("rrf" or "convex")."""
        if self.keyword is None or self.index.ntotal == 0:
            return []
        self.keyword.k = k_per_leg
        if query not in self._vectors:
            self._vectors.clear()
            self._hits.clear()
        dense = self._dense_leg(embedder, k_per_leg)
        if fusion == "convex":
            ids, fused = self._convex(query, dense, bm25_weight)
        elif fusion == "rrf":
            ids, fused = self._rrf(query, dense, bm25_weight, rrf_c)
        else:
            raise ValueError(f"unknown fusion {fusion!r}; use 'rrf' or 'convex'")
        # A vector without a chunk (a damaged library, see check()) must not become a hit.
        ids = [i for i in ids if i in self.position][:n]
        bm25_scores = self.keyword.scores(query)
        cosines = self.cosines(query, dense, ids)
        return [Scored(i, float(bm25_scores[self.position[i]]), float(cos), float(fused[i]))
                for i, cos in zip(ids, cosines, strict=True)]

    def _legs(self, query: str, dense: DenseLeg) -> tuple[list[int], list[int]]:
        """Each leg's top k_per_leg chunk ids, best first: (BM25's, the dense leg's)."""
        assert self.keyword is not None
        return self.keyword.top_ids(query), dense.top_ids(query)

    def _rrf(self, query: str, dense: DenseLeg, bm25_weight: float,
             rrf_c: int) -> tuple[list[int], dict[int, float]]:
        """The product's specified fusion, LangChain's EnsembleRetriever, to the same order.

        EnsembleRetriever sums w / (rank + c) per leg, BM25 first, and sorts by that score
        with ties in first-seen order; fusion.rrf and fusion.order_by do exactly that
        (tests/test_retrieval.py compares them with a real EnsembleRetriever).
        """
        keyword, semantic = self._legs(query, dense)
        fused = fusion_fn.rrf([keyword, semantic], [bm25_weight, 1.0 - bm25_weight], rrf_c)
        return fusion_fn.order_by(fused), fused

    def _convex(self, query: str, dense: DenseLeg,
                bm25_weight: float) -> tuple[list[int], dict[int, float]]:
        """Min-max normalised scores of both legs' candidates, mixed w : 1 - w."""
        assert self.keyword is not None
        keyword, semantic = self._legs(query, dense)
        candidates = [i for i in dict.fromkeys(semantic + keyword) if i in self.position]
        if not candidates:
            return [], {}
        raw = self.keyword.scores(query)
        bm25 = np.asarray([raw[self.position[i]] for i in candidates])
        cos = self.cosines(query, dense, candidates)
        mixed = fusion_fn.convex(bm25, cos, bm25_weight)
        fused = {i: float(v) for i, v in zip(candidates, mixed, strict=True)}
        return fusion_fn.order_by(fused), fused

    def cosines(self, query: str, dense: DenseLeg, ids: list[int]) -> np.ndarray:
        """The dense cosine of each chunk id to the query (also for chunks the leg missed)."""
        if not ids:
            return np.zeros(0, dtype=np.float32)
        vectors = self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))
        return np.asarray(vectors @ dense.vector(query), dtype=np.float32)

    def leg_tops(self, query: str, embedder: Embedder) -> list[int]:
        """The chunk id that each leg alone ranks first (BM25's, then the dense leg's)."""
        tops: list[int] = []
        if self.keyword is not None:
            scores = self.keyword.scores(query)
            if scores.size and scores.max() > 0:
                tops.append(int(self.keyword.chunk_ids[int(np.argmax(scores))]))
        ids, _ = self._dense_leg(embedder, 1).top(query, 1)
        return tops + [i for i in ids if i in self.position]

    def top_cosine(self, query: str, embedder: Embedder) -> float:
        """The best dense cosine of any chunk to the query (the relevance gate's first signal)."""
        _, scores = self._dense_leg(embedder, 1).top(query, 1)
        return scores[0] if scores else 0.0

    def _weight(self, term: str) -> float:
        """A query term's weight for the gate's signals (fusion.idf_weight)."""
        assert self.keyword is not None
        return fusion_fn.idf_weight(self.keyword.doc_freq(term), self.keyword.corpus_size)

    def _known(self, term: str) -> bool:
        """True when some chunk uses the term, or a word with its Snowball stem."""
        assert self.keyword is not None
        return self.keyword.knows(term) or self.keyword.has_stem(stem(term))

    def _lexical_terms(self, query: str) -> list[str] | None:
        """The query's terms in scripts the library uses; None when only another script is left.

        A Korean question about an English manual shares no word with it: its words are not
        "unknown topics", and only the dense leg (multilingual) can judge it.
        """
        assert self.keyword is not None
        if self._has_hangul is None:
            self._has_hangul = self.keyword.postings.has_hangul()
        terms = self.tokenizer(query)
        kept = [t for t in terms if self._has_hangul or not _HANGUL.search(t)]
        topical = any(map(fusion_fn.is_topic_term, terms))
        return None if topical and not any(map(fusion_fn.is_topic_term, kept)) else kept

    def unknown_share(self, query: str) -> float:
        """Weighted share of the query's topic terms that no chunk uses (stems compared)."""
        if self.keyword is None:
            return 1.0
        terms = self._lexical_terms(query)
        return 0.0 if terms is None else fusion_fn.unknown_share(terms, self._known, self._weight)

    def coverage(self, query: str, chunk_ids: list[int]) -> float:
        """Weighted share of the query's topic terms that the given chunks contain.

        A term counts when one of the chunks uses it or a word with its Snowball stem.
        """
        if self.keyword is None:
            return 0.0
        keyword = self.keyword
        rows = np.unique(np.asarray([self.position[i] for i in chunk_ids if i in self.position],
                                    dtype=np.int64))
        terms = self._lexical_terms(query)
        if terms is None:
            return 0.0
        return fusion_fn.coverage(terms, lambda t: keyword.rows_use_stem(stem(t), rows),
                                  self._weight)
