"""Raw llama-cpp-python speed of one GGUF: load, prompt eval, decode loop, and streamed completion.

    python -m benchmarks.raw_llama build/arch/tinyllama-arch-Q5_K_M.gguf --n-threads 2 --n-batch 512

- load: `Llama(...)` wall time; RSS after load (psutil) and, on a GPU, VRAM used (nvidia-smi);
- prompt: `Llama.eval` of a 512-token prompt (batches of n_batch), then `llama_synchronize`;
- decode: 64 times `Llama.eval([token])` + `llama_synchronize` after that prompt (no sampling);
- stream: `create_completion(stream=True)` from a 256-token prompt for 64 tokens: time to the
  first chunk (TTFT) and decode tok/s after it, which adds llama-cpp-python's sampling and
  detokenizing per token.
Prompts are fixed pseudo-random token ids, so every model and run sees the same work. One warm-up
round, then `--repeats` measured rounds: the median and the min..max spread are reported.
llama_cpp is imported first: a CUDA build crashed when numpy was imported before it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import llama_cpp  # before anything that imports numpy (a CUDA build crashed otherwise)

from benchmarks.gpu.tables import TABLE_HEADER, markdown_row
from benchmarks.machine import describe_machine, gpus, markdown_line

METRICS = ("prompt_tok_s", "decode_tok_s", "stream_ttft_s", "stream_tok_s")
OFFLOAD_RE = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--n-threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--n-batch", type=int, default=512)
    ap.add_argument("--n-gpu-layers", type=int, default=0)
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--flash-attn", action="store_true")
    ap.add_argument("--no-op-offload", action="store_true",
                    help="keep large-batch ops of CPU layers off the GPU (CUDA build, ngl 0)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--stream-prompt-tokens", type=int, default=256)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--label", default="", help="name for the Markdown row (default: file name)")
    ap.add_argument("--json", type=Path, help="write the full result here")
    return ap.parse_args(argv)


def make_prompt(n: int, n_vocab: int, seed: int = 0) -> list[int]:
    """BOS then n-1 pseudo-random ordinary token ids (past the 259 special and byte pieces)."""
    rng = random.Random(seed)
    return [1] + [rng.randrange(259, n_vocab) for _ in range(n - 1)]


def _vram_used_mib() -> int | None:
    """VRAM in use on GPU 0 (all processes), or None without nvidia-smi."""
    found = gpus()
    return found[0]["used_mib"] if found else None


def load_model(args: argparse.Namespace) -> tuple[llama_cpp.Llama, dict[str, Any]]:
    """Load the GGUF with verbose logging captured, to read how many layers were offloaded."""
    import psutil

    vram_before = _vram_used_mib()
    captured, saved = io.StringIO(), sys.stderr
    sys.stderr = captured  # llama-cpp-python's log callback prints to sys.stderr
    try:
        t0 = time.perf_counter()
        llm = llama_cpp.Llama(
            str(args.model), n_ctx=args.n_ctx, n_batch=args.n_batch, n_ubatch=args.n_batch,
            n_threads=args.n_threads, n_threads_batch=args.n_threads,
            n_gpu_layers=args.n_gpu_layers, flash_attn=args.flash_attn, seed=0, verbose=True,
            op_offload=False if args.no_op_offload else None,
        )
        load_s = time.perf_counter() - t0
    finally:
        sys.stderr = saved
    llm.verbose = False  # no timing printouts inside the measured completions
    llama_cpp.llama_log_set(_quiet_log, None)
    match = OFFLOAD_RE.search(captured.getvalue())
    vram_after = _vram_used_mib()
    info = {
        "load_s": load_s,
        "rss_mib": psutil.Process().memory_info().rss / 2**20,
        "offloaded": f"{match.group(1)}/{match.group(2)}" if match else None,
        "vram_mib": (vram_after - vram_before) if vram_after is not None and vram_before is not None
        else None,
        "vram_used_after_load_mib": vram_after,
        "n_params": llm._model.n_params(),
        "model_bytes": args.model.stat().st_size,
    }
    return llm, info


@llama_cpp.llama_log_callback
def _quiet_log(level: int, text: bytes, user_data: Any) -> None:
    """Drop llama.cpp's log lines after loading (they are printed per completion otherwise)."""


