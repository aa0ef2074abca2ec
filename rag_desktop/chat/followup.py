"""Standalone queries for follow-up questions, and the previous turn's sources kept as candidates.

A strategy is a rewrite, optionally with "+sources":
- "none": the question as asked;
- "prepend": the previous turn's standalone query, then the question (so turn 3 carries the
  words of turns 1 and 2);
- "llm": the loaded model rewrites the question with the previous query as context
  (condense.py), falling back to "prepend" when its reply is empty, an echo or too long;
- "+sources": the previous turn's sources are fused with the new query's hits (rank fusion,
  equal weight), so the pages the conversation is about stay among the candidates.
docs/retrieval.md (follow-ups) compares them; ConversationSettings.strategy is the measured default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rag_desktop.answer import Source

if TYPE_CHECKING:
    from rag_desktop.chat.turns import Turn
    from rag_desktop.config import GenerationSettings
    from rag_desktop.llm.client import LLM
    from rag_desktop.progress import CancelToken

REWRITES = ("none", "prepend", "llm")
SOURCES_SUFFIX = "+sources"
STRATEGIES = (*REWRITES, *(f"{r}{SOURCES_SUFFIX}" for r in REWRITES))
# Reciprocal rank fusion constant for the kept sources (as in the EnsembleRetriever).
RRF_C = 60


@dataclass(frozen=True)
class Prior:
    """What a follow-up needs of an earlier turn: its question, query and sources."""

    question: str
    query: str
    sources: tuple[Source, ...] = ()

    @classmethod
    def of(cls, turn: Turn) -> Prior:
        """The Prior of a saved turn."""
        return cls(turn.question, turn.query, tuple(turn.answer.sources))


@dataclass(frozen=True)
class Standalone:
    """The query to retrieve, the strategy asked for, and the rewrite that made the query
    ("llm" may have fallen back to "prepend"; a first turn is always "none")."""

    query: str
    strategy: str
    rewrite: str
    keep_sources: bool


def parse_strategy(strategy: str) -> tuple[str, bool]:
    """("prepend", True) for "prepend+sources"; ValueError naming the known strategies."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown follow-up strategy {strategy!r}; use one of "
                         f"{', '.join(STRATEGIES)}")
    rewrite, _, keep = strategy.partition("+")
    return rewrite, bool(keep)


def standalone_query(
    question: str, history: Sequence[Prior], strategy: str, *, llm: LLM | None = None,
    generation: GenerationSettings | None = None, rewrite_tokens: int = 48,
    cancel: CancelToken | None = None,
) -> Standalone:
    """The retrieval query for `question` after the turns in `history` (oldest first)."""
    rewrite, keep = parse_strategy(strategy)
    if not history:
        return Standalone(question, strategy, "none", False)
    previous = history[-1]
    if rewrite == "llm" and llm is not None and llm.info is not None:
        from rag_desktop.chat.condense import llm_rewrite
        from rag_desktop.config import GenerationSettings

        out = llm_rewrite(llm, question, previous.query, generation or GenerationSettings(),
                          rewrite_tokens, cancel)
        if out is not None:
            return Standalone(out, strategy, "llm", keep)
        rewrite = "prepend"
    if rewrite in ("prepend", "llm"):
        return Standalone(prepend(previous.query, question), strategy, "prepend", keep)
    return Standalone(question, strategy, "none", keep)


def prepend(earlier: str, question: str) -> str:
    """The earlier query, then the question, as one line."""
    return " ".join(f"{earlier.strip()} {question.strip()}".split())


def merge_sources(new: Sequence[Source], previous: Sequence[Source], k: int) -> list[Source]:
    """The new hits and the previous turn's sources fused by rank (equal weight), k at most.

    A page found by both lists is counted once with both shares, so it rises; ranks are
    renumbered 1..k. With no previous sources the new hits come back unchanged.
    """
    if not previous:
        return list(new[:k])
    score: dict[tuple[str, int], float] = {}
    pick: dict[tuple[str, int], Source] = {}
    for ranked in (new, previous):
        for rank, source in enumerate(ranked, start=1):
            key = (source.file, source.page)
            score[key] = score.get(key, 0.0) + 1.0 / (RRF_C + rank)
            pick.setdefault(key, source)  # the new query's chunk of a page is preferred
    order = sorted(score, key=lambda key: -score[key])[:k]
    return [replace(pick[key], rank=i) for i, key in enumerate(order, start=1)]
