"""Scores of one answer: cosine to the reference, page hit and rank, and whether it refused."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag_desktop.config import DEFAULT_EMBEDDING_MODEL, SCORER_MODEL
from rag_desktop.language import REFUSALS

if TYPE_CHECKING:
    from rag_desktop.embeddings import Embedder

# A refusal is a short answer that *is* one of the refusal sentences. A one-sentence tail after
# it ("… about printers.") is allowed; longer text is an answer, or an echoed prompt (which
# quotes the sentence in its middle), and never counts as a refusal.
_MAX_REFUSAL_TAIL = 80  # characters after the refusal sentence
_CITATIONS = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_EDGE = "\"'“”‘’「」『』«»*_()[] \t\r\n"  # quotes, emphasis and brackets around a sentence
_END_PUNCT = ".!?。！？…:;,"


def _normal(text: str) -> str:
    """Lowercase, citations dropped, whitespace collapsed, edge quotes and end punctuation off."""
    text = " ".join(_CITATIONS.sub(" ", text).casefold().split())
    previous = None
    while previous != text:
        previous = text
        text = text.strip(_EDGE).rstrip(_END_PUNCT)
    return text


_REFUSAL_KEYS = tuple(_normal(s) for s in REFUSALS.values())
_SENTENCE_BREAK = re.compile(r"[.!?。！？]\s|\n")


def scorer_model(model_id: str = SCORER_MODEL) -> str:
    """The embedding model that scores answers when `model_id` is asked for.

    The multilingual default (config.SCORER_MODEL, USE) falls back to MiniLM where its wheel is
    not installed; any other id is used as given (get_embedder names the known ones if it is wrong).
    """
    from rag_desktop.embeddings import embedding_model_available

    if model_id == SCORER_MODEL and not embedding_model_available(SCORER_MODEL):
        return DEFAULT_EMBEDDING_MODEL
    return model_id


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
    """True when the answer text *is* a refusal sentence (language.REFUSALS), not just quotes one.

    It equals one, ignoring case, whitespace, quotes, citations and end punctuation ("The
    documents do not contain the answer"), is one sentence that starts with one and stays short
    ("The documents do not contain the answer about printers."), or repeats one (a looping
    model). An echoed prompt, which quotes the sentence inside its instructions, is no refusal.
    """
    norm = _normal(text)
    if not norm:
        return False
    for key in _REFUSAL_KEYS:
        if norm == key:
            return True
        if norm.startswith(key):
            tail = _normal(norm[len(key):])
            if not tail or _is_refusal_repeat(tail):
                return True
            if len(tail) <= _MAX_REFUSAL_TAIL and not _SENTENCE_BREAK.search(tail):
                return True
    return False


def _is_refusal_repeat(tail: str) -> bool:
    """The rest of a refusal is the same sentence again (and again)."""
    return all(_normal(part) in _REFUSAL_KEYS
               for part in re.split(r"(?<=[.!?。！？])\s*", tail) if _normal(part))


def refused(text: str, gate_refused: bool = False) -> bool:
    """The one refusal rule: the relevance gate refused, or the text is a refusal sentence.

    results.csv's `refused`, summary.csv's refusal accuracy and `ask --json`'s "refused" all
    come from here.
    """
    return gate_refused or is_refusal(text)


def refusal_correct(expects_refusal: bool, did_refuse: bool) -> bool:
    """An answer handles refusal right when it refuses exactly when the reference is absent."""
    return expects_refusal == did_refuse
