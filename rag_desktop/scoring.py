"""Scores of one answer: cosine to the reference, page hit and rank, and refusal detection."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rag_desktop.embeddings import Embedder

# Phrases with which an answer says that the documents lack the answer. The first is the
# sentence the system prompt asks for (prompts.SYSTEM_PROMPT); the rest are common variants.
_REFUSAL_PATTERNS = [
    r"\b(documents?|context|passages?|text|manual)\b[^.!?\n]{0,40}\b(do|does|did)\s*(not|n't)\s+"
    r"(contain|include|mention|provide|say|cover|have)",
    r"\b(not|no)\b[^.!?\n]{0,20}\b(mentioned|found|provided|covered|included|specified)\b"
    r"[^.!?\n]{0,30}\b(documents?|context|passages?|text|manual)\b",
    r"\bno (information|mention|details?)\b[^.!?\n]{0,40}\b(about|on|regarding|in)\b",
    r"\b(cannot|can ?not|can't|unable to|am not able to)\s+(find|answer|determine|tell)\b",
    r"\bi (do not|don't) know\b",
    r"\bnot (contained|available) in the (documents?|context|passages?)\b",
    # Korean: "문서에 (그런) 내용이 없습니다", "답을 찾을 수 없습니다", "알 수 없습니다".
    r"(문서|자료|본문|문맥)[^.!?\n]{0,20}(없|않)",
    r"(찾을 수 없|알 수 없|답할 수 없)",
]
_REFUSAL = re.compile("|".join(f"(?:{p})" for p in _REFUSAL_PATTERNS), re.IGNORECASE)


def cosine(embedder: Embedder, a: str, b: str) -> float:
    """Cosine of the normalized embeddings of `a` and `b` (seed 004's score); 0.0 if one is empty.

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


def is_refusal(text: str) -> bool:
    """True when the answer says that the documents do not contain the answer."""
    return bool(_REFUSAL.search(" ".join(text.split())))


def refused(text: str) -> bool:
    """Alias of is_refusal, named like the results.csv column."""
    return is_refusal(text)


def refusal_correct(expects_refusal: bool, did_refuse: bool) -> bool:
    """An answer handles refusal right when it refuses exactly when the reference is absent."""
    return expects_refusal == did_refuse
