"""The Evaluate tab's bridge to the core's evaluation module (runs in the engine thread)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rag_desktop.gui.engine import EvalRequest, EvalResult
from rag_desktop.progress import Cancelled, CancelToken, ProgressCallback


def default_out_dir() -> Path:
    """A fresh folder per GUI run, so a run never resumes or overwrites another."""
    from rag_desktop import config

    return config.home_dir() / "evaluations" / datetime.now().strftime("gui-%Y%m%d-%H%M%S-%f")


def run(
    request: EvalRequest, library: Any, progress: ProgressCallback, cancel: CancelToken,
    on_row: Callable[[Any], None],
) -> EvalResult:
    """Run the grid with the core (which writes the CLI's report files); rows stream to on_row.

    A cancel keeps the rows done so far: the core writes their reports before it stops.
    """
    from rag_desktop.evaluation.questions import load_questions
    from rag_desktop.evaluation.results import EvalConfig, summarize
    from rag_desktop.evaluation.run import run_evaluation

    out_dir = request.out_dir or default_out_dir()
    cfg = EvalConfig(
        library=Path(library.path), questions=load_questions(request.questions),
        models=list(request.models), out_dir=out_dir, bm25_weights=list(request.bm25_weights),
        fusions=list(request.fusions),
        k=request.k, limit=request.limit, max_tokens=request.max_tokens,
        questions_file=str(request.questions), **request.extra,
    )
    rows: list[Any] = []

    def collect(row: Any) -> None:
        rows.append(row)
        on_row(row)

    cancelled = False
    try:
        rows = run_evaluation(cfg, progress, cancel, collect)
    except Cancelled:
        cancelled = True
    info_file = out_dir / "run.json"
    info = json.loads(info_file.read_text(encoding="utf-8")) if info_file.is_file() else {}
    info["out_dir"] = str(out_dir)
    return EvalResult(rows, summarize(rows), cancelled, info)
