"""The BM25 leg's exact top-k on a tiny corpus, against rank_bm25's own scores."""

from __future__ import annotations

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun

from rag_desktop.library.retrieval import BM25ChunkRetriever

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
