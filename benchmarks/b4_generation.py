"""B4: generation through the app (LLM runner child) against direct llama-cpp-python.

Both sides load the same GGUF with the same n_ctx, n_batch (= n_ubatch), n_threads and
n_threads_batch, get the same rendered RAG prompt (4 real chunks of the sample manual and a
question, rendered by the app's runner with the model's chat template) and the same sampling
settings, and stream up to --max-tokens tokens:
- app: `LLM.load` / `LLM.stream` (JSON lines over a pipe to `rag_desktop.llm.runner`);
- direct: `llama_cpp.Llama.create_completion(tokens, stream=True)` in this process;
- raw loop (reference, decode only): `Llama.eval([token])` after the same prompt, no sampling.
TTFT is from sending the prompt to the first streamed piece; decode tok/s is
(tokens - 1) / (last - first), counting model tokens on both sides: the runner's
`completion_tokens` on the app side, and on the direct side every token `Llama.sample` returned
that is not end-of-generation (what `create_completion` itself counts as a completion token).
Stream chunks are not tokens: llama-cpp-python holds pieces back while they could start a stop
string or end inside a UTF-8 character, so one chunk can carry several tokens.
Each round asks a different question over different passages
(only the fixed system prompt stays a shared prefix that llama.cpp may reuse, on both sides, as
it would in the app). Both sides take the rendered prompts in the same order.

    python -m benchmarks.b4_generation [--quick|--full] [--models smollm2,tinyllama-arch]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import llama_cpp  # before anything that imports numpy: a CUDA build crashed otherwise


def model_entries(names: list[str]) -> list[Any]:
    """Catalog entries: 'smollm2', 'gemma3', or a GGUF under build/arch ('tinyllama-arch')."""
    from benchmarks import common
    from rag_desktop.llm.catalog import load_catalog

    catalog = load_catalog()
    arch = load_catalog(model_dirs=[common.BUILD / "arch"])
    files = {"tinyllama-arch": common.TINYLLAMA_ARCH, "mistral-arch": common.MISTRAL_ARCH}
    out = []
    for name in names:
        if name == "smollm2":
            out.append(catalog.get(common.SMOLLM2_ID))
        elif name == "gemma3":
            out.append(catalog.get("gemma3-270m-q4_k_m"))
        elif name in files and files[name].is_file():
            out.append(next(e for e in arch.entries() if e.path == files[name]))
        else:
            print(f"b4: skipping {name} (not found)", file=sys.stderr)
    return out


def passage_sets(n: int) -> list[list[tuple[str, str]]]:
    """n different sets of four consecutive real chunks of the sample manual.

    Every round gets other passages, as a new question's retrieval would: with the same ones,
    llama.cpp would reuse the cached prompt prefix and TTFT would time only the question.
    """
    from benchmarks import common
    from rag_desktop.config import ChunkSettings
    from rag_desktop.library.documents import chunk_pages, read_pdf

    chunks = chunk_pages(read_pdf(common.SAMPLE_PDF), "sample-manual.pdf", "0" * 64,
                         ChunkSettings())
    step = max(4, len(chunks) // max(1, n))
    return [[(f"{c.file} p. {c.page}", c.text) for c in chunks[(i * step) % len(chunks):][:4]]
            for i in range(n)]


class Direct:
    """llama-cpp-python in this process, set up as the runner sets it up."""

    def __init__(self, path: Path, n_ctx: int, n_batch: int, n_threads: int) -> None:
        self.llm = llama_cpp.Llama(
            model_path=str(path), n_ctx=n_ctx, n_batch=n_batch, n_ubatch=n_batch,
            n_threads=n_threads, n_threads_batch=n_threads, n_gpu_layers=0, verbose=False)
        self.sampled = 0
        self._count_tokens()

    def tokens(self, prompt: str) -> list[int]:
        """The prompt's tokens, as the runner makes them (one BOS at most)."""
        toks = self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if len(toks) > 1 and toks[0] == toks[1] == self.llm.token_bos():
            toks = toks[1:]
        return toks

    def _count_tokens(self) -> None:
        """Make `Llama.sample` count, in self.sampled, the completion tokens it returns.

        `create_completion` calls `self.sample` once per token; an end-of-generation token ends
        the completion without being one of its tokens, as in the app's decoder.
        """
        sample, vocab = self.llm.sample, self.llm._model.vocab

        def counting(*args: Any, **kwargs: Any) -> int:
            token = sample(*args, **kwargs)
            if not llama_cpp.llama_vocab_is_eog(vocab, token):
                self.sampled += 1
            return token

        self.llm.sample = counting  # type: ignore[method-assign]

    def stream(self, prompt: str, stop: list[str], settings: Any) -> dict[str, float]:
        """TTFT and decode rate of one streamed completion, in model tokens."""
        toks = self.tokens(prompt)
        self.sampled = 0
        t_send, first, chunks = time.perf_counter(), None, 0
        for _ in self.llm.create_completion(toks, max_tokens=settings.max_tokens,
                                            temperature=settings.temperature,
                                            top_p=settings.top_p, stop=stop or None,
                                            stream=True):
            first = first if first is not None else time.perf_counter()
            chunks += 1
        return dict(_rates(t_send, first, time.perf_counter(), self.sampled, len(toks)),
                    chunks=chunks)

    def raw_decode(self, prompt: str, n_tokens: int) -> dict[str, float]:
        """Prompt eval, then n_tokens single-token evals with no sampling (the upper bound)."""
        toks = self.tokens(prompt)
        self.llm.reset()
        t0 = time.perf_counter()
        self.llm.eval(toks)
        t1 = time.perf_counter()
        token = toks[-1]
        for _ in range(n_tokens):
            self.llm.eval([token])
        t2 = time.perf_counter()
        self.llm.reset()
        return {"ttft": t1 - t0, "tok_s": n_tokens / (t2 - t1), "n": n_tokens,
                "prompt_tokens": len(toks)}

    def close(self) -> None:
        """Free the model."""
        self.llm.close()


