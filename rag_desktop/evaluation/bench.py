"""`rag-desktop bench models`: each GGUF model's size, load time, memory, prompt and generation
speed and JSON obedience, as one CSV/Markdown table; `bench embeddings` lives in bench_embed."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rag_desktop.config import GenerationSettings
from rag_desktop.evaluation.bench_embed import BenchSet, EmbeddingBenchRow, bench_embeddings
from rag_desktop.evaluation.tables import write_tables
from rag_desktop.progress import ProgressCallback, ProgressEvent

# A fixed RAG prompt, so that every model answers the same ~300-token request.
BENCH_QUESTION = "Which option makes LilyPond write a PNG image instead of a PDF?"
BENCH_PASSAGES = [
    ("lilypond-usage.pdf p. 5", "Command-line options for lilypond. --png: generate pictures of "
     "each page, in PNG format. This implies --ps. The resolution in DPI of the image may be set "
     "with -dresolution=110. --pdf: generate PDF. This implies --ps."),
    ("lilypond-usage.pdf p. 6", "-f,--formats=format which formats should be written. Choices "
     "for format are ps, pdf, and png. Example: lilypond -fpng foo.ly"),
    ("lilypond-usage.pdf p. 4", "When filename.ly is processed it produces filename.pdf as "
     "output by default. Several files can be specified; they will each be processed "
     "independently."),
]
__all__ = ["BenchSet", "EmbeddingBenchRow", "ModelBenchRow", "bench_embeddings", "bench_models",
           "json_reply_valid", "write_tables"]
JSON_OBJECT = {"answer": "--png", "page": 5}
JSON_PROMPT = ("Reply only with this JSON object, exactly, and nothing else:\n"
               + json.dumps(JSON_OBJECT))


@dataclass(frozen=True)
class ModelBenchRow:
    """One model's row of `bench models` (docs/evaluation.md describes the columns)."""

    model_id: str
    file: str
    size_mb: float | None = None
    n_params: int | None = None
    quant: str = ""
    context_length: int | None = None
    backend: str = ""
    n_gpu_layers: int | None = None
    load_s: float | None = None
    rss_mb: float | None = None
    vram_mb: float | None = None
    prompt_tokens: int | None = None
    reused_prompt_tokens: int | None = None  # in the KV cache already (system prompt)
    completion_tokens: int | None = None
    prompt_tokens_per_s: float | None = None  # evaluated prompt tokens / time to the first token
    gen_tokens_per_s: float | None = None
    latency_s: float | None = None
    json_valid: bool | None = None
    error: str = ""


def _rss_mb(pid: int | None = None) -> float:
    import psutil

    return float(psutil.Process(pid).memory_info().rss) / 2**20


def _vram_mb(pid: int) -> float | None:
    """GPU memory used by `pid` (nvidia-smi), None when it cannot be told."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--query-compute-apps=pid,used_memory",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True,
                             timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    used = [float(b) for a, b in (line.split(",")[:2] for line in out.splitlines() if "," in line)
            if a.strip() == str(pid)]
    return sum(used) if used else None


def json_reply_valid(text: str) -> bool:
    """True when the reply, less surrounding space and a ``` fence, parses as a JSON object."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False


def _timed_generation(llm: Any, messages: list[dict[str, str]],
                      gen: GenerationSettings) -> tuple[str, float, float, float]:
    """(text, seconds to first token, seconds in total, decode seconds after the first token)."""
    rendered = llm.render(messages)
    pieces, first, t_send = [], None, time.perf_counter()
    for piece in llm.stream(rendered, gen):
        first = first if first is not None else time.perf_counter()
        pieces.append(piece)
    t_end = time.perf_counter()
    first = first if first is not None else t_end
    return "".join(pieces), first - t_send, t_end - t_send, t_end - first


def _prompt_rate(stats: Any, first_s: float) -> float | None:
    """Prompt tokens evaluated per second of the time to the first token.

    The runner keeps the system prompt in the KV cache from the model load, so `reused_tokens`
    of the prompt cost nothing; counting them would overstate the speed.
    """
    evaluated = stats.prompt_tokens - stats.reused_tokens
    return evaluated / first_s if evaluated > 0 and first_s > 0 else None


def _bench_one_model(llm: Any, entry: Any, gen: GenerationSettings) -> ModelBenchRow:
    from rag_desktop.llm.gguf import read_gguf_info
    from rag_desktop.llm.prompts import build_messages

    row = ModelBenchRow(entry.id, entry.file)
    try:
        info = read_gguf_info(entry.path) if entry.path is not None else None
        if info is not None:
            row = replace(row, size_mb=info.size_bytes / 2**20, n_params=info.n_params,
                          quant=info.quant, context_length=info.context_length)
        t0 = time.perf_counter()
        loaded = llm.load(entry, gen)
        row = replace(row, load_s=time.perf_counter() - t0, backend=loaded.backend,
                      n_gpu_layers=loaded.n_gpu_layers, rss_mb=_rss_mb(llm.runner_pid),
                      vram_mb=_vram_mb(llm.runner_pid) if loaded.n_gpu_layers else None,
                      quant=row.quant or loaded.quant)
        _, first_s, total_s, decode_s = _timed_generation(
            llm, build_messages(BENCH_QUESTION, BENCH_PASSAGES), gen)
        stats = llm.last_stats
        row = replace(row, prompt_tokens=stats.prompt_tokens,
                      reused_prompt_tokens=stats.reused_tokens,
                      completion_tokens=stats.completion_tokens, latency_s=total_s,
                      prompt_tokens_per_s=_prompt_rate(stats, first_s),
                      gen_tokens_per_s=(stats.completion_tokens - 1) / decode_s
                      if stats.completion_tokens > 1 and decode_s > 0 else None)
        text, *_ = _timed_generation(llm, [{"role": "user", "content": JSON_PROMPT}], gen)
        return replace(row, json_valid=json_reply_valid(text))
    except Exception as exc:  # one broken model costs its row, not the benchmark
        return replace(row, error=" ".join(f"{type(exc).__name__}: {exc}".split()))
    finally:
        llm.close_model()


def bench_models(model_ids: list[str] | None, out_dir: Path,
                 progress: ProgressCallback | None = None, max_tokens: int = 64,
                 n_gpu_layers: int | None = None) -> list[Path]:
    """Benchmark each model (default: every one on this machine); write bench-models.csv/.md."""
    from rag_desktop.llm.catalog import load_catalog
    from rag_desktop.llm.client import LLM

    catalog = load_catalog()
    entries = ([catalog.get(m) for m in model_ids] if model_ids
               else [e for e in catalog.entries() if e.present])
    if not entries:
        raise ValueError("no model files on this machine; see `rag-desktop models`")
    gen = replace(GenerationSettings(), max_tokens=max_tokens, n_gpu_layers=n_gpu_layers)
    rows = []
    with LLM() as llm:
        for i, entry in enumerate(entries):
            if progress is not None:
                progress(ProgressEvent("bench", i, len(entries), entry.id))
            rows.append(_bench_one_model(llm, entry, gen))
    if progress is not None:
        progress(ProgressEvent("bench", len(entries), len(entries), "done"))
    return write_tables(out_dir, "bench-models", rows)
