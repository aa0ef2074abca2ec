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
    "about also all been but each its just more most other some such only own same very 어떻게 "
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
    is then at least each leg's hit@1.
    """
    top = ranked[:k]
    keys = {key[i] for i in top}
    missing = []
    for item in forced:
        if key[item] not in keys:
            keys.add(key[item])
            missing.append(item)
    missing = missing[:k]
    return top[: k - len(missing)] + missing


def coverage(query_terms: Iterable[str], found_terms: set[str], idf: Mapping[str, float],
             unknown_idf: float) -> float:
    """IDF-weighted share of the query's distinct topic terms that occur in `found_terms`.

    A term the corpus never uses weighs `unknown_idf` (the rarest), so a question about a
    product the manual never names scores low even when its common words match.
    """
    terms = {t for t in query_terms if is_topic_term(t)}
    if not terms:
        return 1.0
    weights = {t: max(idf[t], 0.0) if t in idf else unknown_idf for t in terms}
    total = sum(weights.values())
    if total <= 0:
        return 1.0
    return sum(w for t, w in weights.items() if t in found_terms) / total


def unknown_share(query_terms: Iterable[str], known: Callable[[str], bool],
                  idf: Mapping[str, float], unknown_idf: float) -> float:
    """IDF-weighted share of the query's topic terms that the whole corpus never uses.

    A question about another product names it ("Docker", "MiKTeX"); a paraphrase of a real
    question mostly reuses the manual's words in other forms, which `known` accepts.
    """
    terms = {t for t in query_terms if is_topic_term(t)}
    if not terms:
        return 0.0
    weights = {t: max(idf[t], 0.0) if t in idf else unknown_idf for t in terms}
    total = sum(weights.values())
    missing = sum(w for t, w in weights.items() if not known(t))
    return missing / total if total > 0 else 0.0


def is_topic_term(term: str) -> bool:
    """False for stop words and single Latin letters, which say nothing about the topic."""
    if term in STOPWORDS:
        return False
    return len(term) > 1 or term.isdigit() or "\uac00" <= term <= "\ud7a3"


def unknown_term_idf(corpus_size: int) -> float:
    """BM25Okapi's idf of a term found in no document, floored at a term in one document."""
    return math.log((corpus_size + 0.5) / 0.5)