def _rates(t_send: float, first: float | None, end: float, n: int,
           prompt_tokens: int) -> dict[str, float]:
    first = first if first is not None else end
    decode = end - first
    return {"ttft": first - t_send, "tok_s": (n - 1) / decode if n > 1 and decode > 0 else 0.0,
            "n": n, "prompt_tokens": prompt_tokens}


def app_stream(llm: Any, rendered: Any, settings: Any) -> dict[str, float]:
    """TTFT and decode rate through the app's runner."""
    t_send, first = time.perf_counter(), None
    for _ in llm.stream(rendered, settings):
        first = first if first is not None else time.perf_counter()
    return _rates(t_send, first, time.perf_counter(), llm.last_stats.completion_tokens,
                  llm.last_stats.prompt_tokens)


def measure_one(entry: Any, settings: Any, questions: list[str], n: int,
                with_raw: bool) -> dict[str, Any]:
    """Interleaved app / direct (/ raw loop) rounds for one model and one setting."""
    from benchmarks.common import interleaved
    from rag_desktop.llm.client import LLM
    from rag_desktop.llm.prompts import build_messages

    llm = LLM()
    try:
        info = llm.load(entry, settings)
        contexts = passage_sets(len(questions))
        rendered = [llm.render(build_messages(q, ctx))
                    for q, ctx in zip(questions, contexts, strict=True)]
        direct = Direct(entry.path, info.n_ctx, settings.n_batch, info.n_threads)
        state = {"app": 0, "direct": 0, "raw": 0}

        def nxt(side: str) -> Any:
            r = rendered[state[side] % len(rendered)]
            state[side] += 1
            return r

        sides = {"app": lambda: app_stream(llm, nxt("app"), settings),
                 "direct": lambda: (lambda r: direct.stream(r.prompt, r.stop, settings))(
                     nxt("direct"))}
        if with_raw:
            sides["raw"] = lambda: direct.raw_decode(nxt("raw").prompt, settings.max_tokens)
        runs = interleaved(sides, n)
        direct.close()
    finally:
        llm.close()
    return {"model": entry.id, "n_batch": settings.n_batch, "threads": info.n_threads,
            "n_ctx": info.n_ctx, **runs}


