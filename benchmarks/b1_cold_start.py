"""B1: cold start to the first answer on an existing library, against seed 004's pipeline.

Three sides run as fresh processes, interleaved (seed, seed with saved index, app, ...), after one
unrecorded warm-up round that fills the OS file cache for all. Same PDF, same MiniLM, same GGUF,
same question, same answer length (--max-tokens).
- seed: seed 004's script as it was: it re-reads and re-embeds the PDF on every start;
- seed, saved index: the same script with its FAISS index saved once beforehand (the FAISS file
  and a JSON docstore, in a temp folder, not timed) and loaded on every start: the fair
  baseline, since it does the same work as the app (open an index, load the models, answer);
- app: re-opens a library built once beforehand (not timed).

Times are seconds since the parent launched the process: to the first answer token, to the last
token, and the process's whole wall time (including exit).

    python -m benchmarks.b1_cold_start [--quick|--full] [--pdf PDF] [--model ID]
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


def _since() -> float:
    return round(time.time() - LAUNCH, 4)


def child_app(library: Path, model_id: str, question: str, max_tokens: int) -> dict[str, Any]:
    """The app's cold start, in this (fresh) process: open_session, then one ask."""
    phases: dict[str, float] = {}
    from rag_desktop.config import GenerationSettings, set_offline
    from rag_desktop.session import open_session

    set_offline()
    phases["imports"] = _since()
    session = open_session(library, model_id, GenerationSettings(max_tokens=max_tokens),
                           use_cache=False)
    pipe = session.pipeline()
    phases["open_and_model_load"] = _since()
    if os.environ.get("BENCH_STOP_AT_RETRIEVAL"):
        hits = pipe.library.search(question).hits
        phases["retrieval"] = _since()
        session.close()
        return {"side": "app", "phases": phases, "answer": "",
                "pages": [h.chunk.page for h in hits],
                "documents_embedded": getattr(pipe.library.embedder, "documents_embedded", None),
                "completion_tokens": 0}
    first: list[float] = []

    def on_token(_piece: str) -> None:
        if not first:
            first.append(_since())

    answer = pipe.ask(question, on_token=on_token, use_cache=False)
    phases["first_token"] = first[0] if first else _since()
    phases["answer"] = _since()
    t = answer.timings
    phases["retrieval"] = round(phases["open_and_model_load"] + t.retrieval_s, 4)
    session.close()
    embedded = getattr(pipe.library.embedder, "documents_embedded", None)
    return {"side": "app", "phases": phases, "answer": answer.text,
            "pages": [s.page for s in answer.sources], "documents_embedded": embedded,
            "completion_tokens": t.completion_tokens}


def ensure_library(home: Path, pdf: Path) -> Path:
    """The app's library of `pdf` under `home`, built once (not part of any timing)."""
    from rag_desktop.config import set_offline
    from rag_desktop.library.library import Library

    set_offline()
    path = home / "libraries" / f"b1-{pdf.stem}"
    with Library.open(path) as lib:
        if not lib.documents():
            lib.add_pdf(pdf)
    return path


