"""Answer quality side by side: the app against seed 004's script, same model, same questions.

Seed 004 is the LangChain script the app replaced (benchmarks/baseline_seed.py rebuilds it).

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
from rag_desktop.evaluation.questions import expects_refusal
from rag_desktop.library.textindex import TOKENIZER_ID

MODEL_ID = "smollm2-135m-instruct-q4_1"


def app_answers(devset: devsets.DevSet, items: list[dict[str, Any]],
                max_tokens: int) -> list[dict[str, Any]]:
    """The app's answer, refusal flag and grounded share for every item."""
    from rag_desktop.session import open_session

    lib = open_library(devset, DEFAULT_EMBEDDING_MODEL, TOKENIZER_ID, ChunkSettings())
    path = lib.path
    lib.close()
    generation = GenerationSettings(max_tokens=max_tokens)
    session = open_session(path, MODEL_ID, generation, use_cache=False)
    pipe = session.pipeline()
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
        session.close()
    return out


def seed_answers(devset: devsets.DevSet, items: list[dict[str, Any]],
                 max_tokens: int) -> list[dict[str, Any]]:
    """Seed 004's answer for every item, with the same GGUF."""
    from benchmarks.baseline_seed import SeedPipeline
    from rag_desktop.llm.catalog import load_catalog

    gguf = load_catalog().get(MODEL_ID).path
    # SmolLM2's whole 8,192-token context, not the seed's 2,048: four of its Korean chunks
    # (pypdf text, no token budget) reach 7,400 tokens, and the script would crash.
    seed = SeedPipeline(devset.pdf, Path(gguf), max_tokens=max_tokens, n_ctx=8192)
    seed.build()
    out = []
    try:
        for item in items:
            try:
                text, error = seed.ask(item["question"])["answer"].strip(), ""
            except ValueError as exc:  # the script's prompt overflowed the model's context
                text, error = "", " ".join(str(exc).split())
            out.append({"id": item["id"], "answer": text, "error": error})
            print(f"seed {item['id']}: {(error or text)[:100]!r}", file=sys.stderr, flush=True)
    finally:
        seed.close()
    return out


def summarise(items: list[dict[str, Any]], answers: list[dict[str, Any]],
              scorer: Any) -> dict[str, Any]:
    """Mean cosine over answerable items; refusal rates on both kinds of item."""
    from rag_desktop.evaluation.scoring import cosine
    from rag_desktop.language import is_refusal

    cosines, wrong_refusals, ood_refused, ood, errors = [], 0, 0, 0, 0
    for item, ans in zip(items, answers, strict=True):
        if ans.get("error"):
            errors += 1
            continue
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
            "ood": ood, "ood_refused": ood_refused, "errors": errors,
            "grounded": statistics.mean(grounded) if grounded else None}


def _f(value: float | None, digits: int = 3) -> str:
    """A number for the table, "–" when there is none."""
    return "–" if value is None else f"{value:.{digits}f}"


def sample(items: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """The first `limit` answerable items and every out-of-document one (all with no limit)."""
    answerable = [i for i in items if not expects_refusal(i["reference_answer"])]
    outside = [i for i in items if expects_refusal(i["reference_answer"])]
    return answerable[:limit] + outside


def main(argv: list[str] | None = None) -> int:
    """Answer every dev set on both sides, score, print and write the table."""
    from rag_desktop.evaluation.scoring import scorer_model
    from rag_desktop.library.embeddings import get_embedder

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=lambda s: s.split(","), default=None)
    ap.add_argument("--limit", type=int, default=None,
                    help="first N answerable items of each set (out-of-document ones: all)")
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--resume", action="store_true",
                    help="keep the sets already in build/quality/answers.json")
    ap.add_argument("--from-json", action="store_true",
                    help="score and write the answers of the last run (build/quality/answers.json)")
    args = ap.parse_args(argv)
    load_before = load_average()
    scorer_id = scorer_model()
    scorer = get_embedder(scorer_id)
    rows, raw = [], {}
    file = BUILD / "answers.json"
    saved = json.loads(file.read_text("utf-8")) if file.is_file() else {}
    for devset in devsets.dev_sets():
        if args.sets and devset.name not in args.sets:
            continue
        items = sample(devset.items(), args.limit)
        if args.from_json or (args.resume and devset.name in saved):
            raw[devset.name] = saved[devset.name]
        else:
            raw[devset.name] = {"app": app_answers(devset, items, args.max_tokens),
                                "seed": seed_answers(devset, items, args.max_tokens)}
            # Saved after every set, so that a failure later keeps what was measured.
            file.write_text(json.dumps({**saved, **raw}, ensure_ascii=False, indent=1), "utf-8")
        app, seed = raw[devset.name]["app"], raw[devset.name]["seed"]
        a, s = summarise(items, app, scorer), summarise(items, seed, scorer)
        diff = (f"{a['cosine'] - s['cosine']:+.3f}"
                if a["cosine"] is not None and s["cosine"] is not None else "–")
        rows.append([devset.name, a["answerable"], _f(s["cosine"]), _f(a["cosine"]), diff,
                     f"{s['ood_refused']}/{s['ood']}", f"{a['ood_refused']}/{a['ood']}",
                     f"{s['wrongly_refused']}", f"{a['wrongly_refused']}", _f(a["grounded"], 2),
                     f"{s['errors']}"])
    body = table(["set", "answerable", "seed cosine", "app cosine", "app - seed",
                  "seed refused OOD", "app refused OOD", "seed wrongly refused",
                  "app wrongly refused", "app grounded", "seed crashed"], rows)
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
