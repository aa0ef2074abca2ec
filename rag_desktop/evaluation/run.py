"""Run an evaluation grid: models x retriever settings x questions, scored, one row at a time.

It runs on a Session: the models are loaded one after another into the session's one runner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rag_desktop.evaluation import scoring
from rag_desktop.evaluation.grid import EvalError, Setting, config_label, plan, validate
from rag_desktop.evaluation.questions import Question, dialogue
from rag_desktop.evaluation.results import EvalConfig, EvalRow, SummaryRow, summarize
from rag_desktop.progress import Cancelled, CancelToken, ProgressCallback, ProgressEvent

if TYPE_CHECKING:
    from rag_desktop.answer import Answer
    from rag_desktop.chat.turns import Turn
    from rag_desktop.library.embeddings import Embedder
    from rag_desktop.library.library import Library
    from rag_desktop.llm.client import ModelInfo
    from rag_desktop.pipeline import Pipeline
    from rag_desktop.session import Session

__all__ = ["EvalConfig", "EvalError", "EvalRow", "SummaryRow", "run_evaluation", "summarize"]


@dataclass
class _Run:
    """What every row of the run shares."""

    run_id: str
    started_at: str
    k: int
    model_file: dict[str, str] = field(default_factory=dict)


class _Grader:
    """Asks and scores on a session: its runner, catalog and scorer; models loaded one at a time."""

    def __init__(self, cfg: EvalConfig, run: _Run, session: Session) -> None:
        from dataclasses import replace

        from rag_desktop import config

        for model_id in cfg.models:
            run.model_file[model_id] = session.catalog.get(model_id).file  # unknown ids first
        gen = config.GenerationSettings()
        gen = replace(gen, max_tokens=cfg.max_tokens or gen.max_tokens,
                      n_gpu_layers=cfg.n_gpu_layers)
        retrieval = replace(config.RetrievalSettings(), k=cfg.k)
        self._own_library = _borrowed_library(session, cfg) is None
        library = _borrowed_library(session, cfg) or _open_library(cfg)
        self.pipe: Pipeline = session.pipeline(retrieval, gen, library, use_cache=cfg.use_cache)
        self.scorer: Embedder = session.scorer(cfg.scorer_model)
        self.cfg, self.run = cfg, run
        self.load_error: dict[str, str] = {}
        # Dialogues (docs/evaluation.md, follow_up_of): the turns a later turn follows, kept
        # per model and setting so that each follow-up is asked with its conversation so far.
        self.questions = list(cfg.questions)
        self._followed = {q.follow_up_of for q in self.questions if q.follow_up_of}
        self._turns: dict[tuple[str, Setting, str], Turn] = {}

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
            answer = self._ask(model_id, weight, q, cancel).answer
        except Exception as exc:
            if cancel.cancelled:
                raise Cancelled("cancelled by the user") from exc
            self.load_error.pop(model_id, None)  # a crashed runner is reloaded for the next one
            return self._error_row(model_id, weight, q, info, f"{type(exc).__name__}: {exc}")
        if cancel.cancelled:
            raise Cancelled("cancelled by the user")
        return self._scored_row(model_id, weight, q, answer)

    def _ask(self, model_id: str, weight: Setting, q: Question, cancel: CancelToken) -> Turn:
        """Ask `q` as the next turn of its dialogue (a lone question has none before it), with
        the default follow-up strategy; keep the turn if a later turn follows it."""
        history = [self._earlier(model_id, weight, p, cancel)
                   for p in dialogue(self.questions, q)]
        turn = self.pipe.ask_turn(q.question, history, cancel=cancel, k=self.cfg.k,
                                  bm25_weight=weight.weight, fusion=weight.fusion,
                                  use_cache=self.cfg.use_cache)
        if q.id in self._followed:
            self._turns[(model_id, weight, q.id)] = turn
        return turn

    def _earlier(self, model_id: str, weight: Setting, p: Question, cancel: CancelToken) -> Turn:
        """An earlier turn as asked in this run; a resumed run asks it again (no row)."""
        turn = self._turns.get((model_id, weight, p.id))
        return turn if turn is not None else self._ask(model_id, weight, p, cancel)

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
            source_pages=";".join(map(str, pages)), truncated=answer.truncated,
        )

    def close(self) -> None:
        """Close the library if the evaluation opened it; the session's parts stay open."""
        if self._own_library:
            self.pipe.library.close()


def _borrowed_library(session: Session, cfg: EvalConfig) -> Library | None:
    """The session's library when the evaluation is of that one (the GUI's case), else None."""
    lib = session.library
    if lib is not None and lib.path.resolve() == cfg.library.expanduser().resolve():
        return lib
    return None


def _open_library(cfg: EvalConfig) -> Library:
    from rag_desktop.library.library import Library

    return Library.open(cfg.library, create=False)


def run_evaluation(
    cfg: EvalConfig, progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None, on_row: Callable[[EvalRow], None] | None = None,
    session: Session | None = None,
) -> list[EvalRow]:
    """Run the grid, appending each row to results.csv atomically; then write every report.

    With a `session` (the GUI's), its runner is reused and the model it had loaded is loaded
    again at the end; without one, a session is made for the run and closed after it.
    With cfg.resume, rows already in results.csv are kept and not redone. A cancel stops the
    answer in progress and drops it (a half answer is never written), writes the reports for
    the rows so far, and raises Cancelled. Returns every row of the run, resumed included.
    """
    from rag_desktop.evaluation import reports

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
    own_session = session is None
    if session is None:
        from rag_desktop.session import Session

        session = Session.create(use_cache=cfg.use_cache)
    try:
        with session.keeping_model():
            _grade(cfg, run, session, todo, writer, len(grid), progress, cancel, on_row)
    finally:
        if own_session:
            session.close()
    return writer.rows


def _grade(cfg: EvalConfig, run: _Run, session: Session,
           todo: list[tuple[str, Setting, Question]], writer: Any, total: int,
           progress: ProgressCallback | None, cancel: CancelToken,
           on_row: Callable[[EvalRow], None] | None) -> str:
    """Drive the grid on a grader; the reports are written whether it completes or not."""
    from rag_desktop.evaluation import reports

    grader = _Grader(cfg, run, session)
    info = reports.run_info(cfg, grader.pipe.library, run.run_id, run.started_at, total)
    status = "cancelled"
    try:
        _drive(grader, todo, writer, total, progress, cancel, on_row)
        status = "complete"
    finally:
        grader.close()
        info["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        info["status"] = status
        reports.write_reports(cfg.out_dir, writer.rows, info)
    return status


def _drive(grader: _Grader, todo: list[tuple[str, Setting, Question]], writer: Any,
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
            grader.ensure_model(model_id)
            loaded = model_id
        row = grader.row(model_id, weight, q, cancel)
        writer.append(row)
        done += 1
        if on_row is not None:
            on_row(row)
        report(f"{model_id} {row.config} {q.id}")
