"""Where a decoded token's time goes, in one process on one loaded model (GPU or CPU).

    python -m benchmarks.gpu.decode_breakdown MODEL.gguf [--n-gpu-layers -1] [--rounds 5]

Per round, from the same 256-token prompt (fresh KV cache each time), 64 tokens each way:
- raw: `Llama.eval([token])` + `llama_synchronize` (raw_llama's decode loop, no sampling);
- argmax+decode: the runner's greedy step without Python around it: argmax of the logits in
  place, then one `llama_decode` of that token;
- chain+decode: the same with llama.cpp's greedy sampler (`llama_sampler_sample`);
- generate: `rag_desktop.llm.decoder.Decoder.generate` as the runner calls it (greedy, no stops).
The app adds the pipe to the parent on top of "generate" (app_llm_bench measures that).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import llama_cpp  # first: a CUDA build crashed when numpy was imported before it

from benchmarks.raw_llama import make_prompt
from rag_desktop.llm.decoder import Decoder


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("nan")


def raw_loop(llm: llama_cpp.Llama, prompt: list[int], n: int) -> float:
    llm.reset()
    llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llm._ctx.ctx), True)
    llm.eval(prompt)
    llama_cpp.llama_synchronize(llm._ctx.ctx)
    tokens = make_prompt(n + 1, llm.n_vocab(), 2)[1:]
    t0 = time.perf_counter()
    for token in tokens:
        llm.eval([token])
        llama_cpp.llama_synchronize(llm._ctx.ctx)
    return _rate(n, time.perf_counter() - t0)


def bare_loop(decoder: Decoder, prompt: list[int], n: int, chain: bool) -> float:
    decoder.reset()
    decoder._evaluate_prompt(prompt)
    sampler = None
    if chain:
        sampler = llama_cpp.llama_sampler_chain_init(
            llama_cpp.llama_sampler_chain_default_params())
        llama_cpp.llama_sampler_chain_add(sampler, llama_cpp.llama_sampler_init_greedy())
    native = decoder.native  # the runner's own handles on llama.cpp (llm/llama_adapter.py)
    token = native.argmax()
    t0 = time.perf_counter()
    for _ in range(n):
        native.decode_one(token)
        token = native.argmax() if sampler is None else native.sample(sampler)
    seconds = time.perf_counter() - t0
    if sampler is not None:
        llama_cpp.llama_sampler_free(sampler)
    return _rate(n, seconds)


def generate(decoder: Decoder, prompt: list[int], n: int) -> float:
    decoder.reset()
    times = []
    for _ in decoder.generate(prompt, max_tokens=n + 1, temperature=0.0, top_p=1.0, stop=[],
                              should_stop=lambda: False):
        times.append(time.perf_counter())
    return _rate(len(times) - 1, times[-1] - times[0]) if len(times) > 1 else float("nan")


def main(argv: list[str] | None = None) -> int:
    """Print one JSON line per round and the medians."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--n-gpu-layers", type=int, default=-1)
    ap.add_argument("--n-threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    llm = llama_cpp.Llama(str(args.model), n_ctx=2048, n_batch=512, n_ubatch=512,
                          n_threads=args.n_threads, n_threads_batch=args.n_threads,
                          n_gpu_layers=args.n_gpu_layers, verbose=False)
    decoder = Decoder(llm)
    prompt = make_prompt(256, llm.n_vocab(), seed=3)
    sides = {
        "raw": lambda: raw_loop(llm, prompt, 64),
        "argmax+decode": lambda: bare_loop(decoder, prompt, 64, chain=False),
        "chain+decode": lambda: bare_loop(decoder, prompt, 64, chain=True),
        "generate": lambda: generate(decoder, prompt, 64),
    }
    for side in sides.values():  # warm-up
        side()
    rounds = [{name: side() for name, side in sides.items()} for _ in range(args.rounds)]
    for r in rounds:
        print(json.dumps({k: round(v, 1) for k, v in r.items()}))
    medians = {k: statistics.median(r[k] for r in rounds) for k in sides}
    print("median tok/s:", json.dumps({k: round(v, 1) for k, v in medians.items()}))
    if args.json:
        args.json.write_text(json.dumps({"model": str(args.model), "rounds": rounds,
                                         "medians": medians}, indent=2))
    llm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
