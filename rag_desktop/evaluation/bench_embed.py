"""`bench embeddings`: each embedding model in a fresh process, scored dense-only on several sets.

A fresh process per model makes load time a cold load and peak memory the model's own: in one
process, MiniLM's torch would stay resident and inflate every model measured after it.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from rag_desktop.config import ChunkSettings
from rag_desktop.evaluation.questions import Question
from rag_desktop.progress import ProgressCallback, ProgressEvent


@dataclass(frozen=True)
class EmbeddingBenchRow:
    """One embedding model on one set (a PDF and its questions) of `bench embeddings`."""

    model_id: str
    set: str
    dim: int | None = None
    pages: int = 0
    chunks: int = 0
    max_tokens: int | None = None
    truncated_share: float | None = None  # chunks longer than max_tokens (cut or windowed)
    load_s: float | None = None
    passages_per_s: float | None = None
    pages_per_s: float | None = None  # embedding only, not reading or chunking
    query_ms: float | None = None  # median of the set's questions
    peak_rss_delta_mb: float | None = None
    questions: int = 0  # answerable questions with reference pages (hit@k, MRR)
    hit_at_1: float | None = None
    hit_at_4: float | None = None
    mrr_at_10: float | None = None
    top1_sim: float | None = None  # mean best cosine, answerable questions
    top1_sim_ood: float | None = None  # the same for NOT_IN_DOCUMENT questions
    error: str = ""


@dataclass(frozen=True)
class BenchSet:
    """A manual and its question set."""

    name: str
    pdf: Path
    questions: list[Question]


def dense_scores(sims: np.ndarray, chunk_pages: list[int],
                 questions: list[dict[str, Any]]) -> dict[str, Any]:
    """hit@1, hit@4, MRR@10 and mean top-1 cosines from a (question, chunk) similarity matrix.

    Each question is {"pages": [...], "ood": bool}; out-of-document questions and those
    without reference pages count only in top1_sim_ood / not at all.
    """
    judged = [i for i, q in enumerate(questions) if q["pages"] and not q["ood"]]
    ood = [i for i, q in enumerate(questions) if q["ood"]]
    order = np.argsort(-sims, axis=1)[:, :10] if sims.size else np.zeros((len(questions), 0), int)
    firsts = []
    for i in judged:
        wanted = set(questions[i]["pages"])
        firsts.append(next((r for r, j in enumerate(order[i]) if chunk_pages[j] in wanted), None))
    top1 = sims.max(axis=1) if sims.size else np.zeros(len(questions))

    def mean(values: list[float]) -> float | None:
        return float(np.mean(values)) if values else None

    return {
        "questions": len(judged),
        "hit_at_1": mean([float(f == 0) for f in firsts]),
        "hit_at_4": mean([float(f is not None and f < 4) for f in firsts]),
        "mrr_at_10": mean([1.0 / (f + 1) if f is not None else 0.0 for f in firsts]),
        "top1_sim": mean([float(top1[i]) for i in judged]),
        "top1_sim_ood": mean([float(top1[i]) for i in ood]),
    }


def _set_payload(bench_set: BenchSet) -> dict[str, Any]:
    """The chunks and questions of one set, as the child process reads them."""
    from rag_desktop.fsutil import file_sha256
    from rag_desktop.library.documents import chunk_pages, read_pdf

    pdf = bench_set.pdf
    if not pdf.is_file():
        raise ValueError(f"{pdf}: no such PDF")
    pages = read_pdf(pdf)
    chunks = chunk_pages(pages, pdf.name, file_sha256(pdf), ChunkSettings())
    return {"name": bench_set.name, "pages": len(pages), "texts": [c.text for c in chunks],
            "chunk_pages": [c.page for c in chunks],
            "questions": [{"question": q.question, "pages": list(q.pages),
                           "ood": q.expects_refusal} for q in bench_set.questions]}


def bench_embeddings(sets: list[BenchSet], model_ids: list[str] | None, out_dir: Path,
                     progress: ProgressCallback | None = None) -> list[Path]:
    """Score each model on each set, dense only; write bench-embeddings.csv/.md into out_dir."""
    from rag_desktop.evaluation.tables import write_tables
    from rag_desktop.library.embeddings import available_embedding_models, canonical_model_id

    ids = [canonical_model_id(m) for m in model_ids] if model_ids else \
        available_embedding_models()
    if not ids:
        raise ValueError("no embedding model is available offline")
    if not sets:
        raise ValueError("no question set to benchmark")
    payload = {"sets": [_set_payload(s) for s in sets]}
    rows: list[EmbeddingBenchRow] = []
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        path = Path(tmp) / "payload.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        for i, model_id in enumerate(ids):
            if progress is not None:
                progress(ProgressEvent("bench", i, len(ids), model_id))
            rows += _run_child(model_id, path, Path(tmp) / f"rows-{i}.json", payload)
    if progress is not None:
        progress(ProgressEvent("bench", len(ids), len(ids), "done"))
    return write_tables(out_dir, "bench-embeddings", rows)


def _run_child(model_id: str, payload: Path, out: Path,
               sets: dict[str, Any]) -> list[EmbeddingBenchRow]:
    """One model's rows, measured in a fresh interpreter; error rows if it fails."""
    from rag_desktop.config import offline_env

    env = offline_env()
    proc = subprocess.run([sys.executable, "-m", "rag_desktop.evaluation.bench_embed", str(payload),
                           model_id, str(out)], capture_output=True, text=True, env=env)
    if proc.returncode == 0 and out.is_file():
        names = {f.name for f in fields(EmbeddingBenchRow)}
        return [EmbeddingBenchRow(**{k: v for k, v in row.items() if k in names})
                for row in json.loads(out.read_text(encoding="utf-8"))]
    tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return [EmbeddingBenchRow(model_id, s["name"], error=" ".join(tail.split()))
            for s in sets["sets"]]


