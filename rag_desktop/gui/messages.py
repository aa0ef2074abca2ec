"""What the engine's jobs take and give back: plain dataclasses, no Qt, no engine.

Kept apart from engine.py so that the panels and saved_runs can name them without importing
the engine (and the engine can import them back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag_desktop.answer import Answer
    from rag_desktop.evaluation.results import EvalRow, SummaryRow


@dataclass(frozen=True)
class AskResult:
    """An answer with the optional reference answer and its cosine similarity, and the saved
    conversation and turn number (1-based) it is."""

    answer: Answer
    reference: str = ""
    cosine: float | None = None
    conversation_id: str | None = None
    turn: int = 0


@dataclass(frozen=True)
class EvalRequest:
    """What the Evaluate tab asks for."""

    questions: Path
    models: list[str]
    bm25_weights: list[float]
    k: int
    max_tokens: int
    limit: int | None = None
    out_dir: Path | None = None
    fusions: list[str] = field(default_factory=lambda: ["convex"])
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalResult:
    """Rows of one evaluation run, its summary, and whether it was cancelled."""

    rows: list[EvalRow]
    summary: list[SummaryRow]
    cancelled: bool
    run_info: dict[str, Any]
