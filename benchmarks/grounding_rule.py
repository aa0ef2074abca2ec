"""Measure how well a sentence-support rule separates right passages from wrong ones.

`generate` asks a dev set's answerable questions with a packaged model and stores each answer
with its cited passages; `score` scores every answer sentence against its own passages and
against another question's passages (cited pages disjoint), by each candidate rule, and prints
the separation (ROC AUC, best threshold by Youden's J, mean answer share right vs. wrong).
Reference answers against their reference pages give a second, hand-written set of "answers".

    python -m benchmarks.grounding_rule generate --set lilypond-usage --out /tmp/g/lily.jsonl
    python -m benchmarks.grounding_rule score /tmp/g/lily.jsonl [--embedders ID,ID]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import devsets
from rag_desktop import grounding

Rule = Callable[[str, list[str]], float | None]


def generate(set_name: str, model_id: str, out: Path, limit: int | None,
             max_tokens: int) -> None:
    """Answer every answerable item of the set; one JSON line per answer.

    With model_id "none", only the reference answers and their pages are written.
    """
    from rag_desktop.config import GenerationSettings
    from rag_desktop.library.documents import read_pdf
    from rag_desktop.library.library import Library
    from rag_desktop.llm.catalog import load_catalog
    from rag_desktop.llm.client import LLM
    from rag_desktop.pipeline import Pipeline

    try:
        devset = devsets.get(set_name)
    except KeyError:  # the LilyPond questions of ../shared/eval, before the dev sets hold them
        devset = devsets.DevSet(set_name, "en", devsets._lilypond_pdf(),
                                devsets.SHARED_EVAL / f"{set_name}.jsonl")
    items = [i for i in devset.items() if i.get("pages")][:limit]
    pages = {p.number: p.text for p in read_pdf(devset.pdf)}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pipe = None
        if model_id != "none":
            lib = Library.open(Path(tmp) / "lib")
            lib.add_pdf(devset.pdf)
            pipe = Pipeline(lib, LLM(), load_catalog(), generation=GenerationSettings(
                max_tokens=max_tokens))
            pipe.load_model(model_id)
        with out.open("w", encoding="utf-8") as f:
            for item in items:
                a = pipe.ask(item["question"], use_cache=False) if pipe else None
                record = {"id": item["id"], "set": set_name, "model": model_id,
                          "answer": a.text if a else "",
                          "passages": [s.text for s in a.sources] if a else [],
                          "source_pages": [s.page for s in a.sources] if a else [],
                          "reference": item["reference_answer"],
                          "ref_passages": [pages[p] for p in item["pages"] if p in pages],
                          "ref_pages": item["pages"]}
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                print(item["id"], repr(a.text[:100]) if a else "", file=sys.stderr, flush=True)
        if pipe is not None:
            pipe.llm.close()
            pipe.library.close()


def _wrong_partner(records: list[dict[str, Any]], i: int, key: str) -> int:
    """The next record whose pages share none with record i's."""
    mine = set(records[i][key])
    for step in range(1, len(records)):
        j = (i + step) % len(records)
        if not mine & set(records[j][key]):
            return j
    raise ValueError("every record shares a page")


def _lexical(stem: bool) -> Rule:
    def rule(sentence: str, passages: list[str]) -> float | None:
        original = grounding._stem
        if not stem:
            grounding._stem = lambda t: t  # type: ignore[assignment]
        try:
            ptoks: set[str] = set()
            for p in passages:
                ptoks |= grounding.content_tokens(p)
            return grounding.lexical_score(sentence, ptoks)
        finally:
            grounding._stem = original  # type: ignore[assignment]
    return rule


