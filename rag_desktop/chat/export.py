"""Conversations exported as Markdown and as the CSV the GUI's history export writes.

The CSV has the GUI's columns (rag_desktop/gui/history.py) so a conversation and a GUI session
open the same way in a spreadsheet; it is UTF-8 with a BOM, which spreadsheet apps need to read
Hangul. Files are written whole or not at all, with the user's usual permissions.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from pathlib import Path
from typing import Any

from rag_desktop.answer import source_ref
from rag_desktop.chat.turns import Conversation, Turn

# The columns of rag_desktop/gui/history.py's CSV, in its order.
CSV_FIELDS = [
    "question", "answer", "model", "quant", "backend", "k", "bm25_weight", "total_s",
    "first_token_s", "retrieval_s", "tokens_per_s", "completion_tokens", "stopped",
    "reference", "cosine", "sources",
]
FORMATS = ("md", "csv")


def source_refs(turn: Turn) -> str:
    """The turn's sources as 'file p. label' separated by '; '."""
    return "; ".join(source_ref(s) for s in turn.answer.sources)


def csv_row(turn: Turn, reference: str = "", cosine: float | None = None) -> dict[str, Any]:
    """One CSV row of a turn; k and the BM25 weight come from the turn's retrieval settings."""
    a, t = turn.answer, turn.answer.timings
    retrieval = turn.settings.get("retrieval", {})
    return {
        "question": a.question if a.question else turn.question, "answer": a.text,
        "model": a.model.id, "quant": a.model.quant, "backend": a.model.backend,
        "k": retrieval.get("k", ""), "bm25_weight": retrieval.get("bm25_weight", ""),
        "total_s": round(t.total_s, 4), "first_token_s": round(t.first_token_s, 4),
        "retrieval_s": round(t.retrieval_s, 4), "tokens_per_s": round(t.tokens_per_s, 2),
        "completion_tokens": t.completion_tokens, "stopped": a.stopped,
        "reference": reference, "cosine": "" if cosine is None else round(cosine, 4),
        "sources": source_refs(turn),
    }


def to_csv(conversation: Conversation) -> str:
    """The conversation as CSV text (no BOM; write_export adds it), one row per turn."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for turn in conversation.turns:
        writer.writerow(csv_row(turn))
    return out.getvalue()


def to_markdown(conversation: Conversation) -> str:
    """A readable transcript: each question, the query retrieved, the answer, timings, sources."""
    lines = [f"# {conversation.title or 'Conversation'}", "",
             f"*Started {conversation.created_at}, {len(conversation.turns)} turns*", ""]
    for n, turn in enumerate(conversation.turns, start=1):
        r = csv_row(turn)
        lines += [f"## {n}. {turn.question}", ""]
        if turn.query.strip() != turn.question.strip():
            lines += [f"*Searched for: {turn.query}*", ""]
        lines += [turn.answer.text or "_(no answer)_", ""]
        lines.append(f"*{r['model']} ({r['quant']}, {r['backend']}) — {r['total_s']} s total, "
                     f"first token {r['first_token_s']} s, {r['tokens_per_s']} tok/s, "
                     f"k={r['k']}, BM25 weight {r['bm25_weight']}*")
        if turn.answer.dropped_turns:
            lines += ["", f"*{turn.answer.dropped_turns} earlier turns did not fit in the prompt "
                      "and were left out.*"]
        lines += ["", "Sources:", ""]
        lines += [f"- {source_ref(s)} (fused {s.fused:.4f})"
                  for s in turn.answer.sources]
        lines.append("")
    return "\n".join(lines)


def render(conversation: Conversation, fmt: str) -> str:
    """The export text in `fmt` ("md" or "csv"); ValueError for another format."""
    if fmt == "md":
        return to_markdown(conversation)
    if fmt == "csv":
        return to_csv(conversation)
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_export(path: Path, conversation: Conversation, fmt: str | None = None) -> Path:
    """Write the conversation to `path` as Markdown or CSV (from `fmt`, else the suffix).

    The file is written under a temporary name and renamed, so a reader never sees half of it;
    it gets the user's usual permissions (not a temp file's 0600).
    """
    path = Path(path)
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "md")
    text = render(conversation, fmt)
    data = ("\ufeff" + text if fmt == "csv" else text).encode("utf-8")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
