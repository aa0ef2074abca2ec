"""Follow-up retrieval: hit@4 on the follow-up turns of the dev dialogues, for each strategy.

    .venv/bin/python -m benchmarks.followups                 # SmolLM2 for the LLM rewrite
    .venv/bin/python -m benchmarks.followups --models smollm2-135m-instruct-q4_1,gemma3-270m-q4_k_m
    .venv/bin/python -m benchmarks.followups --no-write --models ''   # no LLM rows

The dialogues are benchmarks/devsets/followups/<set>.jsonl (docs/devsets.md): two- and
three-turn conversations on the dev manuals, each turn with verified reference pages and
`follow_up_of` naming the turn before. Each dialogue is replayed turn by turn the way
Pipeline.ask_turn retrieves: the first turn by its question, every later turn by the
strategy's standalone query (rag_desktop.chat.followup), its hits fused with the previous
turn's sources for "+sources". Libraries are the quality benchmark's (build/quality/, the
default embedder and chunking). hit@4: a reference page is among the first 4 sources' pages.
The table goes to docs/retrieval.md between the followups markers, with machine, date, load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import devsets
from benchmarks.common import load_average, table, write_section
from rag_desktop.answer import Source
from rag_desktop.chat.followup import (
    Prior,
    Standalone,
    merge_sources,
    parse_strategy,
    standalone_query,
)
from rag_desktop.config import (
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_MODEL_ID,
    ChunkSettings,
    ConversationSettings,
    GenerationSettings,
    RetrievalSettings,
)
from rag_desktop.evaluation.questions import Question, load_questions
from rag_desktop.library.library import Library

REPO = Path(__file__).resolve().parents[1]
DIALOGUES = REPO / "benchmarks" / "devsets" / "followups"
DOC = REPO / "docs" / "retrieval.md"
OUT = REPO / "build" / "followups.json"
D = RetrievalSettings()


def dialogue_file(devset: devsets.DevSet) -> Path:
    """The set's follow-up dialogues (it may not exist)."""
    return DIALOGUES / f"{devset.name}.jsonl"


def dialogue_sets() -> list[tuple[devsets.DevSet, list[Question]]]:
    """Every dev set that has dialogues, with its turns in file order."""
    return [(d, load_questions(dialogue_file(d))) for d in devsets.dev_sets()
            if dialogue_file(d).is_file()]


def search(lib: Library, query: str) -> list[Source]:
    """The app's default retrieval of `query`, as sources (Pipeline._answer's search)."""
    result = lib.search(query, k=D.k, bm25_weight=D.bm25_weight, k_per_leg=D.k_per_leg,
                        fusion=D.fusion, rrf_c=D.rrf_c, one_chunk_per_page=D.one_chunk_per_page,
                        leg_seats=D.leg_seats)
    return [Source.from_hit(h) for h in result.hits]


@dataclass
class Replay:
    """One strategy over one set: per turn, the query, the pages found, and whether it hit."""

    strategy: str
    model: str
    turns: list[dict[str, Any]] = field(default_factory=list)


def replay(lib: Library, turns: list[Question], strategy: str, llm: Any,
           conversation: ConversationSettings, queries: dict[str, Any] | None = None,
           model: str = "") -> Replay:
    """Replay every dialogue with `strategy`; each turn's sources feed the next turn.

    `queries` (turn id -> a turn of an earlier replay) reuses that replay's queries: the LLM's
    rewrites do not depend on the sources, so "llm+sources" need not ask the model again.
    """
    _, keep = parse_strategy(strategy)
    out = Replay(strategy, model or (llm.info.id if llm is not None and llm.info else ""))
    done: dict[str, tuple[Prior, list[Prior]]] = {}
    for q in turns:
        history = [] if q.follow_up_of is None else [*done[q.follow_up_of][1],
                                                     done[q.follow_up_of][0]]
        t0 = time.perf_counter()
        if queries is not None:
            old = queries[q.id]
            sa = Standalone(old["query"], strategy, old["rewrite"], keep)
        else:
            sa = standalone_query(q.question, history, strategy, llm=llm,
                                  generation=GenerationSettings(),
                                  rewrite_tokens=conversation.rewrite_tokens)
        rewrite_s = old["rewrite_s"] if queries is not None else time.perf_counter() - t0
        previous = history[-1].sources if history and keep else ()
        sources = merge_sources(search(lib, sa.query), previous, D.k)
        pages = [s.page for s in sources]
        out.turns.append({"id": q.id, "follow_up": q.follow_up_of is not None,
                          "query": sa.query, "rewrite": sa.rewrite, "rewrite_s": rewrite_s,
                          "pages": pages, "hit": bool(set(pages[:4]) & set(q.pages))})
        done[q.id] = (Prior(q.question, sa.query, tuple(sources)), history)
        if llm is not None and history:
            print(f"  {q.id} {sa.rewrite} {rewrite_s:.1f}s: {sa.query}", file=sys.stderr,
                  flush=True)
    return out


def hit_rate(turns: list[dict[str, Any]], follow_up: bool = True) -> tuple[float, int]:
    """(hit@4, n) over the follow-up turns (or the first turns)."""
    chosen = [t for t in turns if t["follow_up"] == follow_up]
    return (sum(t["hit"] for t in chosen) / len(chosen) if chosen else float("nan"), len(chosen))


