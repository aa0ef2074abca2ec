"""The dev sets: manuals with hand-written questions, for tuning and for the quality benchmark.

Each set is a PDF and a JSONL file of items {"id", "question", "reference_answer", "pages",
"evidence"}; an item whose reference answer is NOT_IN_DOCUMENT asks about something the manual
never covers (pages [] and evidence ""). docs/devsets.md says where each manual comes from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SHARED_EVAL = REPO / ".." / "shared" / "eval"
PACKAGED_SAMPLE = REPO / "rag_desktop" / "data" / "sample-manual.pdf"


@dataclass(frozen=True)
class DevSet:
    """One manual and its question file; `language` is "en" or "ko"."""

    name: str
    language: str
    pdf: Path
    questions: Path

    def items(self) -> list[dict[str, Any]]:
        """Every item of the question file, in file order."""
        lines = self.questions.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def _lilypond_pdf() -> Path:
    """The LilyPond manual from ../shared/eval, else the identical packaged sample."""
    shared = SHARED_EVAL / "lilypond-usage.pdf"
    return shared if shared.is_file() else PACKAGED_SAMPLE


def dev_sets() -> list[DevSet]:
    """Every dev set whose question file exists, English first."""
    sets = [
        DevSet("lilypond-usage", "en", _lilypond_pdf(), HERE / "lilypond-usage.jsonl"),
        DevSet("r-admin", "en", HERE / "R-admin.pdf", HERE / "r-admin.jsonl"),
        DevSet("kotex-utf-doc", "ko", HERE / "kotex-utf-doc.pdf", HERE / "kotex-utf-doc.jsonl"),
        DevSet("pmhanguljamo-kdoc", "ko", HERE / "pmhanguljamo-kdoc.pdf",
               HERE / "pmhanguljamo-kdoc.jsonl"),
    ]
    return [s for s in sets if s.questions.is_file()]


def get(name: str) -> DevSet:
    """The dev set called `name`; raises KeyError naming the known ones."""
    for devset in dev_sets():
        if devset.name == name:
            return devset
    raise KeyError(f"unknown dev set {name!r}; known: {[s.name for s in dev_sets()]}")
