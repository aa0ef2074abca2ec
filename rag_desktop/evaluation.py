"""The evaluation grid: models x retriever settings x questions, scored, one row at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag_desktop import scoring
from rag_desktop.config import SCORER_MODEL
from rag_desktop.eval_grid import EvalError, Setting, config_label, plan, validate
from rag_desktop.progress import Cancelled, CancelToken, ProgressCallback, ProgressEvent
from rag_desktop.questions import Question, expects_refusal

if TYPE_CHECKING:
    from rag_desktop.embeddings import Embedder
    from rag_desktop.llm import ModelInfo
    from rag_desktop.pipeline import Answer, Pipeline

__all__ = ["RESULTS_COLUMNS", "SUMMARY_COLUMNS", "EvalConfig", "EvalError", "EvalRow", "Setting",
           "SummaryRow", "config_label", "plan", "run_evaluation", "summarize"]

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

    @property
    def key(self) -> RowKey:
        """What identifies a row within a run: (model_id, config, question_id)."""
        return (self.model_id, self.config, self.question_id)


RESULTS_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(EvalRow))
_INT = {"n_gpu_layers", "n_threads", "k", "first_hit_rank", "prompt_tokens", "completion_tokens"}
_FLOAT = {"bm25_weight", "cosine", "response_time_s", "retrieval_s", "first_token_s",
          "generation_s", "tokens_per_s", "grounded"}
_BOOL = {"page_hit", "refused", "cache_hit"}


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


@dataclass
class _Run:
    """What every row of the run shares."""

    run_id: str
    started_at: str
    k: int
    model_file: dict[str, str] = field(default_factory=dict)


class _Session:
    """One library, one scorer and one pipeline; models loaded one at a time."""

    def __init__(self, cfg: EvalConfig, run: _Run) -> None:
        from dataclasses import replace

        from rag_desktop import config
        from rag_desktop.cache import AnswerCache
        from rag_desktop.catalog import load_catalog
        from rag_desktop.embeddings import get_embedder
        from rag_desktop.library import Library
        from rag_desktop.llm import LLM
        from rag_desktop.pipeline import Pipeline

        catalog = load_catalog()
        for model_id in cfg.models:
            run.model_file[model_id] = catalog.get(model_id).file  # unknown ids fail first
        gen = config.GenerationSettings()
        gen = replace(gen, max_tokens=cfg.max_tokens or gen.max_tokens,
                      n_gpu_layers=cfg.n_gpu_layers)
        retrieval = replace(config.RetrievalSettings(), k=cfg.k)
        library = Library.open(cfg.library, create=False)
        cache = AnswerCache(config.home_dir() / "answer-cache.sqlite") if cfg.use_cache else None
        self.pipe: Pipeline = Pipeline(library, LLM(), catalog, retrieval, gen, cache)
        self.scorer: Embedder = get_embedder(scoring.scorer_model(cfg.scorer_model))
        self.cfg, self.run = cfg, run
        self.load_error: dict[str, str] = {}

    def ensure_model(self, model_id: str) -> ModelInfo | None:
        """The loaded model, loading it if needed; None (and load_error set) if it cannot load."""
        info = self.pipe.llm.info
        if info is not None and info.id == model_id:
            return info
        if model_id in self.load_error:
            return None
        try:
            return self.pipe.load_model(model_id)
        except Exception as exc:  # a broken model costs its rows, not the run
            self.load_error[model_id] = f"model load failed: {exc}"
            return None

    def row(self, model_id: str, weight: Setting, q: Question, cancel: CancelToken) -> EvalRow:
        """Ask, score and build the row; raises Cancelled instead of writing a half answer."""
        info = self.ensure_model(model_id)
        if info is None:
            return self._error_row(model_id, weight, q, None, self.load_error[model_id])
        try:
            answer = self.pipe.ask(q.question, cancel=cancel, k=self.cfg.k,
                                   bm25_weight=weight.weight, fusion=weight.fusion,
                                   use_cache=self.cfg.use_cache)
        except Exception as exc:
            if cancel.cancelled:
                raise Cancelled("cancelled by the user") from exc
            self.load_error.pop(model_id, None)  # a crashed runner is reloaded for the next one
            return self._error_row(model_id, weight, q, info, f"{type(exc).__name__}: {exc}")
        if cancel.cancelled:
            raise Cancelled("cancelled by the user")
        return self._scored_row(model_id, weight, q, answer)

    def _base(self, model_id: str, weight: Setting, q: Question,
              info: ModelInfo | None) -> dict[str, Any]:
        return dict(
            run_id=self.run.run_id, started_at=self.run.started_at, model_id=model_id,
            model_file=info.file if info else self.run.model_file.get(model_id, ""),
            quant=info.quant if info else "", n_gpu_layers=info.n_gpu_layers if info else None,
            backend=info.backend if info else "", n_threads=info.n_threads if info else None,
            config=config_label(weight.weight, weight.fusion), bm25_weight=float(weight.weight),
            k=self.run.k,
            question_id=q.id, question=q.question, reference_answer=q.reference_answer,
            ref_pages=";".join(map(str, q.pages)),
        )

    def _error_row(self, model_id: str, weight: Setting, q: Question, info: ModelInfo | None,
                   error: str) -> EvalRow:
        nothing: dict[str, Any] = dict.fromkeys(("cosine", "page_hit", "first_hit_rank", "refused",
                                 "response_time_s", "retrieval_s", "first_token_s",
                                 "generation_s", "prompt_tokens", "completion_tokens",
                                 "tokens_per_s"))
        return EvalRow(**self._base(model_id, weight, q, info), **nothing, answer="",
                       cache_hit=False, error=" ".join(error.split()) or "error")

    def _scored_row(self, model_id: str, weight: Setting, q: Question, answer: Answer) -> EvalRow:
        t = answer.timings
        pages = [s.page for s in answer.sources]
        hit, rank = scoring.page_hit(q.pages, pages) if q.pages else (None, None)
        cos = None if q.expects_refusal else scoring.cosine(self.scorer, answer.text,
                                                            q.reference_answer)
        return EvalRow(
            **self._base(model_id, weight, q, answer.model), answer=answer.text, cosine=cos,
            page_hit=hit, first_hit_rank=rank,
            refused=answer.is_refused, grounded=answer.grounded,
            response_time_s=t.total_s, retrieval_s=t.retrieval_s,
            first_token_s=t.first_token_s, generation_s=t.generation_s,
            prompt_tokens=t.prompt_tokens, completion_tokens=t.completion_tokens,
            tokens_per_s=t.tokens_per_s, cache_hit=answer.cache_hit, error="",
            source_pages=";".join(map(str, pages)),
        )

    def close(self) -> None:
        """Stop the runner and close the library (and cache)."""
        self.pipe.close()


def run_evaluation(
    cfg: EvalConfig, progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None, on_row: Callable[[EvalRow], None] | None = None,
) -> list[EvalRow]:
    """Run the grid, appending each row to results.csv atomically; then write every report.

    With cfg.resume, rows already in results.csv are kept and not redone. A cancel stops the
    answer in progress and drops it (a half answer is never written), writes the reports for
    the rows so far, and raises Cancelled. Returns every row of the run, resumed included.
    """
    from rag_desktop import reports

    cancel = cancel or CancelToken()
    questions = validate(cfg)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    writer = reports.ResultsWriter(cfg.out_dir / "results.csv", resume=cfg.resume)
    writer.check_compatible(cfg.k)
    run_id, started_at = writer.run_identity() or reports.new_run_id()
    run = _Run(run_id, started_at, cfg.k)
    grid = plan(cfg, questions)
    done = writer.keys()
    todo = [item for item in grid if (item[0], config_label(*item[1][::-1]), item[2].id)
            not in done]
    session = _Session(cfg, run)
    info = reports.run_info(cfg, session.pipe.library, run_id, started_at, len(grid))
    status = "cancelled"
    try:
        _drive(session, todo, writer, len(grid), progress, cancel, on_row)
        status = "complete"
    finally:
        session.close()
        info["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        info["status"] = status
        reports.write_reports(cfg.out_dir, writer.rows, info)
    return writer.rows


def _drive(session: _Session, todo: list[tuple[str, Setting, Question]], writer: Any,
           total: int, progress: ProgressCallback | None, cancel: CancelToken,
           on_row: Callable[[EvalRow], None] | None) -> None:
    """Ask every pending item in order; report each flushed row."""
    done = total - len(todo)

    def report(message: str) -> None:
        if progress is not None:
            progress(ProgressEvent("eval", done, total, message))

    report("resuming" if done else "starting")
    loaded = None
    for model_id, weight, q in todo:
        cancel.raise_if_cancelled()
        if model_id != loaded:
            report(f"loading {model_id}")
            session.ensure_model(model_id)
            loaded = model_id
        row = session.row(model_id, weight, q, cancel)
        writer.append(row)
        done += 1
        if on_row is not None:
            on_row(row)
        report(f"{model_id} {row.config} {q.id}")
