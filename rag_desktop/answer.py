"""What an answer is: its text, the sources it cites, the model that wrote it and its timings.

The pipeline makes these, the cache stores them, and the CLI, GUI and evaluation report them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from rag_desktop.language import refused
from rag_desktop.llm.client import ModelInfo

if TYPE_CHECKING:
    from rag_desktop.library.library import SearchHit


@dataclass(frozen=True)
class Source:
    """One retrieved chunk as cited under an answer."""

    rank: int
    file: str
    page: int
    page_label: str | None
    text: str
    bm25: float
    dense: float
    fused: float
    section: str = ""  # the outline's section path ("" when the PDF has no outline)

    @classmethod
    def from_hit(cls, hit: SearchHit) -> Source:
        """The citation form of a library search hit."""
        c = hit.chunk
        return cls(hit.rank, c.file, c.page, c.page_label, c.text, hit.bm25, hit.dense, hit.fused,
                   c.section)

    def to_json(self) -> dict[str, Any]:
        """The source object of the CLI's JSON (docs/cli.md)."""
        return {"rank": self.rank, "file": self.file, "page": self.page, "text": self.text,
                "bm25": self.bm25, "dense": self.dense, "fused": self.fused,
                "section": self.section}


@dataclass(frozen=True)
class Timings:
    """Seconds and token counts, all measured here so every front end reports the same numbers.

    first_token_s and generation_s run from the moment the prompt is sent to the model;
    total_s runs from the question to the last token; tokens_per_s is the decode rate after
    the first token (llama.cpp's "eval" rate).
    """

    retrieval_s: float = 0.0
    first_token_s: float = 0.0
    generation_s: float = 0.0
    total_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_per_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The `timings` object of `ask --json`."""
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """An answer with its sources, the model that wrote it and how long each step took."""

    question: str
    text: str
    sources: list[Source]
    model: ModelInfo
    timings: Timings
    dropped_chunks: int = 0
    stopped: bool = False
    cache_hit: bool = False
    original_timings: Timings | None = None
    # True when the relevance gate refused before the model ran; `is_refused` adds the text rule.
    refused: bool = False
    # Share of the answer's sentences that its sources support (grounding.py); None when refused.
    grounded: float | None = None
    # Earlier turns of the conversation left out of the prompt to fit its budget (oldest first).
    dropped_turns: int = 0
    # A server read fewer prompt tokens than were sent: it cut the prompt (llm/server.py).
    truncated: bool = False
    # Asked while documents were being added (OCR can take minutes): (pages searched, pages once
    # they are in); None when every page was searchable.
    coverage: tuple[int, int] | None = None

    @property
    def is_refused(self) -> bool:
        """The gate refused, or the text is a refusal sentence (language.refused, the one rule)."""
        return refused(self.text, self.refused)

    def to_json(self) -> dict[str, Any]:
        """The `ask --json` document (docs/cli.md)."""
        out = {"question": self.question, "answer": self.text,
               "dropped_chunks": self.dropped_chunks, "model": self.model.to_json(),
               "sources": [s.to_json() for s in self.sources],
               "timings": self.timings.to_json(), "stopped": self.stopped,
               "cache_hit": self.cache_hit, "refused": self.is_refused,
               "grounded": self.grounded, "dropped_turns": self.dropped_turns,
               "truncated": self.truncated,
               "coverage": list(self.coverage) if self.coverage else None}
        if self.original_timings is not None:
            out["original_timings"] = self.original_timings.to_json()
        return out


def page_ref(page: int, label: str | None) -> str:
    """A page as every view and export names it: the printed label, with the PDF's own page
    number after it where the two differ ("ix (PDF p. 14)"); just the number otherwise."""
    if not label or label == str(page):
        return str(page)
    return f"{label} (PDF p. {page})"


def source_ref(source: Source) -> str:
    """'file p. ix (PDF p. 14)': a source in the sources lists, copies and exports."""
    return f"{source.file} p. {page_ref(source.page, source.page_label)}"


def passage_label(source: Source) -> str:
    """How a passage is named in the prompt and in citations: 'file p. label'."""
    return f"{source.file} p. {source.page_label or source.page}"


def answer_from_json(d: dict[str, Any]) -> Answer:
    """Rebuild an Answer stored by the cache (dataclasses.asdict form)."""
    orig = d.get("original_timings")
    return Answer(
        question=d["question"], text=d["text"],
        sources=[Source(**s) for s in d["sources"]], model=ModelInfo(**d["model"]),
        timings=Timings(**d["timings"]), dropped_chunks=d["dropped_chunks"],
        stopped=d["stopped"], cache_hit=d["cache_hit"],
        original_timings=Timings(**orig) if orig else None,
        refused=d.get("refused", False), grounded=d.get("grounded"),
        dropped_turns=d.get("dropped_turns", 0), truncated=d.get("truncated", False),
        coverage=(int(d["coverage"][0]), int(d["coverage"][1])) if d.get("coverage") else None,
    )


def coverage_note(answer: Answer) -> str:
    """'answered from 180 of 240 pages (…)' for an answer asked while documents were being
    added; "" otherwise."""
    if answer.coverage is None:
        return ""
    searched, total = answer.coverage
    return (f"answered from {searched} of {total} pages: {total - searched} are still being "
            "added (ask again when the ingestion ends)")
