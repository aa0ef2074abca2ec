"""The session's answers, exported as CSV or Markdown (plain Python, no Qt)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag_desktop.answer import source_ref

if TYPE_CHECKING:
    from rag_desktop.answer import Answer

CSV_FIELDS = [
    "question", "answer", "model", "quant", "backend", "k", "bm25_weight", "total_s",
    "first_token_s", "retrieval_s", "tokens_per_s", "completion_tokens", "stopped",
    "reference", "cosine", "sources",
]


@dataclass(frozen=True)
class HistoryEntry:
    """One asked question: the core's Answer plus the GUI's settings and reference."""

    answer: Answer
    k: int
    bm25_weight: float
    reference: str = ""
    cosine: float | None = None


def source_refs(answer: Answer) -> str:
    """Sources as 'file p. label' separated by '; '."""
    return "; ".join(source_ref(s) for s in answer.sources)


def row(entry: HistoryEntry) -> dict[str, Any]:
    """One CSV row."""
    a, t = entry.answer, entry.answer.timings
    return {
        "question": a.question, "answer": a.text, "model": a.model.id, "quant": a.model.quant,
        "backend": a.model.backend, "k": entry.k, "bm25_weight": entry.bm25_weight,
        "total_s": round(t.total_s, 4), "first_token_s": round(t.first_token_s, 4),
        "retrieval_s": round(t.retrieval_s, 4), "tokens_per_s": round(t.tokens_per_s, 2),
        "completion_tokens": t.completion_tokens, "stopped": a.stopped,
        "reference": entry.reference,
        "cosine": "" if entry.cosine is None else round(entry.cosine, 4),
        "sources": source_refs(a),
    }


def write_csv(path: Path, entries: list[HistoryEntry]) -> None:
    """UTF-8 CSV with a BOM so that spreadsheet apps read Hangul correctly."""
    with Path(path).open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for entry in entries:
            writer.writerow(row(entry))


def write_markdown(path: Path, entries: list[HistoryEntry]) -> None:
    """A readable transcript: each question, its answer, timings and sources."""
    lines = ["# rag-desktop session", ""]
    for n, entry in enumerate(entries, start=1):
        r = row(entry)
        lines += [f"## {n}. {r['question']}", "", r["answer"] or "_(no answer)_", ""]
        lines.append(f"*{r['model']} ({r['quant']}, {r['backend']}) — {r['total_s']} s total, "
                     f"first token {r['first_token_s']} s, {r['tokens_per_s']} tok/s, "
                     f"k={r['k']}, BM25 weight {r['bm25_weight']}*")
        if entry.reference:
            lines += ["", f"Reference: {entry.reference}  ", f"Cosine: {r['cosine']}"]
        lines += ["", "Sources:", ""]
        lines += [f"- {source_ref(s)} (fused {s.fused:.4f})"
                  for s in entry.answer.sources]
        lines.append("")
    Path(path).write_text("\n".join(lines), encoding="utf-8")
