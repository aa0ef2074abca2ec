"""Benchmark tables: dataclass rows written as a CSV and a Markdown table side by side."""

from __future__ import annotations

import csv
import io
from dataclasses import fields
from pathlib import Path
from typing import Any

from rag_desktop.fsutil import atomic_write_text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_tables(out_dir: Path, stem: str, rows: list[Any]) -> list[Path]:
    """`stem`.csv and `stem`.md (a Markdown table) from dataclass rows; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = [f.name for f in fields(rows[0])] if rows else []
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[_cell(getattr(r, c)) for c in columns] for r in rows])
    md = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    md += ["| " + " | ".join(_cell(getattr(r, c)).replace("|", "\\|") for c in columns) + " |"
           for r in rows]
    paths = [out_dir / f"{stem}.csv", out_dir / f"{stem}.md"]
    atomic_write_text(paths[0], buf.getvalue())
    atomic_write_text(paths[1], "\n".join(md) + "\n")
    return paths