def _sync(llm: llama_cpp.Llama) -> None:
    """Wait for the device: llama_decode may return before a GPU has finished."""
    llama_cpp.llama_synchronize(llm._ctx.ctx)


def measure_prompt(llm: llama_cpp.Llama, prompt: list[int]) -> float:
    """Prompt-processing speed (tok/s) of `prompt` from an empty context."""
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    _sync(llm)
    return len(prompt) / (time.perf_counter() - t0)


def measure_decode(llm: llama_cpp.Llama, tokens: list[int]) -> float:
    """Decode speed (tok/s): one `eval([token])` per token, continuing the current context."""
    t0 = time.perf_counter()
    for token in tokens:
        llm.eval([token])
        _sync(llm)
    return len(tokens) / (time.perf_counter() - t0)


def measure_stream(llm: llama_cpp.Llama, prompt: list[int], n_gen: int) -> dict[str, float]:
    """TTFT and decode tok/s of a streamed completion (default sampling, seed 0)."""
    llm.reset()
    t0 = time.perf_counter()
    t_first = t_last = None
    for _chunk in llm.create_completion(prompt, max_tokens=n_gen, stream=True, seed=0):
        t_last = time.perf_counter()
        if t_first is None:
            t_first = t_last
    assert t_first is not None and t_last is not None
    # The last sampled token is never evaluated, so n_tokens = prompt + generated - 1.
    generated = llm.n_tokens - len(prompt) + 1
    return {
        "stream_ttft_s": t_first - t0,
        "stream_tok_s": (generated - 1) / (t_last - t_first) if t_last > t_first else float("nan"),
        "stream_tokens": generated,
    }


def one_round(llm: llama_cpp.Llama, args: argparse.Namespace) -> dict[str, float]:
    """One round of all three measurements."""
    n_vocab = llm.n_vocab()
    prompt = make_prompt(args.prompt_tokens, n_vocab, seed=1)
    result = {"prompt_tok_s": measure_prompt(llm, prompt)}
    result["decode_tok_s"] = measure_decode(llm, make_prompt(args.gen_tokens + 1, n_vocab, 2)[1:])
    stream_prompt = make_prompt(args.stream_prompt_tokens, n_vocab, seed=3)
    result.update(measure_stream(llm, stream_prompt, args.gen_tokens))
    return result


def summarize(rounds: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Median, min and max of each metric over the measured rounds."""
    return {
        key: {
            "median": statistics.median(r[key] for r in rounds),
            "min": min(r[key] for r in rounds),
            "max": max(r[key] for r in rounds),
        }
        for key in METRICS
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Load, warm up once, measure `args.repeats` rounds; returns the full result dict."""
    machine = describe_machine()
    llm, info = load_model(args)
    one_round(llm, args)  # warm-up: first-use allocations, kernels, page faults
    rounds = [one_round(llm, args) for _ in range(args.repeats)]
    llm.close()
    load_avg_end = round(os.getloadavg()[0], 2)
    keys = ("n_threads", "n_batch", "n_gpu_layers", "n_ctx", "flash_attn", "no_op_offload",
            "repeats", "prompt_tokens", "stream_prompt_tokens", "gen_tokens")
    config = {k: getattr(args, k) for k in keys}
    return {
        "label": args.label or args.model.name, "model": str(args.model), "machine": machine,
        "config": config, "load": info, "rounds": rounds, "summary": summarize(rounds),
        "load_avg_1m_end": load_avg_end,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the machine line, table header and row, and write JSON."""
    args = parse_args(argv)
    result = run(args)
    print(markdown_line(result["machine"]))
    print(TABLE_HEADER)
    print(markdown_row(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
