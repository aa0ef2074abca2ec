"""B5: peak RSS while ingesting a large manual, and during `ask` with each available model.

Every measurement is a fresh process, so the peaks are not mixed up with earlier work:
- ingest: `Library.add_pdf(PDF)` into a new library; peak = the process's ru_maxrss;
- ask: `open_session` + one `ask` on the sample library; the app process's ru_maxrss, the
  runner child's ru_maxrss (RUSAGE_CHILDREN once it has exited), and the peak of their sum
  sampled every 20 ms with psutil (the figure a user sees in a task manager).
The seed pipeline (benchmarks.baseline_seed: everything in one process) is measured beside the
app's ask with the default model, on the same PDF.

    python -m benchmarks.b5_memory [--quick|--full] [--pdf BIG.pdf]

--full ingests a >1,000-page manual: build/manuals/.../cplusplus.pdf (1,151 pages) when it was
fetched with `apt-get download c++-annotations-pdf` (../shared/README.md), or --pdf.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


def _maxrss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


class TreeSampler:
    """Samples the RSS of this process plus its children every `interval` s; keeps the peak."""

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self.me, self.interval, self.peak = psutil.Process(), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            try:
                total = self.me.memory_info().rss
                for child in self.me.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        total += child.memory_info().rss
            except psutil.Error:
                pass
            self.peak = max(self.peak, total)
            time.sleep(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def child_ingest(pdf: Path, library: Path) -> dict[str, Any]:
    """Ingest `pdf` into a new library at `library` in this process."""
    from rag_desktop.config import set_offline
    from rag_desktop.library.library import Library

    set_offline()
    t0 = time.perf_counter()
    with Library.open(library) as lib:
        result = lib.add_pdf(pdf)
    return {"pages": result.document.pages, "chunks": result.document.chunks,
            "seconds": time.perf_counter() - t0, "peak_rss_mib": _maxrss_mib(resource.RUSAGE_SELF)}


def child_ask(library: Path, model_id: str, question: str, max_tokens: int) -> dict[str, Any]:
    """open_session + one ask in this process; app, runner and combined peaks."""
    from rag_desktop.config import GenerationSettings, set_offline
    from rag_desktop.session import open_session

    set_offline()
    with TreeSampler() as sampler:
        session = open_session(library, model_id, GenerationSettings(max_tokens=max_tokens),
                               use_cache=False)
        answer = session.pipeline().ask(question, use_cache=False)
        session.close()  # the runner exits, so RUSAGE_CHILDREN now holds its peak
    return {"app_mib": _maxrss_mib(resource.RUSAGE_SELF),
            "runner_mib": _maxrss_mib(resource.RUSAGE_CHILDREN),
            "sum_peak_mib": sampler.peak / 2**20, "tokens": answer.timings.completion_tokens}


def child_seed(pdf: Path, gguf: Path, question: str, max_tokens: int) -> dict[str, Any]:
    """The seed pipeline's build + one ask, in this process."""
    from benchmarks.baseline_seed import SeedPipeline

    seed = SeedPipeline(pdf, gguf, max_tokens)
    seed.build()
    seed.ask(question)
    return {"app_mib": _maxrss_mib(resource.RUSAGE_SELF), "runner_mib": 0.0,
            "sum_peak_mib": _maxrss_mib(resource.RUSAGE_SELF), "tokens": 0}


def _run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.b5_memory", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed: {proc.stderr[-1500:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def big_manual() -> Path | None:
    """A >1,000-page manual fetched under build/manuals, if any."""
    from benchmarks import common

    for name in ("cplusplus.pdf", "fullrefman.pdf", "refman.pdf"):
        found = sorted((common.BUILD / "manuals").rglob(name))
        if found:
            return found[0]
    return None


def arch_models(home: Path) -> list[str]:
    """Link the build/arch Q-quantized GGUFs into the bench home's models folder; their ids."""
    from benchmarks import common

    models = home / "models"
    models.mkdir(parents=True, exist_ok=True)
    ids = []
    for src in (common.TINYLLAMA_ARCH, common.MISTRAL_ARCH):
        if src.is_file():
            link = models / src.name
            if not link.exists():
                link.symlink_to(src)
            ids.append(src.stem.lower())
    return ids