def load_llm(model_id: str) -> Any:
    """A runner with `model_id` loaded from the catalog (greedy, the app's settings)."""
    from rag_desktop.llm.catalog import load_catalog
    from rag_desktop.llm.client import LLM

    llm = LLM()
    llm.load(load_catalog().get(model_id), GenerationSettings())
    return llm


def run(models: list[str], sets: list[str] | None) -> list[Replay]:
    """Every strategy on every set; the LLM strategies once per model."""
    from benchmarks.quality import open_library
    from rag_desktop.library.textindex import TOKENIZER_ID

    conversation = ConversationSettings()
    plain = ["none", "prepend", "none+sources", "prepend+sources"]
    replays: list[Replay] = []
    llms = {m: load_llm(m) for m in models}
    try:
        for devset, turns in dialogue_sets():
            if sets and devset.name not in sets:
                continue
            lib = open_library(devset, DEFAULT_EMBEDDING_MODEL, TOKENIZER_ID, ChunkSettings())
            try:
                runs = [(s, None) for s in plain] + [(s, llm) for llm in llms.values()
                                                     for s in ("llm", "llm+sources")]
                for strategy, llm in runs:
                    if strategy == "llm+sources" and replays and replays[-1].strategy == "llm":
                        r = replay(lib, turns, strategy, None, conversation,
                                   queries={t["id"]: t for t in replays[-1].turns},
                                   model=replays[-1].model)
                    else:
                        r = replay(lib, turns, strategy, llm, conversation)
                    r.turns = [{**t, "set": devset.name} for t in r.turns]
                    replays.append(r)
                    rate, n = hit_rate(r.turns)
                    print(f"{devset.name:18} {strategy:16} {r.model:28} follow-up hit@4 "
                          f"{rate:.2f} (n={n})", flush=True)
            finally:
                lib.close()
    finally:
        for llm in llms.values():
            llm.close()
    return replays


def summary(replays: list[Replay]) -> str:
    """One row per (strategy, model): hit@4 per set and overall, fallbacks, rewrite time."""
    keys = list(dict.fromkeys((r.strategy, r.model) for r in replays))
    set_names = list(dict.fromkeys(t["set"] for r in replays for t in r.turns))
    rows = []
    for strategy, model in keys:
        turns = [t for r in replays if (r.strategy, r.model) == (strategy, model)
                 for t in r.turns]
        per_set = [hit_rate([t for t in turns if t["set"] == s])[0] for s in set_names]
        en = [t for t in turns if not t["set"].startswith(("kotex", "pmhangul"))]
        ko = [t for t in turns if t["set"].startswith(("kotex", "pmhangul"))]
        follow = [t for t in turns if t["follow_up"]]
        llm_turns = [t for t in follow if parse_strategy(strategy)[0] == "llm"]
        fallbacks = sum(t["rewrite"] != "llm" for t in llm_turns)
        rewrite_s = statistics.median(t["rewrite_s"] for t in llm_turns) if llm_turns else None
        rate, n = hit_rate(turns)
        rows.append([strategy, model or "—", *[f"{v:.2f}" for v in per_set],
                     f"{hit_rate(en)[0]:.2f}", f"{hit_rate(ko)[0]:.2f}", f"**{rate:.2f}** ({n})",
                     f"{hit_rate(turns, follow_up=False)[0]:.2f}",
                     f"{fallbacks}/{len(llm_turns)}" if llm_turns else "—",
                     f"{rewrite_s:.2f}" if rewrite_s is not None else "—"])
    headers = ["strategy", "rewrite model", *set_names, "English", "Korean",
               "all follow-ups (n)", "first turns", "LLM fell back", "rewrite s (median)"]
    return table(headers, rows)


def examples(replays: list[Replay], limit: int = 6) -> str:
    """A few follow-up queries of each rewrite, for the notes."""
    lines = []
    for r in replays:
        if r.strategy in ("prepend", "llm") and r.turns:
            for t in [t for t in r.turns if t["follow_up"]][:limit // 2]:
                lines.append(f"- {r.strategy} {r.model}: `{t['id']}` → “{t['query']}”")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison, print it, and write docs/retrieval.md's table unless --no-write."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=lambda s: [m for m in s.split(",") if m],
                    default=[DEFAULT_MODEL_ID], help="models for the LLM rewrite ('' for none)")
    ap.add_argument("--sets", type=lambda s: s.split(","), default=None)
    ap.add_argument("--json", type=Path, default=OUT)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--keep", type=Path, default=None,
                    help="a JSON of an earlier run whose LLM rows for other models are kept")
    args = ap.parse_args(argv)
    load_before = load_average()
    replays = run(args.models, args.sets)
    if args.keep is not None:
        kept = [Replay(**r) for r in json.loads(args.keep.read_text(encoding="utf-8"))]
        replays += [r for r in kept if r.model and r.model not in args.models]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([r.__dict__ for r in replays], indent=1, ensure_ascii=False),
                         encoding="utf-8")
    body = summary(replays)
    print(body)
    print(examples(replays))
    if not args.no_write:
        notes = ("Sample queries (the first three follow-ups of each set):\n\n"
                 + examples(replays))
        write_section(DOC, "followups", "Follow-up retrieval on the dev dialogues", body,
                      load_before, probe_llama=False, notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
