"""Markdown table of run_gpu_interleaved.sh: the app against raw, over alternating processes.

    python -m benchmarks.gpu.interleaved_table RESULTS_DIR

RESULTS_DIR holds raw-ARCH-I.json (benchmarks.raw_llama) and app-ARCH-I.json
(benchmarks.gpu.app_llm_bench), I = 1..PROCS, and optionally breakdown-ARCH.json.
Every measured round of every process is pooled; each process's median is listed too, since the
spread between processes is what one process a side cannot show.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

LABELS = {"tinyllama": "TinyLlama-arch Q5_K_M", "mistral": "Mistral-7B-arch Q2_K"}


def _load(paths: list[Path]) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in paths]


def _cell(values: list[float], fmt: str = ".1f") -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def _per_process(runs: list[list[float]]) -> str:
    return ", ".join(f"{statistics.median(r):.0f}" for r in runs if r)


def model_row(res: Path, arch: str) -> str | None:
    """One row: pooled raw decode and app stream tok/s, their ratio, app TTFT and layers."""
    raws = _load(sorted(res.glob(f"raw-{arch}-*.json")))
    apps = _load(sorted(res.glob(f"app-{arch}-*.json")))
    if not raws or not apps:
        return None
    raw_runs = [[r["decode_tok_s"] for r in j["rounds"]] for j in raws]
    app_runs = [[r["stream_tok_s"] for r in j["rounds"]] for j in apps]
    raw_all = [v for run in raw_runs for v in run]
    app_all = [v for run in app_runs for v in run]
    ttft = [r["ttft_s"] for j in apps for r in j["rounds"]]
    layers = {f"{j['n_gpu_layers']}/{j['n_layers']}" for j in apps}
    ratio = statistics.median(app_all) / statistics.median(raw_all)
    return (f"| {LABELS.get(arch, arch)} | {len(raws)} + {len(apps)} | {_cell(raw_all)} | "
            f"{_per_process(raw_runs)} | {_cell(app_all)} | {_per_process(app_runs)} | "
            f"**{ratio:.2f}×** | {_cell(ttft, '.3f')} | {', '.join(sorted(layers))} |")


def breakdown_row(res: Path, arch: str) -> str | None:
    """decode_breakdown's medians: both loops in one process on one context."""
    path = res / f"breakdown-{arch}.json"
    if not path.exists():
        return None
    m = json.loads(path.read_text())["medians"]
    return (f"| {LABELS.get(arch, arch)} | {m['raw']:.1f} | {m['argmax+decode']:.1f} | "
            f"{m['chain+decode']:.1f} | {m['generate']:.1f} | {m['generate'] / m['raw']:.2f}× |")


def main(argv: list[str] | None = None) -> int:
    """Print both tables for the results directory given."""
    res = Path((argv or sys.argv[1:])[0])
    gpu = (res / "gpu.txt").read_text().strip() if (res / "gpu.txt").exists() else "?"
    print(f"GPU: {gpu}\n")
    print("| model | processes raw + app | raw eval loop tok/s, all rounds | raw, per process | "
          "app stream tok/s, all rounds | app, per process | app / raw | app TTFT s | "
          "layers on GPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for arch in LABELS:
        row = model_row(res, arch)
        if row:
            print(row)
    rows = [r for r in (breakdown_row(res, a) for a in LABELS) if r]
    if rows:
        print("\nOne process, one context (decode_breakdown, median tok/s):\n")
        print("| model | raw eval loop | argmax + decode | C sampler + decode | "
              "`Decoder.generate` | generate / raw |")
        print("|---|---|---|---|---|---|")
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
