"""Retrieval on scanned copies: hit@4 of the dev questions on an image-only copy of a manual.

Each dev manual is rendered with pypdfium2 at `--dpi` (300: a document scanner's usual setting)
into an image-only PDF (ocr.scan_to_pdf: a greyscale JPEG per page, no text layer). The app
then adds it to a fresh library the way a user does: `Library.add_pdf` with the app's default
OcrSettings (language "auto": the engine is chosen per document from a sample page's script;
the app's render dpi). The dev questions are searched with the default retrieval on both the
scanned library and the original's (benchmarks.quality's libraries), and hit@4 is compared
(the answerable items; a hit is a top-4 chunk on one of the item's pages).

    nice -n 19 python -m benchmarks.ocr_retrieval [--sets lilypond-usage pmhanguljamo-kdoc]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from benchmarks import common, devsets, quality
from benchmarks.ocr import scan_to_pdf
from rag_desktop.config import DEFAULT_EMBEDDING_MODEL, ChunkSettings, OcrSettings
from rag_desktop.library import ocr
from rag_desktop.library.embeddings import get_embedder
from rag_desktop.library.library import Library

BUILD = common.REPO / "build" / "ocr-retrieval"
DEFAULT_SETS = ["lilypond-usage", "pmhanguljamo-kdoc"]


def scanned_library(devset: devsets.DevSet, dpi: int) -> tuple[Library, float, str]:
    """The scanned copy's library (built on first use; OCR'd pages are kept, so a rerun after
    a stop resumes), the seconds its add took, and the engines that read it."""
    folder = BUILD / f"{devset.name}-{dpi}"
    folder.mkdir(parents=True, exist_ok=True)
    scan = folder / "scanned.pdf"
    if not scan.is_file():
        import pypdf

        pages = list(range(1, len(pypdf.PdfReader(devset.pdf).pages) + 1))
        scan_to_pdf(devset.pdf, pages, dpi, scan)
    lib = Library.open(folder / "library", get_embedder(DEFAULT_EMBEDDING_MODEL))
    lib.ocr_settings = OcrSettings()  # the app's defaults, not this shell's environment
    timing = folder / "add-seconds.json"  # the first build's time, for later runs' tables
    if not lib.documents():
        print(f"ocr_retrieval: adding the scanned {devset.name}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        lib.add_pdf(scan)
        timing.write_text(json.dumps({"seconds": time.perf_counter() - t0}))
    seconds = float(json.loads(timing.read_text())["seconds"]) if timing.is_file() else 0.0
    info = lib.documents()[0]
    sources = ocr.page_sources(lib.store.conn, info.sha256, info.pages).values()
    engines = sorted({s.engine for s in sources if s.source == "ocr"})
    return lib, seconds, ", ".join(engines) or "none"


def main(argv: list[str] | None = None) -> None:
    """Score the original and the scanned copy of each set; write the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=DEFAULT_SETS)
    ap.add_argument("--dpi", type=int, default=300, help="the scan's resolution")
    common.add_common_args(ap)
    args = ap.parse_args(argv)
    load_before = common.load_average()
    rows = []
    for name in args.sets:
        devset = devsets.get(name)
        items = devset.items()
        original = quality.open_library(devset, DEFAULT_EMBEDDING_MODEL, quality.TOKENIZER_ID,
                                        ChunkSettings())
        n, _, hit4, _, missed = quality.score(original, items, {})
        original.close()
        scanned, seconds, engines = scanned_library(devset, args.dpi)
        _, _, scan4, _, scan_missed = quality.score(scanned, items, {})
        pages = scanned.documents()[0].pages
        scanned.close()
        print(f"{name}: original {hit4:.2f} scanned {scan4:.2f} ({engines})", file=sys.stderr)
        rows.append([f"{name} ({n})", str(pages), engines, f"{hit4:.2f}", f"**{scan4:.2f}**",
                     f"{scan4 - hit4:+.2f}", " ".join(missed) or "–",
                     " ".join(scan_missed) or "–",
                     common.fmt(pages / seconds, 3) if seconds else "–"])
    headers = ["set (answerable)", "pages", "OCR engine", "original hit@4", "scanned hit@4",
               "difference", "missed (original)", "missed (scanned)", "add pages/s"]
    notes = (f"The scan: every page rendered at {args.dpi} dpi, a greyscale JPEG per page, no "
             "text layer. The copy is added with the app's default OCR settings (language "
             "auto, the app's render dpi) and searched with the default retrieval; the "
             "original's library is benchmarks.quality's. Goal: the scanned copy within 0.05 of "
             "the original. add pages/s: the whole add (OCR, chunking, embedding), on the "
             "library's first build (its load average may differ from the one below).")
    common.emit(args, "ocr-retrieval", "OCR: retrieval on scanned copies",
                common.table(headers, rows), load_before, probe_llama=False, notes=notes)


if __name__ == "__main__":
    main()
