"""What an evaluation produces: its config, its rows (results.csv) and their summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from rag_desktop.config import SCORER_MODEL
from rag_desktop.evaluation.questions import Question, expects_refusal

RowKey = tuple[str, str, str]


@dataclass(frozen=True, kw_only=True)
class EvalConfig:
    """One evaluation run. `limit` keeps the first N questions; the cache is off by default."""

    library: Path
    questions: list[Question]
    models: list[str]
    out_dir: Path
    bm25_weights: Sequence[float] = (0.3,)
    # "convex" (the default) and/or "rrf" (the specified EnsembleRetriever): docs/retrieval.md
    fusions: Sequence[str] = ("convex",)
    k: int = 4
    resume: bool = False
    use_cache: bool = False
    limit: int | None = None
    # The embedder of the answer-vs-reference cosine: multilingual by default, so that a Korean
    # answer is scored by a model that reads Korean (scoring.scorer_model: when it is absent).
    scorer_model: str = SCORER_MODEL
    max_tokens: int | None = None
    n_gpu_layers: int | None = None
    questions_file: str = ""


@dataclass(frozen=True)
class EvalRow:
    """One results.csv row: one (model, config, question); docs/evaluation.md explains each."""

    run_id: str
    started_at: str
    model_id: str
    model_file: str
    quant: str
    n_gpu_layers: int | None
    backend: str
    n_threads: int | None
    config: str
    bm25_weight: float
    k: int
    question_id: str
    question: str
    answer: str
    reference_answer: str
    cosine: float | None
    page_hit: bool | None
    first_hit_rank: int | None
    refused: bool | None
    response_time_s: float | None
    retrieval_s: float | None
    first_token_s: float | None
    generation_s: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    tokens_per_s: float | None
    cache_hit: bool
    error: str
    ref_pages: str = ""
    source_pages: str = ""
    grounded: float | None = None
    # The server read fewer prompt tokens than were sent (Answer.truncated); empty for errors.
    truncated: bool | None = None

    @property
    def key(self) -> RowKey:
        """What identifies a row within a run: (model_id, config, question_id)."""
        return (self.model_id, self.config, self.question_id)


RESULTS_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(EvalRow))
_INT = {"n_gpu_layers", "n_threads", "k", "first_hit_rank", "prompt_tokens", "completion_tokens"}
_FLOAT = {"bm25_weight", "cosine", "response_time_s", "retrieval_s", "first_token_s",
          "generation_s", "tokens_per_s", "grounded"}
_BOOL = {"page_hit", "refused", "cache_hit", "truncated"}


def row_to_csv(row: EvalRow) -> dict[str, str]:
    """Cells of a row: floats at full precision, booleans true/false, None as empty."""
    out: dict[str, str] = {}
    for name in RESULTS_COLUMNS:
        value = getattr(row, name)
        if value is None:
            out[name] = ""
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = repr(value) if isinstance(value, float) else str(value)
    return out


def row_from_csv(cells: dict[str, str]) -> EvalRow:
    """Parse a results.csv record (the inverse of row_to_csv); ValueError when malformed."""
    values: dict[str, Any] = {}
    for name in RESULTS_COLUMNS:
        cell = cells.get(name)
        if cell is None:
            raise ValueError(f"missing column {name}")
        if name in _INT | _FLOAT | _BOOL and cell == "":
            values[name] = False if name == "cache_hit" else None
        elif name in _INT:
            values[name] = int(cell)
        elif name in _FLOAT:
            values[name] = float(cell)
        elif name in _BOOL:
            if cell not in ("true", "false"):
                raise ValueError(f"{name} must be true or false, not {cell!r}")
            values[name] = cell == "true"
        else:
            values[name] = cell
    return EvalRow(**values)


@dataclass(frozen=True)
class SummaryRow:
    """One summary.csv row: one (model, config); statistics over the rows without an error."""

    model_id: str
    config: str
    bm25_weight: float
    k: int
    n: int
    errors: int
    response_time_mean_s: float | None
    response_time_median_s: float | None
    response_time_p95_s: float | None
    tokens_per_s_mean: float | None
    cosine_mean: float | None
    page_hit_rate: float | None
    refusal_accuracy: float | None
    cache_hits: int = 0
    grounded_mean: float | None = None


SUMMARY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(SummaryRow))


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def summarize(rows: list[EvalRow]) -> list[SummaryRow]:
    """One SummaryRow per (model, config), in the order they first appear in `rows`.

    Timing and score statistics skip rows with an error; p95 is numpy's linear percentile.
    refusal_accuracy is the share of rows that refused exactly when the reference is
    NOT_IN_DOCUMENT; grounded_mean is the mean grounded share of the rows that have one.
    """
    groups: dict[tuple[str, str], list[EvalRow]] = {}
    for row in rows:
        groups.setdefault((row.model_id, row.config), []).append(row)
    out = []
    for (model_id, config), group in groups.items():
        ok = [r for r in group if not r.error]
        times = [r.response_time_s for r in ok if r.response_time_s is not None]
        hits = [r.page_hit for r in ok if r.page_hit is not None]
        refusals = [r.refused == expects_refusal(r.reference_answer) for r in ok
                    if r.refused is not None]
        out.append(SummaryRow(
            model_id=model_id, config=config, bm25_weight=group[0].bm25_weight, k=group[0].k,
            n=len(group), errors=len(group) - len(ok),
            response_time_mean_s=_mean(times),
            response_time_median_s=float(np.median(times)) if times else None,
            response_time_p95_s=float(np.percentile(times, 95)) if times else None,
            tokens_per_s_mean=_mean([r.tokens_per_s for r in ok if r.tokens_per_s is not None]),
            cosine_mean=_mean([r.cosine for r in ok if r.cosine is not None]),
            page_hit_rate=_mean([float(h) for h in hits]),
            refusal_accuracy=_mean([float(c) for c in refusals]),
            cache_hits=sum(1 for r in ok if r.cache_hit),
            grounded_mean=_mean([r.grounded for r in ok if r.grounded is not None]),
        ))
    return out