# ---- the child process ----


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux: VmHWM); False where it cannot be reset."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    """Peak resident memory of this process since the last reset, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def _current_rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def _measure_set(embedder: Any, s: dict[str, Any], load_s: float,
                 baseline_mb: float) -> dict[str, Any]:
    """Every column of one row but the model id: tokens, speed, memory, ranks."""
    texts, questions = s["texts"], s["questions"]
    limit = embedder.max_tokens
    counts = embedder.count_tokens(texts)
    truncated = float(np.mean([c > limit for c in counts])) if limit and counts else 0.0
    t0 = time.perf_counter()
    docs = embedder.embed_documents(texts)
    embed_s = time.perf_counter() - t0
    vectors, times = [], []
    for q in questions:
        t1 = time.perf_counter()
        vectors.append(embedder.embed_query(q["question"]))
        times.append(time.perf_counter() - t1)
    sims = np.stack(vectors) @ docs.T if vectors and len(texts) else np.zeros((len(questions), 0))
    return {"set": s["name"], "dim": int(embedder.dim), "pages": s["pages"],
            "chunks": len(texts), "max_tokens": limit, "truncated_share": truncated,
            "load_s": load_s, "passages_per_s": len(texts) / embed_s if embed_s > 0 else None,
            "pages_per_s": s["pages"] / embed_s if embed_s > 0 else None,
            "query_ms": float(np.median(times)) * 1000 if times else None,
            "peak_rss_delta_mb": _peak_rss_mb() - baseline_mb,
            **dense_scores(sims, s["chunk_pages"], questions)}


def child_main(payload_path: str, model_id: str, out_path: str) -> None:
    """Measure `model_id` on every set of the payload; write the rows as JSON to out_path."""
    from rag_desktop.config import set_offline
    from rag_desktop.library.embeddings import get_embedder

    set_offline()
    sets = json.loads(Path(payload_path).read_text(encoding="utf-8"))["sets"]
    gc.collect()
    baseline = _current_rss_mb()
    _reset_peak_rss()
    t0 = time.perf_counter()
    embedder = get_embedder(model_id)
    # Both paths load lazily (MiniLM's passages need torch, its questions do not).
    embedder.embed_query("warm-up")
    embedder.embed_documents(["warm-up"])
    load_s = time.perf_counter() - t0
    rows = []
    for s in sets:
        row = {"model_id": embedder.model_id, **_measure_set(embedder, s, load_s, baseline)}
        rows.append(row)
        _reset_peak_rss()
    Path(out_path).write_text(json.dumps(rows), encoding="utf-8")


if __name__ == "__main__":
    child_main(*sys.argv[1:4])