def _launch(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run one fresh process; its JSON result plus the wall time from launch to exit."""
    env = dict(env, BENCH_LAUNCH_T=repr(time.time()))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def measure(pdf: Path, model_id: str, question: str, max_tokens: int, n: int,
            home: Path, stop_at_retrieval: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Interleaved seed / seed with saved index / app cold starts: a warm-up round, n rounds."""
    from benchmarks.common import interleaved, offline_env
    from rag_desktop.llm.catalog import load_catalog

    env = offline_env(home)
    library = ensure_library(home, pdf)
    gguf = load_catalog().get(model_id).path
    seed_cmd = [sys.executable, "-m", "benchmarks.baseline_seed", "--pdf", str(pdf), "--model",
                str(gguf), "--question", question, "--max-tokens", str(max_tokens)]
    app_cmd = [sys.executable, "-m", "benchmarks.b1_cold_start", "--child-app", str(library),
               "--model", model_id, "--question", question, "--max-tokens", str(max_tokens)]
    with tempfile.TemporaryDirectory(prefix="b1-seed-index-") as tmp:
        saved_cmd = [*seed_cmd, "--index-dir", tmp]
        # Like the app's library, the seed's index is built once before any timing.
        _launch(saved_cmd, dict(env, BENCH_STOP_AT_RETRIEVAL="1"))
        if stop_at_retrieval:
            env["BENCH_STOP_AT_RETRIEVAL"] = "1"
        return interleaved({"seed": lambda: _launch(seed_cmd, env),
                            "seed_saved": lambda: _launch(saved_cmd, env),
                            "app": lambda: _launch(app_cmd, env)}, n)


SIDES = (("seed", "seed 004 pipeline (re-embeds)"),
         ("seed_saved", "seed 004, index saved and reloaded"),
         ("app", "app (re-opened library)"))
ROWS = (("retrieval", "launch → model loaded and passages retrieved"),
        ("first_token", "launch → first token"), ("answer", "launch → answer"),
        ("wall_s", "process wall (incl. exit)"))


def render(runs: dict[str, list[dict[str, Any]]], pdf: Path, model_id: str,
           max_tokens: int) -> tuple[str, str]:
    """(table, notes) for docs/performance.md: every side, and each seed side over the app."""
    from benchmarks.common import fmt, median, ratio, spread, table

    def col(side: str, key: str) -> list[float]:
        return [r["wall_s"] if key == "wall_s" else r["phases"].get(key, float("nan"))
                for r in runs.get(side, [])]

    sides = [(k, label) for k, label in SIDES if runs.get(k)]
    seeds = [k for k, _ in sides if k != "app"]
    rows = []
    for key, label in ROWS:
        values = {side: col(side, key) for side, _ in sides}
        if all(v != v for vals in values.values() for v in vals):  # nan: stopped before
            continue
        rows.append([label, *(spread(values[s]) for s, _ in sides),
                     *(fmt(ratio(median(values[s]), median(values["app"])), 1) + "×"
                       for s in seeds)])
    ratios = {"seed": "seed / app", "seed_saved": "seed saved index / app"}
    body = table(["s (median, min–max)", *(label for _, label in sides),
                  *(ratios[s] for s in seeds)], rows)
    phases = "\n".join(
        f"- {label} phases (s since launch, median): "
        + " → ".join(f"{k} {fmt(median(col(side, k)))}" for k in runs[side][0]["phases"])
        for side, label in sides)
    first = runs["seed"][0] if runs.get("seed") else runs[sides[0][0]][0]
    notes = (
        f"{pdf.name}: {first.get('n_pages')} pages, {first.get('chunks')} chunks; model "
        f"`{model_id}`; {max_tokens} answer tokens at most; {len(runs['app'])} interleaved runs "
        "after one warm-up. The saved index is LangChain's own FAISS files, written once before "
        "the runs (not timed), as the app's library is.\n\n"
        f"{phases}\n"
        f"- document embeddings computed by the app on start: "
        f"{runs['app'][0].get('documents_embedded')}"
    )
    return body, notes


def main(argv: list[str] | None = None) -> int:
    """Measure and write section b1 of docs/performance.md."""
    from benchmarks import common

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(ap)
    ap.add_argument("--pdf", type=Path, default=common.SAMPLE_PDF)
    ap.add_argument("--model", default=common.SMOLLM2_ID)
    ap.add_argument("--question", default=common.BENCH_QUESTION)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--home", type=Path, default=common.BUILD / "bench-home")
    ap.add_argument("--section", default="b1")
    ap.add_argument("--stop-at-retrieval", action="store_true",
                    help="end every side once the model is loaded and passages are retrieved")
    ap.add_argument("--child-app", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_app is not None:
        result = child_app(args.child_app, args.model, args.question, args.max_tokens)
        print(json.dumps(result), flush=True)
        return 0
    load = common.load_average()
    n = common.repeats(args, quick=3, full=5)
    runs = measure(args.pdf.resolve(), args.model, args.question, args.max_tokens, n,
                   args.home.resolve(), args.stop_at_retrieval)
    body, notes = render(runs, args.pdf, args.model, args.max_tokens)
    common.emit(args, args.section, f"B1. Cold start to first answer ({args.pdf.name})", body,
                load, notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