def main(argv: list[str] | None = None) -> int:
    """Measure and write section b5 of docs/performance.md."""
    from benchmarks import common

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(ap)
    ap.add_argument("--pdf", type=Path, default=None, help="the manual to ingest")
    ap.add_argument("--models", default=None, help="comma-separated model ids")
    ap.add_argument("--home", type=Path, default=common.BUILD / "bench-home")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--seed-until-retrieval", action="store_true",
                    help="stop the seed once its index and model are built (no generation)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "ingest":
            out = child_ingest(Path(rest[0]), Path(rest[1]))
        elif kind == "ask":
            out = child_ask(Path(rest[0]), rest[1], common.BENCH_QUESTION, args.max_tokens)
        else:
            out = child_seed(Path(rest[0]), Path(rest[1]), common.BENCH_QUESTION, args.max_tokens)
        print(json.dumps(out), flush=True)
        return 0

    load = common.load_average()
    home = args.home.resolve()
    env = common.offline_env(home)
    pdf = args.pdf or (big_manual() if args.full else None) or common.SAMPLE_PDF
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="b5-", dir=home.parent))
    try:
        ingest = _run_child(["--child", "ingest", str(pdf), str(work / "lib")], env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    from benchmarks.b1_cold_start import ensure_library
    from rag_desktop.llm.catalog import load_catalog

    library = ensure_library(home, common.SAMPLE_PDF)
    ids = (args.models.split(",") if args.models
           else [common.SMOLLM2_ID, "gemma3-270m-q4_k_m", *arch_models(home)])
    if not args.full and not args.models:
        ids = ids[:1] + [i for i in ids if i.startswith("tinyllama")]
    os.environ["RAG_DESKTOP_HOME"] = str(home)
    catalog = load_catalog()
    rows = []
    for model_id in ids:
        try:
            r = _run_child(["--child", "ask", str(library), model_id,
                            "--max-tokens", str(args.max_tokens)], env)
        except RuntimeError as exc:
            print(f"b5: {model_id}: {exc}", file=sys.stderr)
            continue
        entry = catalog.get(model_id)
        size = entry.path.stat().st_size / 2**20 if entry.path and entry.path.exists() else 0
        rows.append([f"app ask, `{model_id}`", common.fmt(size, 0), common.fmt(r["app_mib"], 0),
                     common.fmt(r["runner_mib"], 0), common.fmt(r["sum_peak_mib"], 0)])
    gguf = catalog.get(common.SMOLLM2_ID).path
    # The seed's peak comes with its embeddings and its model, both in place at retrieval.
    s = _run_child(["--child", "seed", str(common.SAMPLE_PDF), str(gguf),
                    "--max-tokens", str(args.max_tokens)],
                   dict(env, BENCH_STOP_AT_RETRIEVAL="1") if args.seed_until_retrieval else env)
    rows.append([f"seed 004 pipeline (one process), `{common.SMOLLM2_ID}`"
                 + (", until retrieval" if args.seed_until_retrieval else ""),
                 common.fmt(gguf.stat().st_size / 2**20, 0), common.fmt(s["app_mib"], 0), "—",
                 common.fmt(s["sum_peak_mib"], 0)])
    body = (
        f"Ingest {pdf.name} ({ingest['pages']:,} pages, {ingest['chunks']:,} chunks) into a new "
        f"library: peak RSS **{common.fmt(ingest['peak_rss_mib'], 0)} MiB**, "
        f"{common.fmt(ingest['seconds'], 1)} s "
        f"({common.fmt(ingest['pages'] / ingest['seconds'], 1)} pages/s).\n\n"
        + common.table(["ask on the sample library", "GGUF MiB", "app peak RSS MiB",
                        "runner peak RSS MiB", "app + runner peak (sampled) MiB"], rows))
    common.emit(args, "b5", "B5. Memory", body, load,
                notes="One fresh process per row; ru_maxrss for each process, psutil sampling "
                      "every 20 ms for the sum. The app and runner peaks need not coincide, so "
                      "the sampled sum is below their total.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
