"""Answer quality side by side: the app against seed 004's script, same model, same questions.

    .venv/bin/python -m benchmarks.answers [--sets r-admin,kotex-utf-doc] [--limit 10]

For every dev set, both sides answer every item with the packaged SmolLM2 (greedy, the same
max_tokens). The app goes through `Pipeline.ask` with its defaults (relevance gate, prompt,
repetition stop); the seed is benchmarks.baseline_seed's LangChain pipeline (PyPDFLoader, BM25
0.3 / MiniLM 0.7 EnsembleRetriever, LlamaCpp). Each answer is scored by cosine to its reference
with the multilingual scorer (config.SCORER_MODEL); out-of-document items are scored as refusal
right/wrong. Tables go to docs/retrieval.md between markers, with the machine and date.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks import devsets
from benchmarks.common import load_average, table, write_section
from benchmarks.quality import BUILD, DOC, open_library
from rag_desktop.config import DEFAULT_EMBEDDING_MODEL, ChunkSettings, GenerationSettings
from rag_desktop.questions import expects_refusal
from rag_desktop.textindex import TOKENIZER_ID

MODEL_ID = "smollm2-135m-instruct-q4_1"


def app_answers(devset: devsets.DevSet, items: list[dict[str, Any]],
                max_tokens: int) -> list[dict[str, Any]]:
    """The app's answer, refusal flag and grounded share for every item."""
    from rag_desktop.app import open_pipeline

    lib = open_library(devset, DEFAULT_EMBEDDING_MODEL, TOKENIZER_ID, ChunkSettings())
    path = lib.path
    lib.close()
    generation = GenerationSettings(max_tokens=max_tokens)
    pipe = open_pipeline(path, MODEL_ID, generation, use_cache=False)
    out = []
    try:
        for item in items:
            answer = pipe.ask(item["question"], use_cache=False)
            out.append({"id": item["id"], "answer": answer.text, "refused": answer.is_refused,
                        "grounded": answer.grounded,
                        "first_token_s": answer.timings.first_token_s,
                        "prompt_tokens": answer.timings.prompt_tokens})
            print(f"app  {item['id']}: {answer.text[:100]!r}", file=sys.stderr, flush=True)
    finally:
        pipe.close()
    return out


def seed_answers(devset: devsets.DevSet, items: list[dict[str, Any]],
                 max_tokens: int) -> list[dict[str, Any]]:
    """Seed 004's answer for every item, with the same GGUF."""
    from benchmarks.baseline_seed import SeedPipeline
    from rag_desktop.catalog import load_catalog

    gguf = load_catalog().get(MODEL_ID).path
    # The app's context cap (4,096), not the seed's 2,048: four Korean chunks overflow 2,048.
    seed = SeedPipeline(devset.pdf, Path(gguf), max_tokens=max_tokens, n_ctx=4096)
    seed.build()
    out = []
    try:
        for item in items:
            text = seed.ask(item["question"])["answer"].strip()
            out.append({"id": item["id"], "answer": text})
            print(f"seed {item['id']}: {text[:100]!r}", file=sys.stderr, flush=True)
    finally:
        seed.close()
    return out


def summarise(items: list[dict[str, Any]], answers: list[dict[str, Any]],
              scorer: Any) -> dict[str, Any]:
    """Mean cosine over answerable items; refusal rates on both kinds of item."""
    from rag_desktop.scoring import cosine, is_refusal

    cosines, wrong_refusals, ood_refused, ood = [], 0, 0, 0
    for item, ans in zip(items, answers, strict=True):
        did_refuse = ans.get("refused", is_refusal(ans["answer"]))
        if expects_refusal(item["reference_answer"]):
            ood += 1
            ood_refused += did_refuse
            continue
        wrong_refusals += did_refuse
        cosines.append(cosine(scorer, ans["answer"], item["reference_answer"]))
    grounded = [a["grounded"] for a in answers if a.get("grounded") is not None]
    return {"cosine": statistics.mean(cosines) if cosines else None,
            "answerable": len(cosines), "wrongly_refused": wrong_refusals,
            "ood": ood, "ood_refused": ood_refused,
            "grounded": statistics.mean(grounded) if grounded else None}


def sample(items: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """The first `limit` answerable items and every out-of-document one (all with no limit)."""
    answerable = [i for i in items if not expects_refusal(i["reference_answer"])]
    outside = [i for i in items if expects_refusal(i["reference_answer"])]
    return answerable[:limit] + outside


def main(argv: list[str] | None = None) -> int:
    """Answer every dev set on both sides, score, print and write the table."""
    from rag_desktop.embeddings import get_embedder
    from rag_desktop.scoring import scorer_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=lambda s: s.split(","), default=None)
    ap.add_argument("--limit", type=int, default=None,
                    help="first N answerable items of each set (out-of-document ones: all)")
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    load_before = load_average()
    scorer_id = scorer_model()
    scorer = get_embedder(scorer_id)
    rows, raw = [], {}
    for devset in devsets.dev_sets():
        if args.sets and devset.name not in args.sets:
            continue
        items = sample(devset.items(), args.limit)
        app = app_answers(devset, items, args.max_tokens)
        seed = seed_answers(devset, items, args.max_tokens)
        raw[devset.name] = {"app": app, "seed": seed}
        a, s = summarise(items, app, scorer), summarise(items, seed, scorer)
        rows.append([devset.name, a["answerable"], f"{s['cosine']:.3f}", f"{a['cosine']:.3f}",
                     f"{a['cosine'] - s['cosine']:+.3f}",
                     f"{s['ood_refused']}/{s['ood']}", f"{a['ood_refused']}/{a['ood']}",
                     f"{s['wrongly_refused']}", f"{a['wrongly_refused']}",
                     "" if a["grounded"] is None else f"{a['grounded']:.2f}"])
    (BUILD / "answers.json").write_text(json.dumps(raw, ensure_ascii=False, indent=1), "utf-8")
    body = table(["set", "answerable", "seed cosine", "app cosine", "app - seed",
                  "seed refused OOD", "app refused OOD", "seed wrongly refused",
                  "app wrongly refused", "app grounded"], rows)
    scope = (f"first {args.limit} answerable items of each set and every out-of-document one"
             if args.limit else "every item")
    notes = (f"Model {MODEL_ID}, greedy, max_tokens {args.max_tokens}; cosine by {scorer_id}; "
             f"{scope}.")
    print(body + "\n\n" + notes)
    if not args.no_write:
        write_section(DOC, "answers", "Answers: the app against seed 004's script", body,
                      load_before, probe_llama=False, notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
