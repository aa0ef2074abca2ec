"""Markdown tables from raw_llama / app_llm_bench JSON results, grouped by machine.

    python -m benchmarks.gpu.tables build/gpu-results/h100/*.json
    python -m benchmarks.gpu.tables build/gpu-results/results.jsonl

Each group starts with the machine line (benchmarks.machine.markdown_line) of its first result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.machine import markdown_line
from benchmarks.raw_llama import TABLE_HEADER, markdown_row


def load_results(paths: list[Path]) -> list[dict[str, Any]]:
    """Every result in the given .json files and .jsonl files (one result a line)."""
    results = []
    for path in paths:
        text = path.read_text()
        if path.suffix == ".jsonl":
            results += [json.loads(line) for line in text.splitlines() if line.strip()]
        elif path.suffix == ".json":
            results.append(json.loads(text))
    return results


def app_row(r: dict[str, Any]) -> str:
    """One row for an app_llm_bench result."""
    s, rounds = r["summary"], [x["stream_tok_s"] for x in r["rounds"]]
    return (f"| {Path(r['model']).name} (app LLM) | {r['backend']} | {r['load_s']:.2f} | "
            f"{s['prompt_tokens']:.0f} | {s['ttft_s']:.3f} | {s['stream_tok_s']:.1f} "
            f"({min(rounds):.0f}–{max(rounds):.0f}) |")


def render(results: list[dict[str, Any]]) -> str:
    """Tables grouped by (machine GPU, CPU): raw rows first, then app-path rows."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        m = r["machine"]
        key = f"{m['cpu']}|{[g['name'] for g in m.get('gpus') or []]}"
        groups.setdefault(key, []).append(r)
    out = []
    for items in groups.values():
        out.append(markdown_line(items[0]["machine"]) + "\n")
        raw = [r for r in items if "summary" in r and "load" in r]
        app = [r for r in items if "backend" in r]
        if raw:
            out.append(TABLE_HEADER)
            out += [markdown_row(r) for r in raw]
        if app:
            out.append("\n| model | backend | load s | prompt tok | TTFT s | stream tok/s |")
            out.append("|---|---|---|---|---|---|")
            out += [app_row(r) for r in app]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render(load_results([Path(p) for p in sys.argv[1:]])))
