"""Hybrid retrieval over one library generation: BM25 and FAISS legs fused by EnsembleRetriever."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from rag_desktop.embeddings import Embedder
from rag_desktop.textindex import Tokenizer, tokenize

try:  # langchain-classic holds it since LangChain 1.0; older releases kept it in langchain
    from langchain_classic.retrievers import EnsembleRetriever
except ImportError:  # pragma: no cover
    from langchain.retrievers import EnsembleRetriever  # type: ignore[no-redef]


class BM25ChunkRetriever(BaseRetriever):
    """The keyword leg of hybrid search: rank_bm25's BM25Okapi over tokenized chunk texts.

    Returns the top `k` chunks that share at least one token with the query, as Documents whose
    metadata["chunk_id"] is the library's chunk id. Built once per library generation.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    chunk_ids: list[int]
    bm25: Any
    tokenizer: Any = tokenize
    k: int = 20
    _memo: dict[str, np.ndarray] = PrivateAttr(default_factory=dict)
    _index: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = PrivateAttr(default=None)

    @classmethod
    def from_texts(
        cls, chunk_ids: list[int], texts: list[str], tokenizer: Tokenizer = tokenize
    ) -> BM25ChunkRetriever:
        """Index `texts` (one per chunk id); needs at least one text."""
        from rank_bm25 import BM25Okapi

        # A chunk with no word at all would make BM25Okapi divide by a zero average length.
        corpus = [tokenizer(text) or ["\x00"] for text in texts]
        return cls(chunk_ids=list(chunk_ids), bm25=BM25Okapi(corpus), tokenizer=tokenizer)

    def scores(self, query: str) -> np.ndarray:
        """Raw BM25Okapi scores of every chunk, in chunk_ids order (last query memoised)."""
        if query not in self._memo:
            self._memo.clear()
            self._memo[query] = self.okapi_scores(self.tokenizer(query))
        return self._memo[query]

    def okapi_scores(self, terms: list[str]) -> np.ndarray:
        """BM25Okapi.get_scores(terms), same formula and order, over each term's postings only.

        rank_bm25 builds a Python list over every chunk for every query term, which took
        ~100 ms a query at 100k chunks (docs/performance.md, B3); chunks without the term add 0.
        """
        bm, postings = self.bm25, self._postings()
        score = np.zeros(bm.corpus_size)
        for term in terms:
            if term in postings:
                rows, tf, doc_len = postings[term]
                score[rows] += (bm.idf.get(term) or 0) * (
                    tf * (bm.k1 + 1) / (tf + bm.k1 * (1 - bm.b + bm.b * doc_len / bm.avgdl)))
        return score

    def _postings(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """term -> (chunk positions, term frequencies, those chunks' lengths), built once."""
        if self._index is None:
            rows: dict[str, list[int]] = defaultdict(list)
            freqs: dict[str, list[int]] = defaultdict(list)
            for i, doc in enumerate(self.bm25.doc_freqs):
                for term, freq in doc.items():
                    rows[term].append(i)
                    freqs[term].append(freq)
            doc_len = np.asarray(self.bm25.doc_len)
            self._index = {}
            for term, where in rows.items():
                at = np.asarray(where, dtype=np.int64)
                self._index[term] = (at, np.asarray(freqs[term]), doc_len[at])
        return self._index

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        scores = self.scores(query)
        # Unmatched chunks score exactly 0; rank_bm25's idf floor can make matched ones negative
        # in a tiny corpus, so "matched" is "non-zero", not "positive".
        matched = np.flatnonzero(scores)  # ascending, so the stable sort keeps ties in order
        top = matched[np.argsort(-scores[matched], kind="stable")][: self.k]
        return [
            Document(page_content="", metadata={"chunk_id": self.chunk_ids[int(i)]}) for i in top
        ]


class _DenseChunkRetriever(BaseRetriever):
    """The semantic leg: FAISS inner product (cosine on normalised vectors) to the query."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Any
    embedder: Any
    k: int = 20
    _memo: dict[str, np.ndarray] = PrivateAttr(default_factory=dict)

    def vector(self, query: str) -> np.ndarray:
        """The query's embedding (memoised, so scoring hits does not embed it again)."""
        if query not in self._memo:
            self._memo[query] = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        return self._memo[query]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        import faiss

        n = min(self.k, int(self.index.ntotal))
        vector = self.vector(query)[None, :]
        # One query on one thread: OpenMP's spin-waits made a 10k search 100x slower while other
        # processes held the cores (docs/performance.md, B3).
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            _, ids = self.index.search(vector, n)
        finally:
            faiss.omp_set_num_threads(threads)
        return [Document(page_content="", metadata={"chunk_id": int(i)}) for i in ids[0] if i >= 0]


class _FusionRetriever(EnsembleRetriever):
    """EnsembleRetriever that also leaves each document's fused score in metadata["fused"]."""

    def weighted_reciprocal_rank(self, doc_lists: list[list[Document]]) -> list[Document]:
        """LangChain's weighted RRF ordering, plus the score it sorts by (not exposed upstream)."""
        fused: dict[int, float] = defaultdict(float)
        for docs, weight in zip(doc_lists, self.weights, strict=True):
            for rank, doc in enumerate(docs, start=1):
                fused[doc.metadata["chunk_id"]] += weight / (rank + self.c)
        ranked = super().weighted_reciprocal_rank(doc_lists)
        for doc in ranked:
            doc.metadata["fused"] = fused[doc.metadata["chunk_id"]]
        return ranked


class SearchState:
    """What one generation needs for search: the FAISS index and the BM25 leg over its chunks."""

    def __init__(self, generation: int, index: Any, rows: list[tuple[int, str]],
                 tokenizer: Tokenizer) -> None:
        self.generation = generation
        self.index = index
        self.bm25 = (
            BM25ChunkRetriever.from_texts([r[0] for r in rows], [r[1] for r in rows], tokenizer)
            if rows else None
        )
        self.position = {row[0]: i for i, row in enumerate(rows)}

    def search(self, query: str, embedder: Embedder, k: int, bm25_weight: float,
               k_per_leg: int) -> list[tuple[int, float, float, float]]:
        """(chunk id, raw BM25, dense cosine, fused) for the top k, best first."""
        if self.bm25 is None or self.index.ntotal == 0:
            return []
        self.bm25.k = k_per_leg
        dense = _DenseChunkRetriever(index=self.index, embedder=embedder, k=k_per_leg)
        fusion = _FusionRetriever(
            retrievers=[self.bm25, dense], weights=[bm25_weight, 1.0 - bm25_weight],
            id_key="chunk_id",
        )
        # A vector without a chunk (a damaged library, see check()) must not become a hit.
        docs = [d for d in fusion.invoke(query) if d.metadata["chunk_id"] in self.position][:k]
        ids = [int(doc.metadata["chunk_id"]) for doc in docs]
        bm25_scores = self.bm25.scores(query)
        vectors = self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))
        cosines = vectors @ dense.vector(query)
        return [
            (i, float(bm25_scores[self.position[i]]), float(cos), float(doc.metadata["fused"]))
            for i, cos, doc in zip(ids, cosines, docs, strict=True)
        ]
