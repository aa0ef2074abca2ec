"""B1 (GUI): a restart of the desktop app until it is usable, against the CLI opening the same.

Both sides run as fresh processes, interleaved (GUI, CLI, GUI, ...), after one unrecorded
warm-up round, on the sample library in a temporary RAG_DESKTOP_HOME (built once beforehand by a
first start of the app, not timed), with the default model.
- GUI: `python -m rag_desktop` offscreen (QT_QPA_PLATFORM=offscreen). RAG_DESKTOP_STARTUP_LOG
  makes it append its milestones as JSON lines (rag_desktop/gui/app.py, StartupLog) and
  RAG_DESKTOP_QUIT_WHEN_READY=1 makes it close once usable: window shown, library open, model
  loaded, and usable (the start's jobs done, Ask enabled).
- CLI: what `rag-desktop ask` does before its question: `open_session` (the library opened
  and its search indexes read while the runner loads the model).

Neither side counts the query embedder's first load (USE: its tokenizer and weights, ~1.3 s on a
quiet 2-core machine): the CLI loads it at its first search, the GUI right after it is usable.
Times are seconds since the parent launched the process.

    python -m benchmarks.gui_start [--quick|--full] [--repeats N] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LAUNCH = float(os.environ.get("BENCH_LAUNCH_T") or time.time())
MILESTONES = (("window_shown", "launch → window shown"),
              ("library_open", "launch → library open"),
              ("model_loaded", "launch → model loaded"),
              ("usable", "launch → usable (library open, model loaded, Ask enabled)"),
              ("wall_s", "process wall (incl. exit)"))


def child_cli(library: Path) -> dict[str, Any]:
    """The CLI's start, in this (fresh) process: open_session on the library, default model."""
    phases: dict[str, float] = {}
    from rag_desktop.config import DEFAULT_MODEL_ID, set_offline
    from rag_desktop.session import open_session

    set_offline()
    phases["imports"] = round(time.time() - LAUNCH, 4)
    session = open_session(library, DEFAULT_MODEL_ID, use_cache=False)
    phases["usable"] = round(time.time() - LAUNCH, 4)
    session.close()
    return {"side": "cli", "phases": phases}


def _env(home: Path, log: Path | None = None) -> dict[str, str]:
    from benchmarks.common import offline_env

    env = dict(offline_env(home), QT_QPA_PLATFORM="offscreen")
    if log is not None:
        env.update(RAG_DESKTOP_STARTUP_LOG=str(log), RAG_DESKTOP_QUIT_WHEN_READY="1")
    return env


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[float, float, str]:
    """Run one fresh process to its end: (its launch time, its wall time, its stdout)."""
    launch = time.time()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=dict(env, BENCH_LAUNCH_T=repr(launch)), capture_output=True,
                          text=True, check=False, timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return launch, wall, proc.stdout


def launch_gui(home: Path, timeout: float = 600.0) -> dict[str, Any]:
    """One start of the app until usable; its milestones in seconds since launch."""
    with tempfile.TemporaryDirectory(prefix="gui-start-") as tmp:
        log = Path(tmp) / "startup.jsonl"
        load = os.getloadavg()[0]
        launch, wall, _ = _run([sys.executable, "-m", "rag_desktop"], _env(home, log), timeout)
        events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    phases: dict[str, float] = {}
    for event in events:
        phases.setdefault(event["event"], round(event["at"] - launch, 4))
    if "usable" not in phases:
        raise RuntimeError(f"the app never became usable: {events}")
    return {"side": "gui", "phases": phases, "wall_s": wall, "load_1m": load}


def launch_cli(home: Path, library: Path, timeout: float = 600.0) -> dict[str, Any]:
    """One CLI start (open_session) in a fresh process."""
    load = os.getloadavg()[0]
    cmd = [sys.executable, "-m", "benchmarks.gui_start", "--child-cli", str(library)]
    _, wall, out = _run(cmd, _env(home), timeout)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result.update(wall_s=wall, load_1m=load)
    return result


def measure(home: Path, n: int) -> dict[str, list[dict[str, Any]]]:
    """The sample library built by a first start (not timed), then interleaved rounds."""
    from benchmarks.common import interleaved

    launch_gui(home)  # the first start ingests the sample manual: the "existing library"
    library = home / "libraries" / "sample"
    if not (library / "manifest.json").is_file():
        raise RuntimeError(f"the first start did not build {library}")
    return interleaved({"gui": lambda: launch_gui(home),
                        "cli": lambda: launch_cli(home, library)}, n)


def _col(runs: list[dict[str, Any]], key: str) -> list[float]:
    return [r["wall_s"] if key == "wall_s" else r["phases"].get(key, float("nan")) for r in runs]


def render(runs: dict[str, list[dict[str, Any]]]) -> tuple[str, str]:
    """(table, notes) for docs/performance.md."""
    from benchmarks.common import fmt, median, ratio, spread, table
    from rag_desktop.config import DEFAULT_MODEL_ID

    rows = []
    for key, label in MILESTONES:
        gui, cli = _col(runs["gui"], key), _col(runs["cli"], key)
        has_cli = key in ("usable", "wall_s")
        rows.append([label, spread(gui), spread(cli) if has_cli else "—",
                     fmt(ratio(median(gui), median(cli)), 2) + "×" if has_cli else ""])
    body = table(["s (median, min–max)", "GUI (`python -m rag_desktop`, offscreen)",
                  "CLI (`open_session`)", "GUI / CLI"], rows)
    loads = [r["load_1m"] for side in runs.values() for r in side]
    jobs = ", ".join(f"{k} {fmt(median(_col(runs['gui'], k)))}"
                     for k in runs["gui"][0]["phases"] if k.startswith(("main", "window_")))
    notes = (
        f"Sample library (73 pages), model `{DEFAULT_MODEL_ID}` (the default); "
        f"{len(runs['gui'])} interleaved runs after one warm-up; 1-minute load average at the "
        f"launches {min(loads):.2f}–{max(loads):.2f}. \"Usable\" is the app's own StartupLog "
        "milestone; the CLI column is `open_session` returning. Neither side counts the query "
        "embedder's first load: the GUI does it right after it is usable, the CLI at its "
        "first search.\n\n"
        f"- GUI main thread (s since launch, median): {jobs}"
    )
    return body, notes


def main(argv: list[str] | None = None) -> int:
    """Measure and write section b1-gui of docs/performance.md."""
    from benchmarks import common

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(ap)
    ap.add_argument("--home", type=Path, default=None,
                    help="RAG_DESKTOP_HOME to use (default: a fresh temporary one)")
    ap.add_argument("--section", default="b1-gui")
    ap.add_argument("--child-cli", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_cli is not None:
        print(json.dumps(child_cli(args.child_cli)), flush=True)
        return 0
    load = common.load_average()
    n = common.repeats(args, quick=5, full=9)
    with tempfile.TemporaryDirectory(prefix="gui-start-home-") as tmp:
        runs = measure((args.home or Path(tmp)).resolve(), n)
    body, notes = render(runs)
    common.emit(args, args.section, "B1 (GUI). Restart until usable (sample-manual.pdf)", body,
                load, notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
