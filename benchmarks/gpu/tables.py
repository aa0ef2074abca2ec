"""Markdown rows of the GPU benchmarks' JSON results: raw llama-cpp-python, the app's path,
the in-process decode breakdown, alternating processes and the per-token profile.

Pure formatting with no heavy import, so the harness can render tables without llama_cpp
(which only the CUDA build's steps may import, and first).
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

LABELS = {"tinyllama": "TinyLlama-arch Q5_K_M", "mistral": "Mistral-7B-arch Q2_K"}
APP_HEADER = ("| model | backend | layers on GPU | load s | prompt tok | tokens | TTFT s | "
              "stream tok/s |\n|---|---|---|---|---|---|---|---|")
BREAKDOWN_HEADER = ("| model | raw eval loop | argmax + decode | C sampler + decode | "
                    "`Decoder.generate` | generate / raw |\n|---|---|---|---|---|---|")
INTERLEAVED_HEADER = (
    "| model | processes raw + app | raw eval loop tok/s, all rounds | raw, per process | "
    "app stream tok/s, all rounds | app, per process | app / raw | app TTFT s | layers on GPU |\n"
    "|---|---|---|---|---|---|---|---|---|")

SERVER_HEADER = (
    "| model | processes | rounds a side | in-process tok/s | through llama_cpp.server tok/s | "
    "server / in-process | in-process TTFT s | server TTFT s | tokens | layers on GPU |\n"
    "|---|---|---|---|---|---|---|---|---|---|")


def _cell(values: list[float], fmt: str = ".1f") -> str:
    """'median (min–max)' of the values, '—' for none."""
    if not values:
        return "—"
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def app_row(r: dict[str, Any]) -> str:
    """One row for an app_llm_bench result (rag_desktop.llm → runner child)."""
    s, rounds = r["summary"], [x["stream_tok_s"] for x in r["rounds"]]
    return (f"| {Path(r['model']).name} (app LLM) | {r['backend']} | {r['n_gpu_layers']}/"
            f"{r['n_layers']} | {r['load_s']:.2f} | {s['prompt_tokens']:.0f} | "
            f"{s['completion_tokens']:.0f} | "
            f"{s['ttft_s']:.3f} | {_cell(rounds)} |")


def breakdown_row(r: dict[str, Any]) -> str:
    """decode_breakdown's medians: both decode loops in one process on one context."""
    m = r["medians"]
    return (f"| {Path(r['model']).name} | {m['raw']:.1f} | {m['argmax+decode']:.1f} | "
            f"{m['chain+decode']:.1f} | {m['generate']:.1f} | {m['generate'] / m['raw']:.2f}× |")


def interleaved_row(arch: str, raws: list[dict[str, Any]], apps: list[dict[str, Any]]) -> str:
    """Raw and app processes that alternated: every round pooled, and each process's median."""
    raw_runs = [[x["decode_tok_s"] for x in j["rounds"]] for j in raws]
    app_runs = [[x["stream_tok_s"] for x in j["rounds"]] for j in apps]
    raw_all = [v for run in raw_runs for v in run]
    app_all = [v for run in app_runs for v in run]
    per = {k: ", ".join(f"{statistics.median(r):.0f}" for r in runs if r)
           for k, runs in (("raw", raw_runs), ("app", app_runs))}
    ttft = [x["ttft_s"] for j in apps for x in j["rounds"]]
    layers = ", ".join(sorted({f"{j['n_gpu_layers']}/{j['n_layers']}" for j in apps}))
    ratio = statistics.median(app_all) / statistics.median(raw_all)
    return (f"| {LABELS.get(arch, arch)} | {len(raws)} + {len(apps)} | {_cell(raw_all)} | "
            f"{per['raw']} | {_cell(app_all)} | {per['app']} | **{ratio:.2f}×** | "
            f"{_cell(ttft, '.3f')} | {layers} |")


def markdown_row(result: dict[str, Any]) -> str:
    """A Markdown table row: model, GB, settings, load, memory and the four speeds."""
    s, info, cfg = result["summary"], result["load"], result["config"]

    def cell(key: str, fmt: str) -> str:
        m = s[key]
        return f"{m['median']:{fmt}} ({m['min']:{fmt}}–{m['max']:{fmt}})"

    ngl = "CPU" if cfg["n_gpu_layers"] == 0 else f"ngl {cfg['n_gpu_layers']} ({info['offloaded']})"
    vram = f"{info['vram_mib']:,}" if info["vram_mib"] is not None else "—"
    return (
        f"| {result['label']} | {info['model_bytes'] / 1e9:.2f} | {ngl} | {cfg['n_threads']} | "
        f"{cfg['n_batch']} | {info['load_s']:.2f} | {info['rss_mib']:,.0f} | {vram} | "
        f"{cell('prompt_tok_s', '.1f')} | {cell('decode_tok_s', '.1f')} | "
        f"{cell('stream_ttft_s', '.3f')} | {cell('stream_tok_s', '.1f')} |"
    )


TABLE_HEADER = (
    "| model | GB | offload | threads | n_batch | load s | RSS MiB | VRAM MiB | prompt tok/s | "
    "decode tok/s | stream TTFT s | stream tok/s |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def profile_table(result: dict[str, Any]) -> str:
    """A Markdown table of per-token milliseconds: the raw loop, then each stream variant."""
    lines = ["| path | total | decode+sync | sample | detokenize | other Python | tok/s |",
             "|---|---|---|---|---|---|---|"]
    raw = result["raw_ms"][len(result["raw_ms"]) // 2]
    lines.append(f"| raw eval loop | {raw:.3f} | {raw:.3f} | — | — | — | {1000 / raw:.0f} |")
    for key, r in result.items():
        if not (isinstance(r, dict) and "total" in r):
            continue  # not a stream variant (profile_stream.VARIANTS)
        lines.append(f"| {key} | {r['total']:.3f} | {r.get('decode', 0):.3f} | "
                     f"{r.get('sample', 0):.3f} | {r.get('detokenize', 0):.3f} | "
                     f"{r['python_other']:.3f} | {1000 / r['total']:.0f} |")
    return "\n".join(lines)


def server_row(arch: str, results: list[dict[str, Any]]) -> str:
    """server_bench processes of one model: every round of each side pooled (they alternated)."""
    def pooled(side: str, key: str) -> list[float]:
        return [x[key] for r in results for x in r[side]]

    local, server = pooled("local", "stream_tok_s"), pooled("server", "stream_tok_s")
    tokens = sorted({int(x) for side in ("local", "server")
                     for x in pooled(side, "completion_tokens")})
    layers = ", ".join(sorted({f"{r['n_gpu_layers']}/{r['n_layers']}" for r in results}))
    ratio = statistics.median(server) / statistics.median(local)
    return (f"| {LABELS.get(arch, arch)} | {len(results)} | {len(local)} | {_cell(local)} | "
            f"{_cell(server)} | **{ratio:.2f}×** | {_cell(pooled('local', 'ttft_s'), '.3f')} | "
            f"{_cell(pooled('server', 'ttft_s'), '.3f')} | {', '.join(map(str, tokens))} | "
            f"{layers} |")