def _embedding(model_id: str) -> Rule:
    from rag_desktop.library.embeddings import get_embedder

    embedder = get_embedder(model_id)
    cache: dict[str, np.ndarray] = {}

    def vectors(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            for t, v in zip(missing, embedder.embed_documents(missing), strict=True):
                cache[t] = np.asarray(v, dtype=np.float32)
        return np.stack([cache[t] for t in texts])

    def rule(sentence: str, passages: list[str]) -> float | None:
        if not grounding.content_tokens(sentence):
            return None
        units = [u for p in passages for u in [p, *grounding.split_sentences(p)] if u.strip()]
        if not units:
            return 0.0
        return float(np.max(vectors(units) @ vectors([sentence])[0]))
    return rule


def _auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a right-pair sentence outscores a wrong-pair one (ties count half)."""
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def _best_threshold(pos: list[float], neg: list[float]) -> tuple[float, float, float]:
    """(threshold, TPR, FPR) maximising TPR - FPR over the observed scores."""
    best = (0.0, 0.0, 0.0)
    for t in sorted(set(pos) | set(neg)):
        tpr = float(np.mean([s >= t for s in pos]))
        fpr = float(np.mean([s >= t for s in neg]))
        if tpr - fpr > best[1] - best[2]:
            best = (t, tpr, fpr)
    return best


def score(records: list[dict[str, Any]], rules: dict[str, Rule], field: str) -> None:
    """Print separation figures of each rule for `field` ("answer" or "reference")."""
    passages_key = "passages" if field == "answer" else "ref_passages"
    pages_key = "source_pages" if field == "answer" else "ref_pages"
    print(f"\n## {field}s ({len(records)}) against their own vs. another question's passages")
    fixed = grounding.SUPPORT_THRESHOLD
    print("| rule | sentences | AUC | best threshold | TPR | FPR | share right | share wrong "
          f"| share right @{fixed} | share wrong @{fixed} |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, rule in rules.items():
        pos, neg, per_answer = [], [], []
        for i, rec in enumerate(records):
            wrong = records[_wrong_partner(records, i, pages_key)][passages_key]
            if grounding.grounded(rec[field], ["x"]).share is None:
                continue  # refusal or nothing to check
            scores = []
            for sentence in grounding.split_sentences(rec[field]):
                r, w = rule(sentence, rec[passages_key]), rule(sentence, wrong)
                if r is not None and w is not None:
                    pos.append(r)
                    neg.append(w)
                    scores.append((r, w))
            if scores:
                per_answer.append(scores)
        t, tpr, fpr = _best_threshold(pos, neg)

        def share(k: int, thr: float, answers: list[Any] = per_answer) -> float:
            return float(np.mean([np.mean([s[k] >= thr for s in a]) for a in answers]))

        print(f"| {name} | {len(pos)} | {_auc(pos, neg):.3f} | {t:.2f} | {tpr:.2f} | {fpr:.2f} "
              f"| {share(0, t):.2f} | {share(1, t):.2f} | {share(0, fixed):.2f} "
              f"| {share(1, fixed):.2f} |")


def main(argv: list[str] | None = None) -> int:
    """generate or score; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--set", required=True)
    g.add_argument("--model", default="smollm2-135m-instruct-q4_1")
    g.add_argument("--out", required=True, type=Path)
    g.add_argument("--limit", type=int, default=None)
    g.add_argument("--max-tokens", type=int, default=160)
    s = sub.add_parser("score")
    s.add_argument("answers", nargs="+", type=Path)
    s.add_argument("--embedders", default="", help="embedding model ids to compare too")
    args = ap.parse_args(argv)
    if args.cmd == "generate":
        generate(args.set, args.model, args.out, args.limit, args.max_tokens)
        return 0
    rules: dict[str, Rule] = {"lexical (stemmed)": _lexical(True),
                              "lexical (no stem)": _lexical(False)}
    for model_id in [m for m in args.embedders.split(",") if m]:
        rules[f"max cosine {model_id.rsplit('/', 1)[-1]}"] = _embedding(model_id)
    for path in args.answers:
        records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        print(f"\n# {path.name}: {records[0]['set']}, {records[0]['model']}")
        if any(r["answer"] for r in records):
            score(records, rules, "answer")
        score(records, rules, "reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
