"""Try fusion functions offline: dump both legs' candidates once, then score any rule in ms.

    .venv/bin/python -m benchmarks.tune_fusion --embedders use [--tokenizer word-kiwi-morpheme-v1]

For every dev set and embedder, each answerable question's BM25 and dense candidates (top 40
of each leg, with both scores for every candidate, and each candidate's page) are collected
through the libraries that benchmarks.quality builds. Then every rule in RULES ranks them and
hit@4 (one chunk per page) is printed per set, beside each leg alone. This is how the default
fusion was chosen (docs/retrieval.md); the app's own path is measured by benchmarks.quality.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import devsets
from benchmarks.quality import open_library
from rag_desktop.config import ChunkSettings
from rag_desktop.evaluation.questions import expects_refusal
from rag_desktop.library.fusion import min_max
from rag_desktop.library.textindex import TOKENIZER_ID

N = 40
Cands = dict[str, Any]  # ids, pages, bm25, dense, bm25_rank, dense_rank (numpy arrays)


def header_state(lib: Any) -> Any:
    """A search state whose chunks are indexed (BM25 and vectors) with their section path."""
    from rag_desktop.library.retrieval import SearchState
    from rag_desktop.library.store import new_index
    from rag_desktop.library.textindex import TOKENIZERS

    rows = lib.store.chunk_texts(contextual_header=True)
    vectors = lib.embedder.embed_documents([r[1] for r in rows])
    index = new_index(vectors.shape[1])
    index.add_with_ids(vectors, np.asarray([r[0] for r in rows], dtype=np.int64))
    return SearchState(-1, index, rows, TOKENIZERS[lib.manifest.tokenizer])


def candidates(lib: Any, question: str, state: Any = None) -> Cands:
    """Both legs' top N, with every candidate's two scores and its page."""
    state = state or lib._search_state()
    bm25 = state.bm25.scores(question)
    dense_leg = state._dense(lib.embedder, N)
    d_ids, _ = dense_leg.top(question, N)
    b_order = np.argsort(-bm25, kind="stable")[:N]
    b_ids = [state.bm25.chunk_ids[int(i)] for i in b_order if bm25[int(i)] != 0]
    ids = list(dict.fromkeys(d_ids + b_ids))
    chunks = lib.store.chunks_by_id(ids)
    cos = state.cosines(question, dense_leg, ids)
    return {
        "ids": ids, "pages": [chunks[i].page for i in ids],
        "bm25": np.asarray([bm25[state.position[i]] for i in ids]), "dense": cos,
        "bm25_rank": np.asarray([b_ids.index(i) + 1 if i in b_ids else 10_000 for i in ids]),
        "dense_rank": np.asarray([d_ids.index(i) + 1 if i in d_ids else 10_000 for i in ids]),
    }


def rrf(w: float, c: int = 60) -> Callable[[Cands], np.ndarray]:
    """Weighted reciprocal rank fusion."""
    return lambda x: w / (c + x["bm25_rank"]) + (1 - w) / (c + x["dense_rank"])


def convex(w: float) -> Callable[[Cands], np.ndarray]:
    """Min-max normalised scores over the candidates."""
    return lambda x: w * min_max(x["bm25"]) + (1 - w) * min_max(x["dense"])


def convex_max(w: float) -> Callable[[Cands], np.ndarray]:
    """BM25 divided by its best score, cosine as is (no per-query stretch of the dense leg)."""
    return lambda x: w * x["bm25"] / max(float(x["bm25"].max()), 1e-9) + (1 - w) * x["dense"]


def zscore(w: float) -> Callable[[Cands], np.ndarray]:
    """Each leg's scores standardised over the candidates."""
    def z(v: np.ndarray) -> np.ndarray:
        return (v - v.mean()) / (v.std() + 1e-9)
    return lambda x: w * z(x["bm25"]) + (1 - w) * z(x["dense"])


RULES: dict[str, Callable[[Cands], np.ndarray]] = {
    "bm25": lambda x: -x["bm25_rank"].astype(float),
    "dense": lambda x: -x["dense_rank"].astype(float),
    **{f"rrf {w}": rrf(w) for w in (0.3, 0.5, 0.7)},
    **{f"rrf {w} c=10": rrf(w, 10) for w in (0.3, 0.5)},
    **{f"convex {w}": convex(w) for w in (0.3, 0.4, 0.5, 0.6, 0.7)},
    **{f"convexmax {w}": convex_max(w) for w in (0.1, 0.2, 0.3, 0.4)},
    **{f"z {w}": zscore(w) for w in (0.3, 0.4, 0.5, 0.6)},
}


def top_pages(x: Cands, scores: np.ndarray, k: int) -> list[int]:
    """The first k distinct pages by `scores`."""
    seen: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        page = x["pages"][int(i)]
        if page not in seen:
            seen.append(page)
        if len(seen) == k:
            break
    return seen


def hit_at(x: Cands, scores: np.ndarray, wanted: list[int], k: int = 4,
           seats: int = 0) -> bool:
    """A reference page among the first k distinct pages by `scores`; with `seats`, each leg's
    best `seats` pages are sure of a place (they replace the last fused ones)."""
    pages = top_pages(x, scores, k)
    if seats:
        forced = (top_pages(x, -x["bm25_rank"].astype(float), seats)
                  + top_pages(x, -x["dense_rank"].astype(float), seats))
        missing = [p for p in dict.fromkeys(forced) if p not in pages]
        pages = pages[: k - len(missing)] + missing
    return bool(set(pages) & set(wanted))


def main(argv: list[str] | None = None) -> int:
    """Print hit@4 of every rule on every set, per embedder."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedders", type=lambda s: s.split(","), default=["use"])
    ap.add_argument("--tokenizer", default=TOKENIZER_ID)
    ap.add_argument("--contextual-header", action="store_true",
                    help="index each chunk with its section path first")
    args = ap.parse_args(argv)
    for embedder in args.embedders:
        results: dict[str, dict[str, float]] = {}
        for devset in devsets.dev_sets():
            lib = open_library(devset, embedder, args.tokenizer, ChunkSettings())
            items = [i for i in devset.items() if not expects_refusal(i["reference_answer"])]
            state = header_state(lib) if args.contextual_header else None
            cands = [(candidates(lib, i["question"], state), i["pages"]) for i in items]
            lib.close()
            for name, rule in RULES.items():
                for seats in (0, 1):
                    hits = [hit_at(x, rule(x), pages, seats=seats) for x, pages in cands]
                    label = name + (" +seat" if seats else "")
                    results.setdefault(label, {})[devset.name] = float(np.mean(hits))
        sets = [d.name for d in devsets.dev_sets()]
        print(f"\n{embedder}  ({args.tokenizer})\n| rule | " + " | ".join(sets) + " | min |")
        for name, row in results.items():
            vals = [row[s] for s in sets]
            print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in vals) + f" | {min(vals):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
