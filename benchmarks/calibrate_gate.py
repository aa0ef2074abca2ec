"""Calibrate the relevance gate from the quality benchmark's signals, per embedder.

    .venv/bin/python -m benchmarks.calibrate_gate [--json build/quality/quality.json]

benchmarks.quality records, for every dev-set item, the default search's top dense cosine, the
IDF-weighted coverage of the question's terms by the hits and the share of its terms that the
library never uses. This grid-searches rag_desktop.gate.GateRule's three thresholds for the rule
that refuses the most out-of-document items, pooled, while wrongly refusing at most --max-wrong
(default 1 in 20) of the answerable ones *on every dev set*, so that a rule that only works on
one manual can't win; ties go to the rule that wrongly refuses fewest.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import table
from rag_desktop.gate import GateRule

BUILD = Path(__file__).resolve().parents[1] / "build" / "quality"


def rates(rule: GateRule, rows: list[dict[str, Any]]) -> tuple[float, float]:
    """(share of out-of-document items refused, share of answerable items refused)."""
    ood = [r for r in rows if r["ood"]]
    ans = [r for r in rows if not r["ood"]]

    def refused(r: dict[str, Any]) -> bool:
        return not rule.relevant(r["top_cosine"], r["coverage"], r.get("unknown", 0.0))

    return (sum(map(refused, ood)) / max(1, len(ood)), sum(map(refused, ans)) / max(1, len(ans)))


def best_rule(sets: dict[str, list[dict[str, Any]]],
              max_wrong: float) -> tuple[GateRule, float, float]:
    """The rule with the most OOD refusals, pooled, at <= max_wrong answerable refusals on
    every set; ties: the fewest wrong refusals, then the lowest thresholds."""
    rows = [r for group in sets.values() for r in group]
    cos = np.asarray([r["top_cosine"] for r in rows])
    cov = np.asarray([r["coverage"] for r in rows])
    unk = np.asarray([r.get("unknown", 0.0) for r in rows])
    ood = np.asarray([r["ood"] for r in rows], dtype=bool)
    groups = [np.asarray([r["id"] in {x["id"] for x in g} for r in rows]) & ~ood
              for g in sets.values()]
    best: tuple[float, float, float, GateRule] | None = None
    for c, v, u in itertools.product(np.arange(0.0, 0.95, 0.01), np.arange(0.0, 1.01, 0.05),
                                      np.arange(0.05, 1.06, 0.05)):
        relevant = (unk < u) & ((cos >= c) | (cov >= v))
        if any(g.any() and (~relevant[g]).mean() > max_wrong for g in groups):
            continue
        refused_ood = float((~relevant[ood]).mean()) if ood.any() else 0.0
        wrong = float((~relevant[~ood]).mean())
        rule = GateRule(round(float(c), 2), round(float(v), 2), round(float(u), 2))
        key = (refused_ood, -wrong, -(rule.min_cosine + rule.min_coverage))
        if best is None or key > best[:3]:
            best = (*key, rule)
    assert best is not None  # a rule with u > 1 and c = 0 refuses nothing, so one qualifies
    rule = best[3]
    ood_rate, wrong_rate = rates(rule, rows)
    return rule, ood_rate, wrong_rate


def main(argv: list[str] | None = None) -> int:
    """Print the calibrated rule per embedder and its rates per dev set."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=BUILD / "quality.json")
    ap.add_argument("--max-wrong", type=float, default=0.05)
    ap.add_argument("--tokenizer", default=None, help="only rows of this BM25 tokenizer")
    args = ap.parse_args(argv)
    gates = json.loads(args.json.read_text(encoding="utf-8"))["gates"]
    by_embedder: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    for key, rows in gates.items():
        devset, embedder, tokenizer = key.split("|")
        if args.tokenizer is None or tokenizer == args.tokenizer:
            by_embedder[embedder].setdefault(devset, rows)
    for embedder, sets in by_embedder.items():
        rule, ood, wrong = best_rule(sets, args.max_wrong)
        print(f"\n{embedder}: {rule}  pooled: OOD refused {ood:.2f}, answerable refused "
              f"{wrong:.2f}")
        lines = []
        for devset, rows in sets.items():
            o, w = rates(rule, rows)
            n_ood = sum(r["ood"] for r in rows)
            lines.append([devset, n_ood, f"{o:.2f}", len(rows) - n_ood, f"{w:.2f}"])
        print(table(["set", "OOD items", "OOD refused", "answerable", "answerable refused"],
                    lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
