"""B6: a library of a million chunks: the dense index (exact, IVF, HNSW), BM25's first search
after open, and memory per chunk.

Synthetic, for scale (embedding a million real chunks would take days on two cores):
- vectors: a normalised gaussian mixture at the default embedder's dimension (N / 250 centres,
  unit-variance noise per dimension: a query's 20th neighbour has cosine ~0.45, its first ~0.55,
  as real text has), written to a .npy file and read through a memory map;
- texts: ~40 words a chunk drawn from a 50,000-word vocabulary with Zipf frequencies (s = 1.1).
A real library folder is built from them (SQLite rows, the vector file committed by the app's
own code) and opened with `Library.open`, as the app opens one. Real text checks recall at
small scale: the dev manual's chunks embedded by the default embedder, its questions as queries.

    nice -n 19 python -m benchmarks.b6_scale [--chunks 1000000] [--hnsw-at 100000] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

K = 20
WORDS_PER_CHUNK = 40
VOCAB = 50_000


def rss_anon_mib() -> float:
    """This process's anonymous resident memory (file pages, such as a memory map, left out)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def draw(n: int, dim: int, seed: int, n_base: int) -> np.ndarray:
    """n normalised points of the mixture of a base of n_base (N / 250 fixed centres)."""
    centres = np.random.default_rng(7).standard_normal((max(100, n_base // 250), dim), np.float32)
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(0, len(centres), n)] + rng.standard_normal((n, dim), np.float32)
    return np.asarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)


def mixture(path: Path, n: int, dim: int, seed: int) -> np.ndarray:
    """n mixture vectors written to a .npy file in batches, returned memory-mapped."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))
    for i, lo in enumerate(range(0, n, 65_536)):
        out[lo:lo + 65_536] = draw(min(65_536, n - lo), dim, seed * 1000 + i, n)
    out.flush()
    return np.load(path, mmap_mode="r", allow_pickle=False)


def one_by_one(index: Any, queries: np.ndarray) -> tuple[list[float], np.ndarray]:
    """Each query alone on one thread, as the app's dense leg searches: (seconds, ids)."""
    import faiss
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    times, found = [], []
    try:
        for q in queries:
            t0 = time.perf_counter()
            _, ids = index.search(q[None, :], K)
            times.append(time.perf_counter() - t0)
            found.append(ids[0])
    finally:
        faiss.omp_set_num_threads(threads)
    return times, np.asarray(found)


def recall(truth: np.ndarray, found: np.ndarray) -> float:
    """Mean recall@K of found against the exact top K."""
    return float(np.mean([len(set(t) & set(f)) / K for t, f in zip(truth, found, strict=True)]))


def flat_of(vectors: np.ndarray, n: int) -> Any:
    """An exact IndexFlatIP over the first n vectors (ids = rows + 1, as chunk ids start at 1)."""
    from rag_desktop.library import ann
    index = ann.new_flat(vectors.shape[1])
    for lo in range(0, n, 65_536):
        hi = min(n, lo + 65_536)
        index.add_with_ids(np.ascontiguousarray(vectors[lo:hi]), np.arange(lo + 1, hi + 1))
    return index


def ivf_of(vectors: np.ndarray, n: int) -> tuple[Any, float]:
    """The app's IVF index over the first n vectors, streamed from the map: (index, seconds)."""
    from rag_desktop.library import ann

    settings = ann.DenseIndexSettings()
    rng = np.random.default_rng(0)
    count = min(n, settings.nlist(n) * settings.train_per_list)
    sample = np.asarray(vectors[np.sort(rng.choice(n, count, replace=False))])

    def batches() -> Any:
        for lo in range(0, n, 65_536):
            hi = min(n, lo + 65_536)
            yield np.arange(lo + 1, hi + 1), vectors[lo:hi]

    t0 = time.perf_counter()
    index = ann.build_ivf(vectors.shape[1], batches, n, settings, sample)
    return index, time.perf_counter() - t0


def dense(vectors: np.ndarray, n: int, queries: np.ndarray, hnsw_at: int) -> dict[str, Any]:
    """Exact p50 at a few sizes, the IVF index at n (recall, p50, build, nprobe sweep), HNSW."""
    import faiss

    out: dict[str, Any] = {"flat": {}}
    truth = None
    for size in sorted({s for s in (100_000, 200_000, n) if s <= n}):
        flat = flat_of(vectors, size)
        out["flat"][size] = one_by_one(flat, queries[:30])[0]
        if size == n:
            truth = flat.search(queries, K)[1]
        del flat
    ivf, out["ivf_build_s"] = ivf_of(vectors, n)
    out["nlist"], out["nprobe"] = int(ivf.nlist), int(ivf.nprobe)
    out["sweep"] = []
    for nprobe in (ivf.nprobe // 4, ivf.nprobe // 2, ivf.nprobe, ivf.nprobe * 2):  # 1/64..1/8
        ivf.nprobe = max(1, nprobe)
        times, found = one_by_one(ivf, queries)
        out["sweep"].append((ivf.nprobe, recall(truth, found), times))
    ivf.nprobe = out["nprobe"]
    out["ivf"] = ivf
    if hnsw_at:
        small = min(hnsw_at, n)
        small_truth = flat_of(vectors, small).search(queries, K)[1]
        hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        t0 = time.perf_counter()
        for lo in range(0, small, 65_536):
            hnsw.add(np.ascontiguousarray(vectors[lo:min(small, lo + 65_536)]))
        build = time.perf_counter() - t0
        hnsw.hnsw.efSearch = 64
        times, found = one_by_one(hnsw, queries)
        small_ivf, ivf_build = ivf_of(vectors, small)
        ivf_times, ivf_found = one_by_one(small_ivf, queries)
        out["hnsw"] = {"n": small, "build_s": build, "recall": recall(small_truth, found + 1),
                       "times": times, "ivf_build_s": ivf_build, "ivf_times": ivf_times,
                       "ivf_recall": recall(small_truth, ivf_found)}
    return out


# ----- the library -------------------------------------------------------------------------------
def zipf_texts(n: int, seed: int) -> list[str]:
    """n chunks of ~40 words, Zipf-distributed over a fixed vocabulary of made-up words."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = np.array(["".join(rng.choice(letters, rng.integers(3, 11))) for _ in range(VOCAB)])
    ranks = (rng.zipf(1.1, size=n * WORDS_PER_CHUNK) - 1) % VOCAB
    words = vocab[ranks].reshape(n, WORDS_PER_CHUNK)
    return [" ".join(row) for row in words.tolist()]


def insert_document(conn: Any, sha: str, texts: list[str]) -> None:
    """One document's row and its chunks' rows, straight into SQLite."""
    conn.execute("INSERT INTO documents VALUES (?, ?, ?, 1, ?, '2026-01-01')",
                 (sha, f"{sha[-8:]}.pdf", f"/{sha[-8:]}.pdf", len(texts)))
    conn.executemany("INSERT INTO chunks(sha256, ordinal, page, page_label, start, \"end\", "
                     "text) VALUES (?, ?, 1, '1', 0, ?, ?)",
                     [(sha, i, len(t), t) for i, t in enumerate(texts)])


def build_library(path: Path, texts: list[str], index: Any, embedder: Any) -> None:
    """A library folder: 1,000 chunks a document, the index committed by the app's code."""
    from rag_desktop.library import ann
    from rag_desktop.library.library import Library

    lib = Library.open(path, embedder)
    store = lib.store
    with store.transaction():
        for d in range(0, len(texts), 1000):
            insert_document(store.conn, f"{d:064x}", texts[d:d + 1000])
        ann.commit(store, index)
    lib.close()


def old_first_search(path: Path) -> float:
    """Seconds the previous code's first search spent on BM25: every text read and tokenized,
    rank_bm25's BM25Okapi built, then its postings (the removed BM25Leg._postings)."""
    from collections import defaultdict

    from rank_bm25 import BM25Okapi

    from rag_desktop.library.store import LibraryStore
    from rag_desktop.library.textindex import TOKENIZERS

    t0 = time.perf_counter()
    store = LibraryStore.connect(path)
    tokenizer = TOKENIZERS[store.manifest().tokenizer]
    bm = BM25Okapi([tokenizer(text) or ["\x00"] for _, text in store.chunk_texts()])
    rows: dict[str, list[int]] = defaultdict(list)
    for i, doc in enumerate(bm.doc_freqs):
        for term in doc:
            rows[term].append(i)
    seconds = time.perf_counter() - t0
    store.close()
    return seconds


def library_side(work: Path, texts: list[str], index: Any, embedder: Any,
                 before_chunks: int) -> dict[str, Any]:
    """Build, then time: first search after open (no postings file, then with one, then after
    a 1,000-chunk document is added), search p50, memory per chunk."""
    from rag_desktop.library import ann, postings
    from rag_desktop.library.library import Library

    path = work / "lib"
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    build_library(path, texts, index, embedder)
    out["build_s"] = time.perf_counter() - t0
    for label in ("first_ever", "reopen"):  # no postings file yet, then the saved one
        t0 = time.perf_counter()
        with Library.open(path, embedder) as lib:
            lib.search(texts[0][:60], k=4)
            out[label] = time.perf_counter() - t0
    with Library.open(path, embedder) as lib:
        store = lib.store
        vec = np.random.default_rng(3).standard_normal((1000, lib.manifest.dim), np.float32)
        with store.transaction():
            insert_document(store.conn, "f" * 64, zipf_texts(1000, 9))
            first_new = store.chunk_count() - 999
            grown = store.load_index()
            grown.add_with_ids(vec / np.linalg.norm(vec, axis=1, keepdims=True),
                               np.arange(first_new, first_new + 1000))
            ann.commit(store, grown)
            del grown
        t0 = time.perf_counter()
        lib.search(texts[1][:60], k=4)
        out["after_add"] = time.perf_counter() - t0
        out["search"] = []
        for text in texts[2:52]:
            t0 = time.perf_counter()
            lib.search(" ".join(text.split()[:6]), k=4)
            out["search"].append(time.perf_counter() - t0)
        out["kind"] = ann.kind_of(lib._search_state().index)
        generation, key = store.generation, f"{store.meta('uid')}:{lib.manifest.tokenizer}"
    vector_file = max(path.glob("vectors-*.faiss"), key=lambda p: p.stat().st_mtime)
    out["vectors_mib"] = loaded_mib(f"ann.read_index(Path({str(vector_file)!r}))")
    postings_file = str(path / postings.file_name(generation))
    out["postings_mib"] = loaded_mib(f"postings.load(Path({postings_file!r}), {key!r})")
    out["sqlite_bytes"] = (path / "library.sqlite").stat().st_size
    out["postings_file"] = (path / postings.file_name(generation)).stat().st_size
    out["vector_file"] = sum(p.stat().st_size for p in path.glob("vectors-*.faiss"))
    out["old"] = old_first_search(path) if before_chunks else None
    return out


def loaded_mib(expression: str) -> float:
    """RssAnon added by evaluating `expression` in a fresh process (after its imports)."""
    code = ("from pathlib import Path; import faiss, numpy; "
            "from rag_desktop.library import ann, postings; from benchmarks.b6_scale import "
            f"rss_anon_mib as m; a = m(); x = {expression}; assert x is not None; print(m() - a)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[1])
    return float(done.stdout.strip().splitlines()[-1])


def real_text_recall(embedder: Any, work: Path) -> dict[str, Any]:
    """recall@20 of an IVF index on real chunks (the dev manuals, the default embedder)."""
    from benchmarks import common
    from rag_desktop.library import ann
    from rag_desktop.library.library import Library

    shared = common.REPO / ".." / "shared" / "eval" / "lilypond-usage.pdf"
    pdfs = [shared if shared.is_file() else common.SAMPLE_PDF,
            common.REPO / "benchmarks" / "devsets" / "R-admin.pdf"]
    with Library.open(work / "real", embedder) as lib:
        lib.add_pdfs([p for p in pdfs if p.is_file()])
        exact = lib.store.load_index()
    questions = common.question_texts()
    for devset in (shared.with_suffix(".jsonl"),
                   common.REPO / "benchmarks" / "devsets" / "kotex-utf-doc.jsonl"):
        if devset.is_file():
            questions += [json.loads(line)["question"]
                          for line in devset.read_text(encoding="utf-8").splitlines() if line]
    queries = np.asarray([embedder.embed_query(q) for q in questions], dtype=np.float32)
    # A few thousand chunks are below the default's training minimum (16 lists x 40 points).
    ivf = ann.fit(exact, ann.IVF, ann.DenseIndexSettings(train_per_list=8))
    n = int(exact.ntotal)
    # The synthetic mixture at the same size and settings: is it easier than real text?
    synthetic = flat_of(draw(n, exact.d, 1, n), n)
    synthetic_ivf = ann.fit(synthetic, ann.IVF, ann.DenseIndexSettings(train_per_list=8))
    fake_queries = draw(len(questions), exact.d, 2, n)
    truth = exact.search(queries, K)[1], synthetic.search(fake_queries, K)[1]
    sweep = []
    for nprobe in sorted({max(1, ivf.nlist // 32), max(1, ivf.nlist // 8), 16}):
        ivf.nprobe = synthetic_ivf.nprobe = nprobe
        sweep.append((nprobe, recall(truth[0], ivf.search(queries, K)[1]),
                      recall(truth[1], synthetic_ivf.search(fake_queries, K)[1])))
    return {"n": n, "queries": len(questions), "nlist": int(ivf.nlist), "sweep": sweep}


def render(n: int, d: dict[str, Any], lib: dict[str, Any], real: dict[str, Any] | None,
           dim: int) -> str:
    """The tables of section b6."""
    from benchmarks.common import fmt, percentile, table

    def ms(vals: list[float], q: float = 50) -> str:
        return fmt(1000 * percentile(vals, q), 1)

    flat_rows = [[fmt(size, 0), ms(times), ms(times, 95)] for size, times in d["flat"].items()]
    sweep = [[str(p) + (" (chosen)" if p == d["nprobe"] else ""), f"{r:.3f}", ms(t), ms(t, 95)]
             for p, r, t in d["sweep"]]
    parts = [
        f"Dense leg alone, {dim}-d vectors, k={K}, one query at a time on one thread, ms. "
        "Exact `IndexFlatIP`:",
        table(["chunks", "p50", "p95"], flat_rows),
        f"`IndexIVFFlat` at {fmt(n, 0)} chunks (nlist {d['nlist']}), built in "
        f"{fmt(d['ivf_build_s'], 1)} s (train + add, streamed from the memory map); "
        f"recall@{K} against exact:",
        table(["nprobe", f"recall@{K}", "p50", "p95"], sweep),
    ]
    if "hnsw" in d:
        h = d["hnsw"]
        parts += [f"Approximate indexes compared at {fmt(h['n'], 0)} chunks:", table(
            ["index", "build s", f"recall@{K}", "p50", "can remove ids"],
            [["IVFFlat (app settings)", fmt(h["ivf_build_s"], 1), f"{h['ivf_recall']:.3f}",
              ms(h["ivf_times"]), "yes"],
             ["HNSWFlat M 32, efSearch 64", fmt(h["build_s"], 1), f"{h['recall']:.3f}",
              ms(h["times"]), "no"]])]
    if real is not None:
        parts.append(
            f"Real text: {real['n']:,} chunks of the dev manuals embedded by the default "
            f"embedder, {real['queries']} dev questions as queries, IVF with nlist "
            f"{real['nlist']}: recall@{K} against exact " + ", ".join(
                f"{r:.3f} at nprobe {p}" for p, r, _ in real["sweep"]) + "; the synthetic "
            "mixture at the same size and settings: " + ", ".join(
                f"{r:.3f}" for _, _, r in real["sweep"]) + ".")
    old = "—" if lib["old"] is None else fmt(lib["old"], 1)
    parts += [f"The library at {fmt(n, 0)} chunks (`Library.open` then one `search`, s; "
              f"dense index: {lib['kind']}):", table(
                  ["first search ever (builds postings)", "first search after reopen",
                   "after adding 1,000 chunks", "search p50 ms", "search p95 ms",
                   "previous code's BM25 build at first search"],
                  [[fmt(lib["first_ever"], 1), fmt(lib["reopen"], 2), fmt(lib["after_add"], 2),
                    ms(lib["search"]), ms(lib["search"], 95), old]])]
    per = [[f"vectors ({lib['kind']} index)", fmt(lib["vectors_mib"] * 2**20 / n, 0),
            fmt(lib["vector_file"] / n, 0)],
           ["BM25 postings", fmt(lib["postings_mib"] * 2**20 / n, 0),
            fmt(lib["postings_file"] / n, 0)],
           ["SQLite (chunk rows; read per query, not held)", "—",
            fmt(lib["sqlite_bytes"] / n, 0)]]
    parts += ["Memory per chunk, bytes (RAM: anonymous resident memory added by loading it):",
              table(["part", "RAM", "disk"], per)]
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Measure and write section b6 of docs/performance.md."""
    from benchmarks import common
    from rag_desktop.config import DEFAULT_EMBEDDING_MODEL
    from rag_desktop.library.embeddings import get_embedder

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(ap)
    ap.add_argument("--chunks", type=int, default=1_000_000, help="library size")
    ap.add_argument("--queries", type=int, default=200, help="dense-leg queries")
    ap.add_argument("--hnsw-at", type=int, default=100_000, help="HNSW comparison size (0: none)")
    ap.add_argument("--before-chunks", type=int, default=1,
                    help="0: skip timing the previous code's BM25 build")
    ap.add_argument("--no-real", action="store_true", help="skip the real-text recall check")
    args = ap.parse_args(argv)
    common.set_offline_here()
    load = common.load_average()
    embedder = get_embedder(DEFAULT_EMBEDDING_MODEL)
    embedder.embed_query("warm up")
    dim, n = embedder.dim, args.chunks
    common.BUILD.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="b6-", dir=common.BUILD))
    try:
        real = None if args.no_real else real_text_recall(embedder, work)
        print(f"b6: real text {real}", file=sys.stderr, flush=True)
        vectors = mixture(work / "vectors.npy", n, dim, seed=1)
        d = dense(vectors, n, draw(args.queries, dim, 12345, n), args.hnsw_at)
        print(f"b6: dense leg {d}", file=sys.stderr, flush=True)
        texts = zipf_texts(n, seed=2)
        index = d.pop("ivf")
        lib = library_side(work, texts, index, embedder, args.before_chunks)
        print(f"b6: library {lib}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    notes = ("Synthetic vectors and texts (module docstring of benchmarks/b6_scale.py); "
             "one process, niced. The previous code's column times only what its first search "
             "added for BM25 (texts read, tokenized, BM25Okapi and postings built).")
    common.emit(args, "b6", f"B6. A library of {n:,} chunks", render(n, d, lib, real, dim), load,
                probe_llama=False, notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