def render_table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of app against direct generation (docs/performance.md, B4)."""
    from benchmarks.common import fmt, median, ratio, spread, table

    out = []
    for r in rows:
        app_tok, direct_tok = [x["tok_s"] for x in r["app"]], [x["tok_s"] for x in r["direct"]]
        app_ttft, direct_ttft = [x["ttft"] for x in r["app"]], [x["ttft"] for x in r["direct"]]
        raw = [x["tok_s"] for x in r.get("raw", [])]
        out.append([
            r["model"], r["n_batch"], r["threads"], int(median([x["prompt_tokens"]
                                                               for x in r["app"]])),
            f"{median([x['n'] for x in r['app']]):.0f} / "
            f"{median([x['n'] for x in r['direct']]):.0f}",
            spread(app_ttft), spread(direct_ttft), spread(app_tok, 1), spread(direct_tok, 1),
            fmt(ratio(median(app_tok), median(direct_tok))) + "×",
            spread(raw, 1) if raw else "—",
        ])
    return table(["model", "n_batch", "threads", "prompt tok", "tokens app / direct",
                  "app TTFT s", "direct TTFT s",
                  "app decode tok/s", "direct decode tok/s", "app / direct decode",
                  "raw eval loop tok/s"], out)


def main(argv: list[str] | None = None) -> int:
    """Measure and write section b4 of docs/performance.md."""
    from benchmarks import common

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(ap)
    ap.add_argument("--models", default=None,
                    help="comma-separated: smollm2, gemma3, tinyllama-arch, mistral-arch")
    ap.add_argument("--max-tokens", type=int, default=None)
    ap.add_argument("--settings", default=None,
                    help="comma-separated n_batch:threads pairs, e.g. 512:2,8:2,512:1")
    args = ap.parse_args(argv)
    common.set_offline_here()
    from rag_desktop.config import GenerationSettings, physical_cores

    load = common.load_average()
    n = common.repeats(args, quick=3, full=5)
    cores = physical_cores()
    names = (args.models or ("smollm2,tinyllama-arch" if not args.full
                             else "smollm2,gemma3,tinyllama-arch")).split(",")
    pairs = args.settings or f"512:{cores},8:{cores}" + (",512:1" if cores > 1 else "")
    grid = [tuple(int(x) for x in p.split(":")) for p in pairs.split(",")]
    max_tokens = args.max_tokens or (64 if args.full else 48)
    questions = common.question_texts()
    rows = []
    for i, entry in enumerate(model_entries(names)):
        # Every n_batch/threads setting on the first (default) model; the default one on others.
        for n_batch, threads in grid if i == 0 else grid[:1]:
            settings = replace(GenerationSettings(), n_batch=n_batch, n_threads=threads,
                               max_tokens=max_tokens, n_ctx_cap=2048)
            rows.append(measure_one(entry, settings, questions, n, with_raw=n_batch >= 512))
            print(f"b4: {entry.id} n_batch={n_batch} threads={threads} done", file=sys.stderr,
                  flush=True)
            # Written after every row, so that a run cut short still leaves its table.
            notes = (f"{n} interleaved rounds after one warm-up, median (min–max); {max_tokens} "
                     f"tokens at most, temperature {GenerationSettings().temperature:g} (the app's "
                     "default; 0 is greedy), top_p 1; n_ctx 2048. Both sides count model tokens "
                     "(the runner's completion_tokens; the tokens `Llama.sample` returned to "
                     "`create_completion`), not stream chunks. The raw eval loop decodes "
                     "without sampling, so it bounds what any streamed path can reach.")
            common.emit(args, "b4", "B4. Generation: app against direct llama-cpp-python",
                        render_table(rows), load, notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
