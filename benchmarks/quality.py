"""Retrieval quality on every dev set: each leg, the fusions, seed 004's retriever, the gate.

Seed 004 is the LangChain script the app replaced (benchmarks/baseline_seed.py rebuilds it).

    .venv/bin/python -m benchmarks.quality                       # every set, the default embedder
    .venv/bin/python -m benchmarks.quality --embedders all-MiniLM-L6-v2,use-multilingual
    .venv/bin/python -m benchmarks.quality --no-write --configs default,bm25,dense

Libraries are built once per (set, embedder, chunking, tokenizer) under build/quality/ through
Library.add_pdf, the app's own path, and searched through Library.search. hit@k counts the
answerable items whose reference page is among the first k hits' pages; MRR is over the first
10; refusal items (NOT_IN_DOCUMENT) only feed the gate's table. Tables go to docs/retrieval.md
between markers, with the machine, date and load average.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks import devsets
from benchmarks.common import load_average, table, write_section
from rag_desktop.config import DEFAULT_EMBEDDING_MODEL, ChunkSettings, RetrievalSettings
from rag_desktop.evaluation.questions import expects_refusal
from rag_desktop.library.library import Library
from rag_desktop.library.textindex import TOKENIZER_ID

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build" / "quality"
DOC = REPO / "docs" / "retrieval.md"
D = RetrievalSettings()

# name -> Library.search keyword arguments. "bm25"/"dense" are the legs alone (convex at w=1/0
# ranks by one leg only; the other leg's chunks can only come after).
def _cfg(fusion: str, w: float, pages: bool, seats: bool = False, **extra: Any) -> dict[str, Any]:
    return {"fusion": fusion, "bm25_weight": w, "one_chunk_per_page": pages, "leg_seats": seats,
            **extra}


CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "bm25": _cfg("convex", 1.0, False),
    "dense": _cfg("convex", 0.0, False),
    "bm25 +pages": _cfg("convex", 1.0, True),
    "dense +pages": _cfg("convex", 0.0, True),
    "rrf 0.3 (specified)": _cfg("rrf", 0.3, False),
    "rrf 0.3 +pages": _cfg("rrf", 0.3, True),
    "rrf 0.3 +pages +seats": _cfg("rrf", 0.3, True, True),
    "rrf 0.3 c=10 +pages": _cfg("rrf", 0.3, True, rrf_c=10),
    "rrf 0.5 +pages": _cfg("rrf", 0.5, True),
    "rrf 0.7 +pages": _cfg("rrf", 0.7, True),
    "convex 0.3 +pages": _cfg("convex", 0.3, True),
    "convex 0.5 +pages": _cfg("convex", 0.5, True),
    "convex 0.7 +pages": _cfg("convex", 0.7, True),
    "convex 0.3 +pages +seats": _cfg("convex", 0.3, True, True),
    "convex 0.5 +pages +seats": _cfg("convex", 0.5, True, True),
}


@dataclass(frozen=True)
class Score:
    """One (set, embedder, tokenizer, config) cell."""

    devset: str
    embedder: str
    tokenizer: str
    config: str
    n: int
    hit1: float
    hit4: float
    mrr: float
    missed: list[str]


def slug(text: str) -> str:
    """A folder-safe name."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def open_library(devset: devsets.DevSet, embedder_id: str, tokenizer: str,
                 chunking: ChunkSettings) -> Library:
    """The set's library for this embedder and chunking, built on first use."""
    from rag_desktop.library.embeddings import get_embedder

    # "fit": chunks are also split to the embedder's window (Library._chunk); bump on changes.
    folder = BUILD / slug(f"{devset.name}-{embedder_id.rsplit('/', 1)[-1]}-{chunking.chunk_size}-"
                          f"{chunking.chunk_overlap}-fit{os.environ.get('QUALITY_FIT', '1')}")
    embedder = get_embedder(embedder_id)
    lib = Library.open(folder, embedder, chunk_settings=chunking)
    if not lib.documents():
        print(f"quality: ingesting {devset.pdf.name} with {embedder_id}", file=sys.stderr)
        lib.add_pdf(devset.pdf)
    use_tokenizer(lib, tokenizer)
    return lib


def use_tokenizer(lib: Library, tokenizer: str) -> None:
    """Search `lib` with another BM25 tokenizer (the BM25 index lives only in memory)."""
    lib.manifest = replace(lib.manifest, tokenizer=tokenizer)
    lib._state = None  # rebuilt with the manifest's tokenizer on the next search


def score(lib: Library, items: list[dict[str, Any]], kwargs: dict[str, Any]) -> tuple:
    """(n, hit@1, hit@4, MRR@10, missed ids) over the answerable items."""
    hit1 = hit4 = rr = 0.0
    missed: list[str] = []
    answerable = [i for i in items if not expects_refusal(i["reference_answer"])]
    for item in answerable:
        # hit@k at the k the app shows (seats depend on k), MRR over a longer list.
        kwargs = {"k_per_leg": D.k_per_leg, **kwargs}
        top4 = [h.chunk.page for h in lib.search(item["question"], k=4, **kwargs).hits]
        top10 = [h.chunk.page for h in lib.search(item["question"], k=10, **kwargs).hits]
        hit1 += bool(top4) and top4[0] in item["pages"]
        hit4 += bool(set(top4) & set(item["pages"]))
        ranks = [r for r, p in enumerate(top10, 1) if p in item["pages"]]
        rr += 1.0 / ranks[0] if ranks else 0.0
        if not set(top4) & set(item["pages"]):
            missed.append(item["id"].rsplit("-", 1)[-1])
    n = len(answerable)
    return n, hit1 / n, hit4 / n, rr / n, missed


