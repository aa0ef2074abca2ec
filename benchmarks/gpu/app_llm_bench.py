"""The app's own generation path, `llm.client.LLM` driving the runner child, timed per token.

    python -m benchmarks.gpu.app_llm_bench build/arch/tinyllama-arch-Q5_K_M.gguf --n-gpu-layers -1

Same shape as raw_llama's stream measurement: a chat prompt of about 256 model tokens (rendered
with the model's own template, in the runner), 64 new tokens, one warm-up and `--repeats` rounds.
Each round's question starts differently, so llama-cpp-python cannot reuse the last prompt's KV
cache. TTFT runs from `LLM.stream()` to the first text piece, over the pipe, as the app sees it.
This parent process never imports llama_cpp (the runner child does), so numpy here is harmless.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.machine import describe_machine, markdown_line

TEXT = ("the manual says that each setting of the device can be changed from the main menu "
        "before the first use and after every update of the firmware")
WORDS = TEXT.split()


NEVER = "\u241f" * 4


def _messages(llm: Any, target_tokens: int, round_no: int) -> list[dict[str, str]]:
    """A user message whose rendered prompt is about `target_tokens` long."""
    def message(n_words: int) -> list[dict[str, str]]:
        body = " ".join(WORDS[i % len(WORDS)] for i in range(n_words))
        return [{"role": "user", "content": f"Question {round_no}: {body}"}]

    n_words = 40
    for _ in range(4):  # the tokens per word of a synthetic vocabulary are not known up front
        n = llm.render(message(n_words)).n_tokens
        n_words = max(1, round(n_words * target_tokens / max(1, n)))
    return message(n_words)


def one_round(llm: Any, settings: Any, target_tokens: int, round_no: int) -> dict[str, float]:
    """Render and stream once; TTFT, decode tok/s and token counts."""
    rendered = llm.render(_messages(llm, target_tokens, round_no))
    # Random weights emit "</s>" or "[INST]" as text now and then; keep the same number of stop
    # strings (llama-cpp-python checks each per token) but make them unreachable.
    rendered.stop = [NEVER + s for s in rendered.stop]
    t0 = time.perf_counter()
    t_first = t_last = None
    for _piece in llm.stream(rendered, settings):
        t_last = time.perf_counter()
        if t_first is None:
            t_first = t_last
    assert t_first is not None and t_last is not None
    n = llm.last_stats.completion_tokens
    return {
        "prompt_tokens": rendered.n_tokens, "completion_tokens": n, "ttft_s": t_first - t0,
        "stream_tok_s": (n - 1) / (t_last - t_first) if t_last > t_first else float("nan"),
    }


def run(path: Path, n_gpu_layers: int, n_threads: int, repeats: int, gen: int,
        target: int) -> dict[str, Any]:
    """Load through LLM.load, warm up once, measure `repeats` rounds."""
    from rag_desktop.config import GenerationSettings
    from rag_desktop.llm.catalog import ModelEntry
    from rag_desktop.llm.client import LLM
    from rag_desktop.llm.prompts import guess_family

    family = guess_family("llama", path.name)
    entry = ModelEntry(id=path.stem, name=path.stem, file=path.name, source="local",
                       family=family, path=path)
    settings = GenerationSettings(max_tokens=gen, n_ctx_cap=2048, n_threads=n_threads,
                                  n_gpu_layers=n_gpu_layers)
    with LLM() as llm:
        t0 = time.perf_counter()
        info = llm.load(entry, settings)
        load_s = time.perf_counter() - t0
        one_round(llm, settings, target, 0)
        rounds = [one_round(llm, settings, target, k + 1) for k in range(repeats)]
    summary = {key: statistics.median(r[key] for r in rounds)
               for key in ("ttft_s", "stream_tok_s", "prompt_tokens", "completion_tokens")}
    return {"model": str(path), "load_s": load_s, "backend": info.backend,
            "n_gpu_layers": info.n_gpu_layers, "n_layers": info.n_layers, "rounds": rounds,
            "summary": summary, "machine": describe_machine(probe_llama=False)}


def main(argv: list[str] | None = None) -> int:
    """Run and print one Markdown row; optionally write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--n-gpu-layers", type=int, default=-1)
    ap.add_argument("--n-threads", type=int, default=0, help="0: the app's default")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    r = run(args.model, args.n_gpu_layers, args.n_threads or None, args.repeats,
            args.gen_tokens, args.prompt_tokens)
    s = r["summary"]
    print(markdown_line(r["machine"]))
    print("| model | backend | layers on GPU | load s | prompt tok | TTFT s | stream tok/s |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.model.name} (app LLM) | {r['backend']} | {r['n_gpu_layers']}/"
          f"{r['n_layers']} | {r['load_s']:.2f} | {s['prompt_tokens']:.0f} | "
          f"{s['ttft_s']:.3f} | {s['stream_tok_s']:.1f} |")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
