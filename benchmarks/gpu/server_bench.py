"""The app through a model server against the app in-process: one GGUF, one machine, rounds
alternating between the two sides.

    python -m benchmarks.gpu.server_bench build/gpu-work/arch/tinyllama-arch-Q5_K_M.gguf \
        --n-gpu-layers -1 --repeats 10 --json out.json

One side is the app's local path (`llm.client.LLM` → runner child → pipe), exactly as
app_llm_bench measures it. The other is the app's server backend (`llm.server.ServerLLM`, SSE
over HTTP) talking to `python -m llama_cpp.server`, started here on a free 127.0.0.1 port with
the same llama-cpp-python (the CUDA build where the harness put it on PYTHONPATH), the same file,
n_ctx, n_batch, threads and GPU layers. Both get the same messages each round (a ~256-token chat
prompt, a new question number each round so no KV cache is reused), greedy, `--gen-tokens` new
tokens; the order of the two sides flips every round. TTFT runs from `stream()` to the first
piece as the app sees it; tok/s is (tokens − 1) over the time from the first to the last piece.

Tokens: the local side counts what the runner decoded. llama_cpp.server reports no `usage` in a
stream, so the server side takes max_tokens when the answer ended for length (it decoded exactly
that many) and otherwise the number of streamed pieces (a lower bound).
This parent never imports llama_cpp: the runner child and the server process do, first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from benchmarks.gpu.app_llm_bench import NEVER, _messages
from benchmarks.machine import describe_machine


def free_port() -> int:
    """A TCP port that nothing on 127.0.0.1 listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model: Path, alias: str, flags: list[str], log: Path,
                 timeout_s: float = 300) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m llama_cpp.server` on `model`, returned once /v1/models answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias",
           alias, "--host", "127.0.0.1", "--port", str(port), "--verbose", "False", *flags]
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/v1/models", timeout=2, trust_env=False).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"llama_cpp.server did not start:\n{log.read_text()[-3000:]}")


def _timed(llm: Any, rendered: Any, settings: Any) -> tuple[float, float, float, int]:
    """Stream once: (t0, first piece, last piece, pieces)."""
    t0 = time.perf_counter()
    t_first = t_last = 0.0
    pieces = 0
    for _piece in llm.stream(rendered, settings):
        t_last = time.perf_counter()
        t_first = t_first or t_last
        pieces += 1
    if not pieces:
        raise RuntimeError("the answer was empty")
    return t0, t_first, t_last, pieces


def _row(n: int, pieces: int, t0: float, t_first: float, t_last: float) -> dict[str, Any]:
    rate = (n - 1) / (t_last - t_first) if t_last > t_first else float("nan")
    return {"completion_tokens": n, "pieces": pieces, "ttft_s": t_first - t0,
            "stream_tok_s": rate, "total_s": t_last - t0}


def local_round(llm: Any, messages: list[dict[str, str]], settings: Any) -> dict[str, Any]:
    """The runner side; stop strings kept in number but made unreachable (app_llm_bench)."""
    rendered = llm.render(messages)
    rendered.stop = [NEVER + s for s in rendered.stop]
    t0, t_first, t_last, pieces = _timed(llm, rendered, settings)
    stats = llm.last_stats
    row = _row(stats.completion_tokens, pieces, t0, t_first, t_last)
    return {**row, "finish_reason": stats.finish_reason, "prompt_tokens": rendered.n_tokens}


def server_round(srv: Any, messages: list[dict[str, str]], settings: Any) -> dict[str, Any]:
    """The server side (see the module docstring for how its tokens are counted)."""
    rendered = srv.render(messages)
    t0, t_first, t_last, pieces = _timed(srv, rendered, settings)
    stats = srv.last_stats
    n = settings.max_tokens if stats.finish_reason == "length" else stats.completion_tokens
    row = _row(n, pieces, t0, t_first, t_last)
    return {**row, "finish_reason": stats.finish_reason, "prompt_tokens": stats.prompt_tokens}


def _summary(rounds: list[dict[str, Any]]) -> dict[str, float]:
    keys = ("ttft_s", "stream_tok_s", "completion_tokens", "prompt_tokens", "pieces")
    return {k: statistics.median(r[k] for r in rounds) for k in keys}


def _rounds(llm: Any, srv: Any, settings: Any, repeats: int, target: int) -> dict[str, Any]:
    """One warm-up each, then `repeats` rounds, the side that goes first flipping each round."""
    local: list[dict[str, Any]] = []
    server: list[dict[str, Any]] = []
    for k in range(repeats + 1):
        messages = _messages(llm, target, k)
        sides = [(local, lambda m=messages: local_round(llm, m, settings)),
                 (server, lambda m=messages: server_round(srv, m, settings))]
        for rows, measure in (sides if k % 2 == 0 else sides[::-1]):
            row = measure()
            if k:  # round 0 warms both up
                rows.append(row)
    return {"local": local, "server": server}


def run(path: Path, n_gpu_layers: int, n_threads: int | None, repeats: int, gen: int,
        target: int, log: Path) -> dict[str, Any]:
    """Load the model in the runner and in a server, then measure both sides."""
    from rag_desktop.config import GenerationSettings
    from rag_desktop.llm.catalog import ModelEntry, server_entry
    from rag_desktop.llm.client import LLM
    from rag_desktop.llm.prompts import guess_family
    from rag_desktop.llm.server import ServerLLM
    from rag_desktop.llm.servers import ServerRecord

    entry = ModelEntry(id=path.stem, name=path.stem, file=path.name, source="local",
                       family=guess_family("llama", path.name), path=path)
    settings = GenerationSettings(max_tokens=gen, n_ctx_cap=2048, n_threads=n_threads,
                                  n_gpu_layers=n_gpu_layers)
    with LLM() as llm:
        t0 = time.perf_counter()
        info = llm.load(entry, settings)
        local_load = time.perf_counter() - t0
        flags = ["--n_gpu_layers", str(n_gpu_layers), "--n_ctx", str(info.n_ctx),
                 "--n_batch", str(settings.n_batch), "--n_ubatch", str(settings.n_batch),
                 "--n_threads", str(info.n_threads), "--n_threads_batch", str(info.n_threads)]
        t0 = time.perf_counter()
        proc, url = start_server(path, path.stem, flags, log)
        try:
            server_up = time.perf_counter() - t0
            record = ServerRecord(f"{path.stem}@bench", path.stem, url, path.stem,
                                  context_length=info.n_ctx)
            with ServerLLM() as srv:
                srv.load(server_entry(record), settings)
                sides = _rounds(llm, srv, settings, repeats, target)
        finally:
            proc.terminate()
            proc.wait(30)
    return {"model": str(path), "n_gpu_layers": info.n_gpu_layers, "n_layers": info.n_layers,
            "n_threads": info.n_threads, "n_ctx": info.n_ctx, "backend": info.backend,
            "local_load_s": local_load, "server_start_s": server_up, "server_flags": flags,
            "gen_tokens": gen, **sides,
            "summary": {side: _summary(rows) for side, rows in sides.items()},
            "machine": _machine(info.n_gpu_layers)}


def _machine(n_gpu_layers: int) -> dict[str, Any]:
    """The machine, with llama-cpp-python's version read from its metadata (importing it here
    could crash a CUDA build: the harness README) and offload as the runner reported it."""
    machine = describe_machine(probe_llama=False)
    with contextlib.suppress(metadata.PackageNotFoundError):
        machine["llama_cpp_python"] = metadata.version("llama_cpp_python")
    machine["gpu_offload"] = n_gpu_layers > 0
    return machine


def main(argv: list[str] | None = None) -> int:
    """Run, print the two medians, optionally write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--n-gpu-layers", type=int, default=-1)
    ap.add_argument("--n-threads", type=int, default=0, help="0: the app's default")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    log = args.json.with_suffix(".server.log") if args.json else Path("server_bench.server.log")
    r = run(args.model, args.n_gpu_layers, args.n_threads or None, args.repeats,
            args.gen_tokens, args.prompt_tokens, log)
    for side, s in r["summary"].items():
        print(f"{args.model.name} {side:6}: TTFT {s['ttft_s']:.3f} s, {s['stream_tok_s']:.1f} "
              f"tok/s, {s['completion_tokens']:.0f} tokens, {s['prompt_tokens']:.0f} prompt")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
