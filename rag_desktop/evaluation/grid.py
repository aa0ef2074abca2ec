"""The evaluation grid's settings: what a run compares, how each setting is labelled, and checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from rag_desktop.evaluation.questions import Question
    from rag_desktop.evaluation.results import EvalConfig


class EvalError(ValueError):
    """An evaluation that cannot start as asked; the message says what to change."""


class Setting(NamedTuple):
    """One retriever setting of the grid: the fusion and the BM25 weight."""

    fusion: str
    weight: float


def config_label(bm25_weight: float, fusion: str = "convex") -> str:
    """Seed 004's label of a retriever setting: 0.3 -> 'bm25-0.3_f-0.7' (f: the dense weight);
    the specified rank fusion is prefixed: 'rrf-bm25-0.3_f-0.7'."""
    label = f"bm25-{round(bm25_weight, 6):g}_f-{round(1.0 - bm25_weight, 6):g}"
    return label if fusion == "convex" else f"{fusion}-{label}"


def validate(cfg: EvalConfig) -> list[Question]:
    """The questions to run; EvalError for settings that cannot work."""
    if not cfg.models:
        raise EvalError("no models to evaluate; pass --models ID[,ID...]")
    if not cfg.bm25_weights:
        raise EvalError("no BM25 weights; pass --bm25-weights 0.3[,0.5...]")
    bad = [w for w in cfg.bm25_weights if not 0.0 <= w <= 1.0]
    if bad:
        raise EvalError(f"BM25 weights must be within 0..1, not {bad[0]}")
    if cfg.k < 1:
        raise EvalError(f"-k must be at least 1, not {cfg.k}")
    if cfg.limit is not None and cfg.limit < 1:
        raise EvalError(f"--limit must be at least 1, not {cfg.limit}")
    if len(set(cfg.bm25_weights)) != len(cfg.bm25_weights) or not cfg.fusions or \
            set(cfg.fusions) - {"convex", "rrf"} or len(set(cfg.fusions)) != len(cfg.fusions):
        raise EvalError("the BM25 weights or fusions repeat a value, or a fusion is not "
                        "'convex' or 'rrf'")
    questions = list(cfg.questions[: cfg.limit] if cfg.limit else cfg.questions)
    if not questions:
        raise EvalError("the question set is empty")
    return questions


def plan(cfg: EvalConfig, questions: list[Question]) -> list[tuple[str, Setting, Question]]:
    """Every (model, setting, question) of the grid, model-major so each loads once.

    The questions keep their file order within each (model, setting), so the turns of a dialogue
    (Question.follow_up_of) are asked in order, each after the turn it follows.
    """
    return [(m, Setting(f, w), q) for m in cfg.models for f in cfg.fusions
            for w in cfg.bm25_weights for q in questions]
