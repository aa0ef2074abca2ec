"""The evaluations the GUI saved, found again after a restart (plain Python, engine thread).

Each GUI run writes results.csv, summary.csv and run.json into its own
config.home_dir()/"evaluations"/gui-<timestamp>/ folder; the Evaluate tab shows the newest
one on the next start instead of an empty table.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag_desktop.gui.messages import EvalResult

log = logging.getLogger(__name__)
PREFIX = "gui-"


def evaluations_dir() -> Path:
    """Where the GUI's runs are saved."""
    from rag_desktop import config

    return config.home_dir() / "evaluations"


def saved_runs(root: Path | None = None) -> list[Path]:
    """The GUI's run folders that hold a results.csv, newest first (names are timestamps)."""
    root = root or evaluations_dir()
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(PREFIX)
            and (p / "results.csv").is_file()]
    return sorted(runs, key=lambda p: p.name, reverse=True)


def load_run(folder: Path) -> EvalResult:
    """One saved run as the Evaluate tab shows it (EvalError when results.csv is not ours)."""
    from rag_desktop.evaluation.reports import read_results
    from rag_desktop.evaluation.results import summarize
    from rag_desktop.gui.messages import EvalResult

    rows = read_results(folder / "results.csv")
    info_file = folder / "run.json"
    info = json.loads(info_file.read_text(encoding="utf-8")) if info_file.is_file() else {}
    info = info if isinstance(info, dict) else {}
    info["out_dir"] = str(folder)
    return EvalResult(rows, summarize(rows), False, info)


def latest_run(root: Path | None = None) -> EvalResult | None:
    """The newest saved run that can be read; unreadable ones are skipped (and logged)."""
    for folder in saved_runs(root):
        try:
            result = load_run(folder)
        except Exception:  # a damaged or foreign folder must not hide the older runs
            log.warning("cannot reload the evaluation in %s", folder, exc_info=True)
            continue
        if result.rows:
            return result
    return None
