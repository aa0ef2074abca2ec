"""Scores of one answer: cosine to the reference, page hit and rank, and whether it refused."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag_desktop.config import DEFAULT_EMBEDDING_MODEL, SCORER_MODEL

if TYPE_CHECKING:
    from rag_desktop.library.embeddings import Embedder

def scorer_model(model_id: str = SCORER_MODEL) -> str:
    """The embedding model that scores answers when `model_id` is asked for.

    The multilingual default (config.SCORER_MODEL, USE) falls back to MiniLM where its wheel is
    not installed; any other id is used as given (get_embedder names the known ones if it is wrong).
    """
    from rag_desktop.library.embeddings import embedding_model_available

    if model_id == SCORER_MODEL and not embedding_model_available(SCORER_MODEL):
        return DEFAULT_EMBEDDING_MODEL
    return model_id


def cosine(embedder: Embedder, a: str, b: str) -> float:
    """Cosine of the normalized embeddings of `a` and `b` (the score the
    seed 004 baseline script, benchmarks/baseline_seed.py, reports); 0.0 if one is empty.

    Both texts are encoded as passages, so the score is symmetric.
    """
    if not a.strip() or not b.strip():
        return 0.0
    vectors = np.asarray(embedder.embed_documents([a, b]), dtype=np.float64)
    u, v = vectors[0], vectors[1]
    # The embedder normalizes already; dividing again guards against an unnormalized one.
    denom = float(np.linalg.norm(u) * np.linalg.norm(v))
    return 0.0 if denom == 0.0 else float(np.clip(np.dot(u, v) / denom, -1.0, 1.0))


def first_hit_rank(ref_pages: Iterable[int], source_pages: Sequence[int]) -> int | None:
    """1-based rank of the first cited source on a reference page, or None when none is."""
    wanted = set(ref_pages)
    for rank, page in enumerate(source_pages, start=1):
        if page in wanted:
            return rank
    return None


def page_hit(ref_pages: Iterable[int], source_pages: Sequence[int]) -> tuple[bool, int | None]:
    """(whether a reference page is among the cited sources, the rank of the first that is)."""
    rank = first_hit_rank(ref_pages, source_pages)
    return rank is not None, rank


def refusal_correct(expects_refusal: bool, did_refuse: bool) -> bool:
    """An answer handles refusal right when it refuses exactly when the reference is absent."""
    return expects_refusal == did_refuse
