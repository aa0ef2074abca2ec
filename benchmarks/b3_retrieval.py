"""B3: retrieval latency p50/p95 at 1k, 10k and 100k chunks; exact FAISS against HNSW.

The corpora are synthesized from real manuals, because embedding 100k chunks with MiniLM on a
2-core machine would take hours:
- real chunks: the sample manual (and, with --extra-pdf, more manuals) chunked by the app and
  embedded once with the packaged MiniLM (cached under build/);
- chunk i of a corpus of N copies real chunk j = i mod n_real with ~15% of its words dropped and
  a few words of another real chunk spliced in (so BM25 sees realistic, not identical, texts);
- its vector is normalize(0.8 v_j + 0.2 v_r + noise), noise ~ N(0, 0.03^2) per dimension, with
  r another random real chunk: vectors cluster like real ones, without being exact duplicates.
The app's `Library.search` (query embedding, BM25 over every chunk, exact FAISS, RRF fusion,
SQLite fetch) is timed over the sample questions, after a warm-up that builds its search state.
FAISS alone is timed for IndexFlatIP (what the app uses) and IndexHNSWFlat (M=32,
efSearch=64), with HNSW's recall@k against the exact top k.

    python -m benchmarks.b3_retrieval [--quick|--full] [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

NOISE = 0.03


def real_chunks(pdfs: list[Path], cache: Path) -> tuple[list[str], np.ndarray]:
    """The app's chunks of `pdfs` and their MiniLM vectors (embedded once, cached in `cache`)."""
    from rag_desktop.config import ChunkSettings
    from rag_desktop.fsutil import file_sha256
    from rag_desktop.library.documents import chunk_pages, read_pdf
    from rag_desktop.library.embeddings import SentenceTransformerEmbedder

    texts: list[str] = []
    for pdf in pdfs:
        sha = file_sha256(pdf)
        texts += [c.text for c in chunk_pages(read_pdf(pdf), pdf.name, sha, ChunkSettings())]
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    file = cache / f"b3-real-{key}.npy"
    if file.is_file():
        return texts, np.load(file)
    vectors = SentenceTransformerEmbedder().embed_documents(texts, batch_size=64)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(file, vectors)
    return texts, vectors


