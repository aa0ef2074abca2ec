"""The BM25 leg's exact top-k against rank_bm25, and RRF against LangChain's EnsembleRetriever."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun

from rag_desktop.library.retrieval import BM25ChunkRetriever, SearchState
from rag_desktop.library.textindex import tokenize

TEXTS = [
    "the printer prints pages",
    "install the printer driver first",
    "paper size and margins",
    "the driver sets the paper size",
    "nothing relevant here at all",
    "printer printer printer",
]


def _top(retriever: BM25ChunkRetriever, query: str) -> list[int]:
    docs = retriever._get_relevant_documents(
        query, run_manager=CallbackManagerForRetrieverRun.get_noop_manager())
    return [int(d.metadata["chunk_id"]) for d in docs]


def test_scores_equal_rank_bm25_and_unmatched_chunks_are_left_out() -> None:
    ids = [10, 11, 12, 13, 14, 15]
    retriever = BM25ChunkRetriever.from_texts(ids, TEXTS)
    for query in ["printer driver", "paper size", "the", "zebra"]:
        expected = retriever.bm25.get_scores(query.split())
        assert np.allclose(retriever.scores(query), expected)
    retriever.k = 3
    scores = retriever.bm25.get_scores(["printer", "driver"])
    expected = sorted((i for i in range(6) if scores[i] != 0), key=lambda i: -scores[i])[:3]
    top = _top(retriever, "printer driver")
    assert top == [ids[i] for i in expected] and top[0] == 11  # the one chunk with both words
    assert _top(retriever, "zebra") == []
    retriever.k = 10
    assert set(_top(retriever, "paper size")) == {12, 13}


def test_ties_keep_corpus_order() -> None:
    retriever = BM25ChunkRetriever.from_texts([1, 2, 3, 4], ["alpha beta", "gamma", "alpha beta",
                                                            "alpha beta"])
    assert _top(retriever, "alpha") == [1, 3, 4]


MANUAL = [
    "the printer prints pages on plain paper",
    "install the printer driver before the first print",
    "paper size and margins are set in the driver",
    "clean the print head when lines are missing",
    "the scanner glass must be clean before scanning",
    "replace the ink cartridge when the light blinks",
    "paper jams: open the rear cover and pull the paper out",
    "the printer prints pages on plain paper",  # the same text twice: tied legs
    "wireless setup: hold the wifi button for three seconds",
    "firmware updates are installed from the settings menu",
]


@pytest.mark.parametrize("bm25_weight, c, k_per_leg", [(0.3, 60, 20), (0.5, 60, 4), (0.8, 1, 3)])
def test_rrf_orders_exactly_as_langchains_ensemble_retriever(
        embedder: Any, bm25_weight: float, c: int, k_per_leg: int) -> None:
    """The RRF setting is the product's specified EnsembleRetriever: same chunks, same order."""
    import faiss
    from langchain_classic.retrievers import EnsembleRetriever

    ids = list(range(100, 100 + len(MANUAL)))
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(embedder.dim))
    index.add_with_ids(embedder.embed_documents(MANUAL), np.asarray(ids, dtype=np.int64))
    state = SearchState(1, index, list(zip(ids, MANUAL, strict=True)), tokenize)
    for query in ["how do I print on plain paper", "paper jam", "wifi", "zebra", "the"]:
        got = state.search(query, embedder, n=len(MANUAL), bm25_weight=bm25_weight,
                           k_per_leg=k_per_leg, fusion="rrf", rrf_c=c)
        assert state.bm25 is not None
        ensemble = EnsembleRetriever(
            retrievers=[state.bm25, state._dense(embedder, k_per_leg)],
            weights=[bm25_weight, 1.0 - bm25_weight], c=c, id_key="chunk_id")
        expected = [int(d.metadata["chunk_id"]) for d in ensemble.invoke(query)]
        assert [s.chunk_id for s in got] == expected, query
        keyword, semantic = state._legs(query, state._dense(embedder, k_per_leg))
        for s in got:  # the score it is ranked by is the RRF sum, leg by leg
            rrf = sum(w / (leg.index(s.chunk_id) + 1 + c) for leg, w in
                      ((keyword, bm25_weight), (semantic, 1.0 - bm25_weight))
                      if s.chunk_id in leg)
            assert s.fused == pytest.approx(rrf, rel=1e-12)


def test_rrf_breaks_ties_as_the_ensemble_retriever_does() -> None:
    """Legs that rank different chunks at the same places tie at w = 0.5: first seen first."""
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_core.documents import Document

    from rag_desktop.library import fusion

    legs = [[5, 1, 9, 3], [2, 6, 3, 8, 5]]
    docs = [[Document(page_content="", metadata={"chunk_id": i}) for i in leg] for leg in legs]
    for weights in ([0.5, 0.5], [0.3, 0.7], [1.0, 0.0]):
        ensemble = EnsembleRetriever(retrievers=[BM25ChunkRetriever.from_texts([0], ["x"])] * 2,
                                     weights=weights, c=60, id_key="chunk_id")
        expected = [d.metadata["chunk_id"] for d in ensemble.weighted_reciprocal_rank(docs)]
        assert fusion.order_by(fusion.rrf(legs, weights, 60)) == expected
    ranked = fusion.order_by(fusion.rrf(legs, [0.5, 0.5], 60))
    assert ranked.index(1) + 1 == ranked.index(6)  # both 0.5 / 62: a tie, BM25's first
