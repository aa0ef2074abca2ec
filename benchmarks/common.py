"""Shared benchmark helpers: repeats with warm-up, interleaved A/B runs, statistics, Markdown out.

Nothing heavy is imported here (no numpy, no torch): a benchmark that drives llama_cpp in its
own process must be able to import llama_cpp first (../shared/gpu/README.md).
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PERFORMANCE_MD = REPO / "docs" / "performance.md"
BUILD = REPO / "build"
SAMPLE_PDF = REPO / "rag_desktop" / "data" / "sample-manual.pdf"
SAMPLE_QUESTIONS = REPO / "rag_desktop" / "data" / "sample-questions.jsonl"
SMOLLM2_ID = "smollm2-135m-instruct-q4_1"
TINYLLAMA_ARCH = BUILD / "arch" / "tinyllama-arch-Q5_K_M.gguf"
MISTRAL_ARCH = BUILD / "arch" / "mistral-arch-Q2_K.gguf"
BENCH_QUESTION = "How do I make LilyPond write a PNG image instead of a PDF?"


def add_common_args(ap: argparse.ArgumentParser) -> None:
    """--quick/--full, --repeats, --doc (where the table goes), --no-write."""
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes, few repeats (default)")
    mode.add_argument("--full", action="store_true", help="every size, more repeats")
    ap.add_argument("--repeats", type=int, default=None, help="measured rounds after the warm-up")
    ap.add_argument("--doc", type=Path, default=PERFORMANCE_MD, help="Markdown file to update")
    ap.add_argument("--no-write", action="store_true", help="print the table only")


def repeats(args: argparse.Namespace, quick: int, full: int) -> int:
    """The measured rounds: --repeats, else the mode's default."""
    if args.repeats is not None:
        return max(1, int(args.repeats))
    return full if args.full else quick


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def interleaved(
    sides: dict[str, Callable[[], Any]], n: int, warmup: int = 1
) -> dict[str, list[Any]]:
    """Call every side in turn (A, B, A, B, ...): `warmup` unrecorded rounds, then `n` rounds.

    Interleaving matters on a shared machine: a burst of someone else's load then hits both
    sides instead of one. Each side's function returns what is recorded (a float or a dict).
    """
    out: dict[str, list[Any]] = {name: [] for name in sides}
    for round_ in range(warmup + n):
        for name, fn in sides.items():
            t0 = time.perf_counter()
            value = fn()
            print(f"  round {round_ - warmup + 1 if round_ >= warmup else 'warm-up'} {name}: "
                  f"{time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
            if round_ >= warmup:
                out[name].append(value)
    return out


def median(values: Sequence[float]) -> float:
    """The median (nan for no values)."""
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    vals = sorted(values)
    if not vals:
        return float("nan")
    pos = (len(vals) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def fmt(value: float, digits: int = 2) -> str:
    """A number for a table: thousands separators, `digits` decimals (fewer for big values)."""
    if value != value:  # nan
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.{min(digits, 1)}f}"
    return f"{value:,.{digits}f}"


def spread(values: Sequence[float], digits: int = 2) -> str:
    """'median (min–max)' of the values, e.g. '1.23 (1.10–1.40)'."""
    vals = [v for v in values if v is not None]
    if not vals:
        return "—"
    if len(vals) == 1:
        return fmt(vals[0], digits)
    return f"{fmt(median(vals), digits)} ({fmt(min(vals), digits)}–{fmt(max(vals), digits)})"


def ratio(a: float, b: float) -> float:
    """a / b, nan when b is 0."""
    return a / b if b else float("nan")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, e.g. '3.10 / 2.95 / 2.40'."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_line(probe_llama: bool = True) -> str:
    """The Markdown machine line of benchmarks.machine (CPU, cores, RAM, GPU, llama build)."""
    from benchmarks.machine import describe_machine, markdown_line

    return markdown_line(describe_machine(probe_llama=probe_llama))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def section_markers(name: str) -> tuple[str, str]:
    """The HTML comments that delimit a benchmark's section in docs/performance.md."""
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def write_section(
    doc: Path, name: str, title: str, body: str, load_before: str, probe_llama: bool = True,
    notes: str = "", *, machine: str | None = None, stamp: str | None = None,
    load_after: str | None = None,
) -> str:
    """Write (or replace) section `name` of `doc`: title, machine, date, load, table, notes.

    Text outside the markers is left alone, so hand-written analysis survives a re-run.
    `machine`, `stamp` and `load_after` default to this machine, now, and its load now; results
    measured elsewhere (a GPU machine) pass the ones recorded there. Returns the section's text.
    """
    begin, end = section_markers(name)
    stamp = stamp or datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    after = load_after or load_average()
    parts = [
        begin, f"### {title}", "", machine or machine_line(probe_llama), "",
        f"Run {stamp}; load average (1/5/15 min) before: {load_before}, after: {after}.",
        "", body.strip(), "",
    ]
    if notes:
        parts += [notes.strip(), ""]
    parts.append(end)
    section = "\n".join(parts)
    text = doc.read_text(encoding="utf-8") if doc.is_file() else "# Performance\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    tmp = doc.with_suffix(doc.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, doc)
    return section


def emit(args: argparse.Namespace, name: str, title: str, body: str, load_before: str,
         probe_llama: bool = True, notes: str = "") -> None:
    """Print the table, and write it into args.doc unless --no-write."""
    print(f"## {title}\n\n{body}\n\n{notes}".rstrip() + "\n", flush=True)
    if not args.no_write:
        write_section(args.doc, name, title, body, load_before, probe_llama, notes)


def offline_env(home: Path | None = None) -> dict[str, str]:
    """os.environ for a child: offline Hugging Face, and RAG_DESKTOP_HOME moved when given."""
    from rag_desktop import config

    env = config.offline_env()
    env["TOKENIZERS_PARALLELISM"] = "false"
    if home is not None:
        env["RAG_DESKTOP_HOME"] = str(home)
    return env


def set_offline_here() -> None:
    """Offline Hugging Face for this process."""
    from rag_desktop import config

    config.set_offline()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def question_texts(limit: int | None = None) -> list[str]:
    """The sample manual's questions (JSON lines, field 'question')."""
    import json

    out = []
    for line in SAMPLE_QUESTIONS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(str(json.loads(line)["question"]))
    return out[:limit] if limit else out