def synthesize(texts: list[str], vectors: np.ndarray, n: int,
               seed: int = 0) -> tuple[list[str], np.ndarray]:
    """n perturbed copies of the real chunks and their mixed, noisy, normalized vectors."""
    rng = np.random.default_rng(seed)
    n_real = len(texts)
    words = [t.split() for t in texts]
    out_texts = []
    for i in range(n):
        src = words[i % n_real]
        keep = [w for w in src if rng.random() > 0.15]
        other = words[int(rng.integers(n_real))]
        if other:
            start = int(rng.integers(len(other)))
            keep[len(keep) // 2 : len(keep) // 2] = other[start : start + 8]
        out_texts.append(" ".join(keep) or src[0] if src else "empty")
    base = vectors[np.arange(n) % n_real]
    mix = vectors[rng.integers(0, n_real, size=n)]
    out = 0.8 * base + 0.2 * mix + rng.normal(0, NOISE, size=base.shape).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out_texts, np.ascontiguousarray(out, dtype=np.float32)


def build_library(folder: Path, texts: list[str], vectors: np.ndarray, embedder: Any) -> Any:
    """A real app library holding the synthesized chunks (one 'document' per 1,000 chunks)."""
    from rag_desktop.library.documents import Chunk
    from rag_desktop.library.library import DocumentInfo, Library
    from rag_desktop.library.store import clone_index, utc_now

    lib = Library.open(folder, embedder)
    store = lib.store
    with store.transaction():
        index = clone_index(store.load_index())
        for begin in range(0, len(texts), 1000):
            part = texts[begin : begin + 1000]
            sha = hashlib.sha256(f"synthetic-{begin}".encode()).hexdigest()
            name = f"synthetic-{begin // 1000:04d}.pdf"
            chunks = [Chunk(name, sha, 1 + j // 4, None, 0, len(t), t, j)
                      for j, t in enumerate(part)]
            info = DocumentInfo(name, sha, name, 1 + len(part) // 4, len(part), utc_now())
            ids = store.insert_document(info, chunks)
            index.add_with_ids(vectors[begin : begin + len(part)], np.asarray(ids, dtype=np.int64))
        store.commit_generation(index)
    return lib


def faiss_legs(vectors: np.ndarray, queries: np.ndarray, k: int) -> dict[str, Any]:
    """Per-query seconds of exact and HNSW search, HNSW build time and recall@k."""
    import faiss

    dim = vectors.shape[1]
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    t0 = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 40
    hnsw.add(vectors)
    build_s = time.perf_counter() - t0
    hnsw.hnsw.efSearch = 64
    out: dict[str, Any] = {"hnsw_build_s": build_s, "flat": [], "hnsw": [], "recall": []}
    for q in queries:
        t0 = time.perf_counter()
        _, exact = flat.search(q[None, :], k)
        t1 = time.perf_counter()
        _, approx = hnsw.search(q[None, :], k)
        t2 = time.perf_counter()
        out["flat"].append(t1 - t0)
        out["hnsw"].append(t2 - t1)
        out["recall"].append(len(set(exact[0]) & set(approx[0])) / k)
    return out


def measure(sizes: list[int], pdfs: list[Path], n_queries: int, work: Path) -> list[dict]:
    """One row per corpus size."""
    from benchmarks.common import question_texts
    from rag_desktop.library.embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    texts, vectors = real_chunks(pdfs, work.parent if work.parent.name == "build" else work)
    questions = question_texts()
    queries = [questions[i % len(questions)] + ("" if i < len(questions) else f" ({i})")
               for i in range(n_queries)]
    qvecs = np.stack([embedder.embed_query(q) for q in queries])
    rows = []
    for n in sizes:
        s_texts, s_vecs = synthesize(texts, vectors, n)
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            t0 = time.perf_counter()
            lib = build_library(Path(tmp) / "lib", s_texts, s_vecs, embedder)
            build_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            lib.search("warm up the search state", k=4)
            state_s = time.perf_counter() - t0
            search = []
            for q in queries:
                t0 = time.perf_counter()
                lib.search(q, k=4, bm25_weight=0.3, k_per_leg=20)
                search.append(time.perf_counter() - t0)
            bm25, bm25_app = [], []
            assert lib._state is not None and lib._state.bm25 is not None
            leg = lib._state.bm25
            for q in queries[:10]:  # rank_bm25 alone: seconds a query at 100k chunks
                terms = leg.tokenizer(q)
                t0 = time.perf_counter()
                leg.bm25.get_scores(terms)
                t1 = time.perf_counter()
                app_scores = getattr(leg, "okapi_scores", None)
                if app_scores is not None:
                    app_scores(terms)
                    bm25_app.append(time.perf_counter() - t1)
                bm25.append(t1 - t0)
            lib.close()
        embed = []
        for q in queries[:10]:
            t0 = time.perf_counter()
            embedder.embed_query(q + " ?")
            embed.append(time.perf_counter() - t0)
        legs = faiss_legs(s_vecs, qvecs, 20)
        legs4 = faiss_legs(s_vecs, qvecs, 4) if n <= 10_000 else None
        rows.append({"n": n, "n_real": len(texts), "search": search, "bm25": bm25,
                     "bm25_app": bm25_app,
                     "embed": embed, "build_s": build_s, "state_s": state_s, **legs,
                     "recall4": legs4["recall"] if legs4 else None})
        print(f"b3: {n} chunks done", file=sys.stderr, flush=True)
    return rows


def render(rows: list[dict]) -> str:
    """The retrieval-latency tables (section b3 of docs/performance.md)."""
    from benchmarks.common import fmt, median, percentile, table

    def ms(vals: list[float], q: float) -> str:
        return fmt(1000 * percentile(vals, q), 1)

    app = [[fmt(r["n"], 0), ms(r["search"], 50), ms(r["search"], 95), ms(r["embed"], 50),
            ms(r["bm25"], 50), ms(r["bm25_app"], 50) if r["bm25_app"] else "—",
            ms(r["flat"], 50), fmt(r["state_s"], 1)] for r in rows]
    ann = [[fmt(r["n"], 0), ms(r["flat"], 50), ms(r["flat"], 95), ms(r["hnsw"], 50),
            ms(r["hnsw"], 95), fmt(r["hnsw_build_s"], 1), fmt(median(r["recall"]) * 100, 1)
            + "% / " + fmt(100 * sum(r["recall"]) / len(r["recall"]), 1) + "%"]
           for r in rows]
    return (
        "App `Library.search` (k=4, k per leg 20, bm25 weight 0.3), ms:\n\n"
        + table(["chunks", "search p50", "search p95", "query embed p50",
                 "rank_bm25 get_scores p50", "app BM25 (postings) p50", "exact FAISS p50",
                 "first search (builds BM25) s"], app)
        + "\n\nDense leg alone: exact `IndexFlatIP` against `IndexHNSWFlat` (M 32, efSearch 64), "
        "k=20, ms:\n\n"
        + table(["chunks", "exact p50", "exact p95", "HNSW p50", "HNSW p95", "HNSW build s",
                 "HNSW recall@20 median / mean"], ann)
    )


def main(argv: list[str] | None = None) -> int:
    """Measure and write section b3 of docs/performance.md."""
    from benchmarks import common

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(ap)
    ap.add_argument("--sizes", default=None, help="comma-separated chunk counts")
    ap.add_argument("--section", default="b3", help="docs/performance.md section name")
    ap.add_argument("--extra-pdf", type=Path, action="append", default=[],
                    help="more real manuals to draw chunks from")
    args = ap.parse_args(argv)
    common.set_offline_here()
    load = common.load_average()
    n_queries = common.repeats(args, quick=40, full=100)
    sizes = [int(s) for s in (args.sizes or "1000,10000,100000").split(",")]
    common.BUILD.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="b3-", dir=common.BUILD))
    try:
        rows = measure(sizes, [common.SAMPLE_PDF, *args.extra_pdf], n_queries, work)
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    pdf_names = ", ".join(p.name for p in [common.SAMPLE_PDF, *args.extra_pdf])
    notes = (f"{n_queries} queries (the sample questions, cycled) after one warm-up search. "
             f"Corpora synthesized from {rows[0]['n_real']} real chunks of {pdf_names}: perturbed "
             "texts, vectors mixed from real MiniLM vectors plus noise (see the module docstring); "
             "they are not real embeddings of the synthesized texts.")
    title = "B3. Retrieval latency" + ("" if args.section == "b3" else f" ({args.section})")
    common.emit(args, args.section, title, render(rows), load, probe_llama=False, notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