def gate_rows(lib: Library, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The default search's relevance signals for every item, answerable or not."""
    rows = []
    for item in items:
        result = lib.search(item["question"], k=D.k)
        rows.append({"id": item["id"], "ood": expects_refusal(item["reference_answer"]),
                     "top_cosine": round(result.top_cosine, 4),
                     "coverage": round(result.coverage, 4),
                     "unknown": round(result.unknown, 4)})
    return rows


def seed_hit4(devset: devsets.DevSet, items: list[dict[str, Any]]) -> float:
    """hit@4 of seed 004's retriever (PyPDFLoader, whitespace BM25, MiniLM, RRF 0.3/0.7)."""
    from benchmarks.baseline_seed import SeedPipeline

    seed = SeedPipeline(devset.pdf, Path("unused.gguf"))
    seed._load_llm = lambda: None  # type: ignore[method-assign]  # retrieval only
    seed.build()
    answerable = [i for i in items if not expects_refusal(i["reference_answer"])]
    hits = 0
    for item in answerable:
        docs = seed.retriever.invoke(item["question"])
        pages = [int(d.metadata.get("page", -1)) + 1 for d in docs]
        hits += bool(set(pages[:4]) & set(item["pages"]))
    return hits / len(answerable)


def run(args: argparse.Namespace) -> tuple[list[Score], dict[str, Any]]:
    """Every requested cell, and the gate's signals per set (default config)."""
    scores: list[Score] = []
    gates: dict[str, Any] = {}
    chunking = ChunkSettings()
    for devset in devsets.dev_sets():
        if args.sets and devset.name not in args.sets:
            continue
        items = devset.items()
        for embedder_id in args.embedders:
            # Text without Hangul tokenizes the same way with every tokenizer.
            tokenizers = args.tokenizers if devset.language == "ko" else args.tokenizers[:1]
            for tokenizer in tokenizers:
                lib = open_library(devset, embedder_id, tokenizer, chunking)
                try:
                    for name in args.configs:
                        n, h1, h4, mrr, missed = score(lib, items, CONFIGS[name])
                        scores.append(Score(devset.name, embedder_id, tokenizer, name, n,
                                            h1, h4, mrr, missed))
                        print(f"{devset.name:18} {embedder_id[-24:]:24} {tokenizer[-14:]:14} "
                              f"{name:22} hit@1 {h1:.2f} hit@4 {h4:.2f} mrr {mrr:.2f} "
                              f"missed {missed}", flush=True)
                    gates[f"{devset.name}|{embedder_id}|{tokenizer}"] = gate_rows(lib, items)
                finally:
                    lib.close()
    return scores, gates


def main(argv: list[str] | None = None) -> int:
    """Run the grid, print it, and write docs/retrieval.md's tables unless --no-write."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=lambda s: s.split(","), default=None)
    ap.add_argument("--embedders", type=lambda s: s.split(","), default=[DEFAULT_EMBEDDING_MODEL])
    ap.add_argument("--tokenizers", type=lambda s: s.split(","), default=[TOKENIZER_ID])
    ap.add_argument("--configs", type=lambda s: s.split(","), default=list(CONFIGS))
    ap.add_argument("--seed", action="store_true", help="also score seed 004's retriever")
    ap.add_argument("--json", type=Path, default=BUILD / "quality.json")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    load_before = load_average()
    scores, gates = run(args)
    seeds = {}
    if args.seed:
        for devset in devsets.dev_sets():
            if not args.sets or devset.name in args.sets:
                seeds[devset.name] = seed_hit4(devset, devset.items())
                print(f"seed 004 {devset.name}: hit@4 {seeds[devset.name]:.2f}", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"scores": [asdict(s) for s in scores], "gates": gates,
                                     "seed": seeds}, indent=1), encoding="utf-8")
    body = table(["set", "embedder", "tokenizer", "config", "n", "hit@1", "hit@4", "MRR@10",
                  "missed at 4"],
                 [[s.devset, s.embedder.rsplit("/", 1)[-1], s.tokenizer, s.config, s.n,
                   f"{s.hit1:.2f}", f"{s.hit4:.2f}", f"{s.mrr:.2f}", " ".join(s.missed)]
                  for s in scores])
    if seeds:
        body += "\n\n" + table(["set", "seed 004 retriever hit@4"],
                               [[k, f"{v:.2f}"] for k, v in seeds.items()])
    print(body)
    if not args.no_write:
        write_section(DOC, "quality", "Retrieval quality on the dev sets", body, load_before,
                      probe_llama=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
