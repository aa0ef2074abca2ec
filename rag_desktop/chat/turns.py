"""A turn (one question, the query retrieved for it and its Answer) and a conversation of turns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from rag_desktop.answer import Answer, answer_from_json

# The longest title made from a first question; the user can rename it.
TITLE_CHARS = 60


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the microsecond (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Turn:
    """One exchange: the user's `question`, the standalone `query` that was retrieved, the
    Answer (sources, model, timings), the follow-up `strategy` asked for and the `rewrite`
    that made the query ("llm" may fall back to "prepend"), the seconds the rewrite took, and
    the retrieval, generation and conversation settings it ran with (plain JSON values).
    `earlier` holds the answers this turn had before it was regenerated, oldest first, so an
    analyst can compare models on one question."""

    question: str
    query: str
    answer: Answer
    strategy: str = "none"
    settings: dict[str, Any] = field(default_factory=dict)
    rewrite: str = "none"
    rewrite_s: float = 0.0
    created_at: str = field(default_factory=now_iso)
    earlier: list[Answer] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The stored form: JSON values only (the Answer in answer_from_json's asdict form)."""
        return {"question": self.question, "query": self.query, "strategy": self.strategy,
                "rewrite": self.rewrite, "rewrite_s": self.rewrite_s, "settings": self.settings,
                "created_at": self.created_at, "answer": asdict(self.answer),
                "earlier": [asdict(a) for a in self.earlier]}


def turn_from_json(d: dict[str, Any]) -> Turn:
    """Rebuild a Turn stored by Turn.to_json."""
    return Turn(question=d["question"], query=d["query"], answer=answer_from_json(d["answer"]),
                strategy=d.get("strategy", "none"), settings=dict(d.get("settings") or {}),
                rewrite=d.get("rewrite", "none"), rewrite_s=float(d.get("rewrite_s", 0.0)),
                created_at=d.get("created_at", ""),
                earlier=[answer_from_json(a) for a in d.get("earlier") or []])


@dataclass(frozen=True)
class ConversationInfo:
    """A conversation as listed: id, title, times and how many turns it has."""

    id: str
    title: str
    created_at: str
    updated_at: str
    n_turns: int

    def to_json(self) -> dict[str, Any]:
        """The object `conversations --json` prints for each conversation."""
        return asdict(self)


@dataclass
class Conversation:
    """A conversation with every turn, oldest first."""

    id: str
    title: str
    created_at: str
    updated_at: str
    turns: list[Turn] = field(default_factory=list)

    @property
    def info(self) -> ConversationInfo:
        """The listing form of this conversation."""
        return ConversationInfo(self.id, self.title, self.created_at, self.updated_at,
                                len(self.turns))

    def to_json(self) -> dict[str, Any]:
        """The whole conversation as JSON values (for `--json` output)."""
        return {**self.info.to_json(), "turns": [t.to_json() for t in self.turns]}


def title_from(question: str) -> str:
    """A title from a first question: one line, cut at a word to TITLE_CHARS characters."""
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text
    cut = text[:TITLE_CHARS].rsplit(" ", 1)[0] or text[:TITLE_CHARS]
    return cut.rstrip(" ,.;:?") + "…"
