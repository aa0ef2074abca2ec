"""Where the time of one streamed token goes: llama_decode, sampling, detokenizing, Python glue.

    python -m benchmarks.gpu.profile_stream build/arch/tinyllama-arch-Q5_K_M.gguf --n-gpu-layers -1

The raw loop (`eval([token])` + `llama_synchronize`) is the floor. The streamed path,
`create_completion(stream=True)`, is timed with wrappers around `Llama._ctx.decode` (followed by a
synchronize, so device time lands there and not in the sampler that reads the logits),
`Llama.sample` and `Llama.detokenize`; what is left is llama-cpp-python's Python per token.
Two stream variants: default sampling with no stop strings (raw_llama's), and the app's settings
(temperature 0.01, top_p 1.0, two stop strings that never match). A cProfile of one stream is
written next to the JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import llama_cpp  # before anything that imports numpy

from benchmarks.gpu.tables import profile_table
from benchmarks.machine import describe_machine, markdown_line
from benchmarks.raw_llama import make_prompt

NEVER = "\u241f" * 4
VARIANTS: dict[str, dict[str, Any]] = {
    "stream, default sampling": {},
    "stream, app settings + 2 stops": {"temperature": 0.01, "top_p": 1.0,
                                       "stop": [NEVER + "</s>", NEVER + "<|user|>"]},
}


def _timed(fn: Callable[..., Any], bucket: str, acc: dict[str, float],
           after: Callable[[], None] | None = None) -> Callable[..., Any]:
    """Wrap `fn` so that its wall time (plus `after`, if given) adds to acc[bucket]."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        if after is not None:
            after()
        acc[bucket] += time.perf_counter() - t0
        return result
    return wrapper


def raw_loop_ms(llm: llama_cpp.Llama, prompt: list[int], n: int) -> float:
    """Milliseconds per token of eval([token]) + synchronize after `prompt`."""
    llm.reset()
    llm.eval(prompt)
    llama_cpp.llama_synchronize(llm._ctx.ctx)  # the prompt's device work must not be timed
    tokens = make_prompt(n + 1, llm.n_vocab(), seed=2)[1:]
    t0 = time.perf_counter()
    for token in tokens:
        llm.eval([token])
        llama_cpp.llama_synchronize(llm._ctx.ctx)
    return (time.perf_counter() - t0) * 1000 / n


def stream_breakdown(llm: llama_cpp.Llama, prompt: list[int], n: int,
                     kwargs: dict[str, Any]) -> dict[str, float]:
    """Per-token milliseconds in each bucket over the tokens after the first."""
    acc: dict[str, float] = defaultdict(float)
    ctx = llm._ctx
    originals = (ctx.decode, llm.sample, llm.detokenize)
    ctx.decode = _timed(ctx.decode, "decode", acc,
                        after=lambda: llama_cpp.llama_synchronize(ctx.ctx))
    llm.sample = _timed(llm.sample, "sample", acc)  # type: ignore[method-assign]
    llm.detokenize = _timed(llm.detokenize, "detokenize", acc)  # type: ignore[method-assign]
    try:
        llm.reset()
        t_first, count = None, 0
        for _chunk in llm.create_completion(prompt, max_tokens=n, stream=True, seed=0, **kwargs):
            if t_first is None:
                t_first = time.perf_counter()
                acc.clear()  # count only the decode phase, not the prompt
            count += 1
        total = time.perf_counter() - (t_first or 0.0)
    finally:
        ctx.decode, llm.sample, llm.detokenize = originals  # type: ignore[method-assign]
    steps = max(1, llm.n_tokens - len(prompt))  # tokens evaluated after the first chunk
    out = {k: v * 1000 / steps for k, v in acc.items()}
    out["total"] = total * 1000 / steps
    out["python_other"] = out["total"] - sum(out.get(k, 0.0) for k in
                                             ("decode", "sample", "detokenize"))
    out["chunks"] = count
    return out


def profile_text(llm: llama_cpp.Llama, prompt: list[int], n: int, top: int = 25) -> str:
    """cProfile of one default stream, top functions by own time."""
    llm.reset()
    prof = cProfile.Profile()
    prof.enable()
    for _chunk in llm.create_completion(prompt, max_tokens=n, stream=True, seed=0):
        pass
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Load, warm up, measure raw loop and both stream variants (median of repeats), print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--n-gpu-layers", type=int, default=0)
    ap.add_argument("--n-threads", type=int, default=2)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    machine = describe_machine()
    llm = llama_cpp.Llama(str(args.model), n_ctx=2048, n_batch=512, n_ubatch=512,
                          n_threads=args.n_threads, n_threads_batch=args.n_threads,
                          n_gpu_layers=args.n_gpu_layers, verbose=False)
    prompt = make_prompt(256, llm.n_vocab(), seed=3)
    raw_loop_ms(llm, prompt, args.gen_tokens)  # warm-up
    result: dict[str, Any] = {"machine": machine, "model": str(args.model),
                              "n_gpu_layers": args.n_gpu_layers,
                              "raw_ms": sorted(raw_loop_ms(llm, prompt, args.gen_tokens)
                                               for _ in range(args.repeats))}
    for name, kwargs in VARIANTS.items():
        runs = [stream_breakdown(llm, prompt, args.gen_tokens, kwargs)
                for _ in range(args.repeats + 1)][1:]
        result[name] = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]
    result["cprofile"] = profile_text(llm, prompt, args.gen_tokens)
    llm.close()
    print_report(result, args.model.name)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def print_report(result: dict[str, Any], name: str) -> None:
    """The machine, the per-token table and the head of the cProfile."""
    print(markdown_line(result["machine"]))
    print(f"\n{name}, n_gpu_layers {result['n_gpu_layers']}: ms per generated token\n")
    print(profile_table(result))
    print("\n" + "\n".join(result["cprofile"].splitlines()[:45]))

if __name__ == "__main__":
    sys.exit(main())
