"""Small pure functions that fuse the two legs' rankings and judge how well a query is covered."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

# Question words that say nothing about the topic; a missing "how" must not look like a gap.
_STOP_TEXT = (
    "a an and are as at be by can do does for from how i in is it me my of on or should the this "
    "to use used using what when where which who why will with you your there their these those "
    "into if not no so than that then they we was were would could get set make has have had any "
    "about also all been but each its just more most other some such only own same very tell "
    "everything anything something explain describe show please know want need like long often "
    "many much 어떻게 "
    "무엇 뭐 어디 언제 왜 하 되 있 없 어떻 같 알 수 것 때 방법 경우 거 나요 어떤 무슨"
)
STOPWORDS = frozenset(_STOP_TEXT.split())


def rrf(rankings: Sequence[Sequence[int]], weights: Sequence[float],
        c: int = 60) -> dict[int, float]:
    """Weighted reciprocal rank fusion: sum over legs of w / (c + rank), rank 1-based.

    Cormack, Clarke & Buettcher (2009), with per-leg weights as in LangChain's EnsembleRetriever.
    """
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (c + rank)
    return fused


def min_max(scores: np.ndarray) -> np.ndarray:
    """Scores scaled to 0..1 over the candidates (all equal: all 1, or all 0 when all are 0)."""
    if scores.size == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-12:
        return np.full_like(scores, 1.0 if high > 0 else 0.0)
    return (scores - low) / (high - low)


def convex(bm25: np.ndarray, dense: np.ndarray, bm25_weight: float) -> np.ndarray:
    """Convex combination of min-max normalised scores: w * bm25 + (1 - w) * dense.

    Bruch, Gai & Ingber (2023), "An Analysis of Fusion Functions for Hybrid Retrieval": unlike
    rank fusion it keeps how far ahead a leg's best hit is, so a strong keyword match that the
    dense leg missed can still win.
    """
    return bm25_weight * min_max(bm25) + (1.0 - bm25_weight) * min_max(dense)


def order_by(scores: Mapping[int, float]) -> list[int]:
    """Items by descending score; ties keep their first-seen order."""
    return sorted(scores, key=lambda item: -scores[item])


def first_per_key(items: Iterable[int], key: Mapping[int, object], k: int) -> list[int]:
    """The first `k` items with distinct keys (e.g. one chunk per page), in input order."""
    seen: set[object] = set()
    out: list[int] = []
    for item in items:
        if key[item] not in seen:
            seen.add(key[item])
            out.append(item)
            if len(out) == k:
                break
    return out


def seat(ranked: list[int], forced: Iterable[int], key: Mapping[int, object],
         k: int) -> list[int]:
    """The first k of `ranked`, with every `forced` item (each leg's best) sure of a place.

    A forced item whose key (page) is not among the first k replaces the last ones, so the
    fused list can never lose the page that either leg alone ranks first: the ensemble's hit@k
    is then at least each leg's hit@1. The fused first item always keeps its place.
    """
    top = ranked[:k]
    keys = {key[i] for i in top}
    missing = []
    for item in forced:
        if key[item] not in keys:
            keys.add(key[item])
            missing.append(item)
    missing = missing[: max(0, k - 1)]
    return top[: k - len(missing)] + missing


def unknown_share(query_terms: Iterable[str], known: Callable[[str], bool],
                  weight: Callable[[str], float]) -> float:
    """Weighted share of the query's topic terms that the whole corpus never uses.

    A question about another product names it ("Docker", "MiKTeX"); a paraphrase of a real
    question mostly reuses the manual's words in other forms, which `known` accepts.
    """
    return 1.0 - _share(query_terms, known, weight, empty=1.0)


def coverage(query_terms: Iterable[str], found: Callable[[str], bool],
             weight: Callable[[str], float]) -> float:
    """Weighted share of the query's distinct topic terms that the hits contain (`found`)."""
    return _share(query_terms, found, weight, empty=1.0)


def _share(query_terms: Iterable[str], hit: Callable[[str], bool],
           weight: Callable[[str], float], empty: float) -> float:
    terms = {t for t in query_terms if is_topic_term(t)}
    weights = {t: weight(t) for t in terms}
    total = sum(weights.values())
    if not terms or total <= 0:
        return empty
    return sum(w for t, w in weights.items() if hit(t)) / total


def idf_weight(doc_freq: int, corpus_size: int) -> float:
    """Lucene's BM25 idf, log(1 + (N - n + 0.5) / (n + 0.5)): positive even in a tiny library.

    rank_bm25's Okapi idf is 0 or negative for a term in half the chunks of a two-chunk
    library, which would make every term weightless. A term no chunk uses weighs as one used
    once, so that one unknown word can't outweigh the rest of the question.
    """
    n = max(doc_freq, 1)
    return math.log(1.0 + (corpus_size - n + 0.5) / (n + 0.5))


def is_topic_term(term: str) -> bool:
    """False for stop words and single Latin letters, which say nothing about the topic."""
    if term in STOPWORDS:
        return False
    return len(term) > 1 or term.isdigit() or "\uac00" <= term <= "\ud7a3"
