"""Text extraction: pypdf against pypdfium2 on the dev manuals, and the app's own read_pdf.

For each manual:
- pages/s of each extractor's raw text (median of the rounds, after a warm-up), and of the
  app's `read_pdf` (pypdf opens and guards, pdfium extracts, clean-up, sections);
- Korean word spaces: Hangul runs (maximal runs of syllables) and the share longer than 12
  syllables, which in running Korean text means words glued together;
- English agreement: the word-sequence similarity (difflib ratio) of the two extractors'
  cleaned text, page by page, and how many line-end hyphens and ligatures each one produced;
- the outline: bookmarks, and the share of the app's chunks that get a section path.
`--show PAGE` prints that page from both extractors, for a spot check of spaces and order.

    python -m benchmarks.extraction [--repeats N] [--show PAGE] [--no-write]
"""

from __future__ import annotations

import argparse
import difflib
import logging
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import common

DEVSETS = common.REPO / "benchmarks" / "devsets"
MANUALS = [
    ("lilypond-usage", "en", common.REPO / ".." / "shared" / "eval" / "lilypond-usage.pdf"),
    ("R-admin", "en", DEVSETS / "R-admin.pdf"),
    ("kotex-utf-doc", "ko", DEVSETS / "kotex-utf-doc.pdf"),
    ("pmhanguljamo-kdoc", "ko", DEVSETS / "pmhanguljamo-kdoc.pdf"),
]
RETRIEVAL_MD = common.REPO / "docs" / "retrieval.md"
_HANGUL_RUN = re.compile("[가-힣]+")
_LIGATURE = re.compile("[\ufb00-\ufb06]")


def pypdf_texts(path: Path) -> list[str]:
    """Every page's raw text by pypdf, as the app read it before (extract_text)."""
    import pypdf

    return [page.extract_text() or "" for page in pypdf.PdfReader(path).pages]


def pdfium_texts(path: Path) -> list[str]:
    """Every page's raw text by pypdfium2 (get_text_bounded), as the app reads it now."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(path)
    texts = []
    for index in range(len(pdf)):
        page = pdf[index]
        textpage = page.get_textpage()
        texts.append(textpage.get_text_bounded())
        textpage.close()
        page.close()
    pdf.close()
    return texts


def app_texts(path: Path) -> list[str]:
    """The app's pages (rag_desktop.library.documents.read_pdf), cleaned."""
    from rag_desktop.library.documents import read_pdf

    return [page.text for page in read_pdf(path)]


def pages_per_s(fn: Callable[[Path], list[str]], path: Path, rounds: int) -> float:
    """Median pages/s of `fn` over `rounds` runs after one warm-up."""
    n = len(fn(path))
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - t0)
    return n / statistics.median(times)


def glued_share(texts: list[str]) -> tuple[int, float]:
    """(Hangul runs, share of runs longer than 12 syllables)."""
    runs = [m.group() for text in texts for m in _HANGUL_RUN.finditer(text)]
    return len(runs), (sum(len(r) > 12 for r in runs) / len(runs) if runs else 0.0)


def agreement(a: list[str], b: list[str]) -> float:
    """Mean per-page difflib ratio of the two word sequences (cleaned text)."""
    from rag_desktop.library.documents import clean_text

    ratios = []
    for x, y in zip(a, b, strict=False):
        wx, wy = clean_text(x).split(), clean_text(y).split()
        if wx or wy:
            ratios.append(difflib.SequenceMatcher(None, wx, wy, autojunk=False).ratio())
    return statistics.mean(ratios) if ratios else 1.0


def outline_row(path: Path) -> tuple[int, float]:
    """(bookmarks, share of the app's chunks with a section path)."""
    import pypdfium2

    from rag_desktop.config import ChunkSettings
    from rag_desktop.library.documents import chunk_pages, read_pdf
    from rag_desktop.library.outline import read_outline

    pdf = pypdfium2.PdfDocument(path)
    n_bookmarks = len(read_outline(pdf))
    pdf.close()
    chunks = chunk_pages(read_pdf(path), path.name, "0" * 64, ChunkSettings())
    return n_bookmarks, sum(bool(c.section) for c in chunks) / max(1, len(chunks))


def _count(pattern: re.Pattern[str], texts: list[str]) -> int:
    return sum(len(pattern.findall(text)) for text in texts)


def measure(name: str, language: str, path: Path, rounds: int) -> list[object]:
    """One table row for one manual."""
    a, b = pypdf_texts(path), pdfium_texts(path)
    runs_a, glued_a = glued_share(a)
    runs_b, glued_b = glued_share(b)
    bookmarks, sectioned = outline_row(path)
    hyphens_a = sum(len(re.findall(r"[^\W\d_]-\n", t)) for t in a)
    return [
        name, len(a),
        f"{pages_per_s(pypdf_texts, path, rounds):.0f}",
        f"{pages_per_s(pdfium_texts, path, rounds):.0f}",
        f"{pages_per_s(app_texts, path, rounds):.0f}",
        f"{runs_a} / {glued_a:.1%}" if language == "ko" else "–",
        f"{runs_b} / {glued_b:.1%}" if language == "ko" else "–",
        f"{agreement(a, b):.3f}",
        f"{hyphens_a} / {sum(t.count(chr(2)) for t in b)}",
        f"{_count(_LIGATURE, a)} / {_count(_LIGATURE, b)}",
        f"{bookmarks} / {sectioned:.0%}",
    ]


HEADERS = ["manual", "pages", "pypdf pages/s", "pdfium pages/s", "app read_pdf pages/s",
           "pypdf Hangul runs / >12 syl.", "pdfium Hangul runs / >12 syl.",
           "word agreement", "line-end hyphens pypdf / pdfium", "ligatures pypdf / pdfium",
           "bookmarks / chunks with a section"]


def show(path: Path, page: int) -> None:
    """Print one page (1-based) from both extractors, cleaned, for a spot check."""
    from rag_desktop.library.documents import clean_text

    for label, fn in (("pypdf", pypdf_texts), ("pdfium", pdfium_texts)):
        print(f"--- {path.name} p.{page}, {label}\n{clean_text(fn(path)[page - 1])}\n")


def main(argv: list[str] | None = None) -> int:
    """Measure every dev manual that is present; print (and write) the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed rounds per extractor")
    ap.add_argument("--show", type=int, default=0, help="print this page of every manual")
    ap.add_argument("--doc", type=Path, default=RETRIEVAL_MD, help="Markdown file to update")
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)  # pypdf's font warnings would bury the table
    load_before = common.load_average()
    rows = []
    for name, language, path in MANUALS:
        if not path.is_file():
            print(f"skipping {name}: {path} is missing")
            continue
        if args.show:
            show(path, args.show)
        rows.append(measure(name, language, path, max(1, args.repeats)))
    body = common.table(HEADERS, rows)
    notes = ("pages/s: median of the timed rounds after a warm-up, one process, this machine. "
             "Word agreement: mean per-page difflib ratio of the two extractors' word sequences "
             "after the app's clean-up. pdfium marks a line-end hyphen with \\x02 and drops the "
             "line break; the app turns it into '-\\n' before de-hyphenating.")
    common.emit(args, "extraction", "Text extraction: pypdf against pypdfium2", body,
                load_before, probe_llama=False, notes=notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
