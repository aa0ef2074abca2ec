"""Whole-ingest speed with the default settings: pages per second of `Library.add_pdf`.

    .venv/bin/python -m benchmarks.ingest_rate [--pdf EXTRA.pdf ...] [--rounds 3]

Each round adds each manual to a new, empty library in a fresh process, so that the imports and
the embedder's load are counted, as a user's first ingest pays them: reading (pypdf's checks and
PDFium's text), chunking, embedding and the atomic commit. Then the same process adds it to a
second library, as every later file of a session is added (models loaded). The dev manuals are
always measured; pass bigger ones with --pdf. Writes docs/performance.md's "ingest-rate" section.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import devsets
from benchmarks.common import load_average, offline_env, table, write_section

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "performance.md"
CHILD = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from rag_desktop.library.library import Library
lib = Library.open(Path(sys.argv[2]))
result = lib.add_pdf(Path(sys.argv[1]))
seconds = time.perf_counter() - t0
lib.close()
# The same file again into a second library: the models are loaded, as for every file after
# the first in a session.
t1 = time.perf_counter()
again = Library.open(Path(sys.argv[2] + "-warm"))
again.add_pdf(Path(sys.argv[1]))
warm = time.perf_counter() - t1
print(json.dumps({"pages": result.document.pages, "chunks": result.document.chunks,
                  "seconds": seconds, "warm": warm, "embedder": again.manifest.embedding_model}))
again.close()
"""


def one_ingest(pdf: Path) -> dict[str, object]:
    """Ingest `pdf` into a new library in a fresh process; its pages, chunks and seconds."""
    with tempfile.TemporaryDirectory() as home:
        out = subprocess.run([sys.executable, "-c", CHILD, str(pdf), str(Path(home) / "lib")],
                             capture_output=True, text=True, check=True,
                             env=offline_env(Path(home)), cwd=REPO)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    """Measure every manual `rounds` times; print and write the median pages/s."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf", type=Path, action="append", default=[])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    load_before = load_average()
    pdfs = [s.pdf for s in devsets.dev_sets()] + list(args.pdf)
    rows = []
    for pdf in pdfs:
        runs = [one_ingest(pdf) for _ in range(args.rounds)]
        seconds = [float(r["seconds"]) for r in runs]  # type: ignore[arg-type]
        pages = int(runs[0]["pages"])  # type: ignore[call-overload]
        median = statistics.median(seconds)
        warm = statistics.median(float(r["warm"]) for r in runs)  # type: ignore[arg-type]
        rows.append([pdf.name, pages, runs[0]["chunks"], f"{median:.1f}",
                     f"{min(seconds):.1f}–{max(seconds):.1f}", f"{pages / median:.1f}",
                     f"{warm:.1f}", f"{pages / warm:.1f}"])
        print(rows[-1], flush=True)
    body = table(["manual", "pages", "chunks", "first file s (imports, model load)", "range s",
                  "pages/s", "next file s", "pages/s, models loaded"], rows)
    notes = (f"Embedder: {runs[0]['embedder']} (the default); {args.rounds} rounds, each a fresh "
             "process and a new library, model load included. Goal: >= 15 pages/s.")
    print(body + "\n\n" + notes)
    if not args.no_write:
        write_section(DOC, "ingest-rate", "Ingest rate with the default settings", body,
                      load_before, probe_llama=False, notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
