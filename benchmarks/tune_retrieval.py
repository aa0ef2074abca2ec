"""Sweep chunking and hybrid-retrieval settings on the dev set; print hit@1 and hit@4.

    .venv/bin/python -m benchmarks.tune_retrieval [--sizes 400,600,800] [--out table.md]

Each chunking is embedded once and cached under build/tune-retrieval/ (keyed by the chunk
texts), so a re-run only pays for searches. Searches go through Library.search, the real path.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rag_desktop.config import ChunkSettings, set_offline
from rag_desktop.library.embeddings import SentenceTransformerEmbedder
from rag_desktop.library.library import Library

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO / ".." / "shared" / "eval"
CACHE = REPO / "build" / "tune-retrieval"


class CachingEmbedder:
    """The real MiniLM, with document vectors cached on disk and query vectors in memory."""

    def __init__(self, base: SentenceTransformerEmbedder) -> None:
        self.base = base
        self.model_id = base.model_id
        self.dim = base.dim
        self._queries: dict[str, np.ndarray] = {}

    def embed_documents(self, texts: list[str], batch_size: int = 32, progress: object = None,
                        cancel: object = None) -> np.ndarray:
        key = hashlib.sha256("\x1e".join([self.model_id, *texts]).encode()).hexdigest()[:24]
        file = CACHE / f"{key}.npy"
        if file.is_file():
            return np.load(file, allow_pickle=False)
        vectors = self.base.embed_documents(texts, batch_size)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(file, vectors, allow_pickle=False)
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = self.base.embed_query(text)
        return self._queries[text]


def load_questions() -> list[dict]:
    """The 20 dev questions."""
    lines = (EVAL / "lilypond-usage.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def score(lib: Library, questions: list[dict], weight: float, k_per_leg: int) -> tuple[int, int]:
    """(hit@1, hit@4): questions whose reference page is the first hit / among the top 4."""
    at1 = at4 = 0
    for q in questions:
        pages = [h.chunk.page for h in lib.search(q["question"], 4, weight, k_per_leg).hits]
        at1 += bool(pages[:1] and pages[0] in q["pages"])
        at4 += bool(set(pages) & set(q["pages"]))
    return at1, at4


def sweep(chunkings: list[ChunkSettings], weights: list[float], legs: list[int]) -> list[dict]:
    """One row per (chunking, weight, k_per_leg)."""
    embedder = CachingEmbedder(SentenceTransformerEmbedder())
    questions = load_questions()
    rows = []
    for chunking in chunkings:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            lib = Library.open(Path(tmp) / "lib", embedder, chunk_settings=chunking)  # type: ignore[arg-type]
            lib.add_pdf(EVAL / "lilypond-usage.pdf")
            build_s = time.perf_counter() - started
            for weight in weights:
                for k_per_leg in legs:
                    at1, at4 = score(lib, questions, weight, k_per_leg)
                    rows.append(dict(size=chunking.chunk_size, overlap=chunking.chunk_overlap,
                                     chunks=lib.chunk_count(), weight=weight, k_per_leg=k_per_leg,
                                     hit1=at1, hit4=at4))
                    print(rows[-1], flush=True)
            print(f"# chunking {chunking} built in {build_s:.1f} s", file=sys.stderr)
            lib.close()
    return rows


def markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table, best hit@4 then hit@1 first."""
    lines = ["| chunk_size | overlap | chunks | bm25_weight | k_per_leg | hit@1 | hit@4 |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(rows, key=lambda r: (-r["hit4"], -r["hit1"], r["size"], r["weight"])):
        lines.append(f"| {r['size']} | {r['overlap']} | {r['chunks']} | {r['weight']} | "
                     f"{r['k_per_leg']} | {r['hit1']}/20 | {r['hit4']}/20 |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Parse the grid, run it, print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="400,600,800,1000,1200")
    parser.add_argument("--overlaps", default="0.15", help="fractions of chunk_size")
    parser.add_argument("--weights", default="0,0.2,0.3,0.5,0.7,1")
    parser.add_argument("--legs", default="10,20,40")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    set_offline()
    chunkings = [ChunkSettings(int(s), int(int(s) * float(o)))
                 for s in args.sizes.split(",") for o in args.overlaps.split(",")]
    rows = sweep(chunkings, [float(w) for w in args.weights.split(",")],
                 [int(k) for k in args.legs.split(",")])
    table = markdown(rows)
    print(table)
    if args.out:
        args.out.write_text(table, encoding="utf-8")
        (args.out.with_suffix(".json")).write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
