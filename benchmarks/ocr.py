"""OCR of scanned pages: character error rate, pages/s and peak memory of the app's OCR path.

A run renders `--pages` prose pages of the English dev manual (from `--first`) with pypdfium2
at 150 and 300 dpi, saves them as an image-only PDF (Pillow: one greyscale JPEG per page, as a
scanner writes), and reads that PDF with the app's own `documents.read_pdf`, whose OCR renders
each scanned page at the scan's dpi (`OcrSettings(dpi=...)`). The reference is `read_pdf`'s
text of the same pages of the original (its text layer), so both sides get the same clean-up.

CER is the character Levenshtein distance over the reference length, after collapsing all
whitespace to single spaces (a pure-Python edit distance: no extra package). Each case runs in
its own child process, so its ru_maxrss is that case's peak memory alone. `--korean` adds two
Tesseract rows (`OcrSettings(language="ko")`, which reads Korean and English): the same English
pages at 300 dpi, and `--korean-pages` prose pages of the Korean dev manual.

hit@4 of the dev questions on scanned copies: benchmarks/ocr_retrieval.py.

    nice -n 19 python -m benchmarks.ocr [--pages 6] [--first 4] [--korean] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import common, devsets

DPIS = (150, 300)
KOREAN_PAGE = 26  # kotex-utf-doc: running Korean prose from here (p. 4 is a table of contents)
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Text with every whitespace run collapsed to one space, trimmed."""
    return _SPACE.sub(" ", text).strip()


def levenshtein(a: str, b: str) -> int:
    """The character edit distance (insert, delete, substitute) between a and b."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate of `hypothesis` against `reference`, both whitespace-normalised."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    return levenshtein(ref, hyp) / len(ref) if ref else float("nan")


def scan_to_pdf(source: Path, pages: list[int], dpi: int, out: Path) -> None:
    """Render 1-based `pages` of `source` at `dpi` and save them as an image-only PDF."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(source)
    images = []
    try:
        for number in pages:
            page = pdf[number - 1]
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            images.append(bitmap.to_pil().convert("L").copy())
            bitmap.close()
            page.close()
    finally:
        pdf.close()
    images[0].save(out, "PDF", resolution=float(dpi), save_all=True,
                   append_images=images[1:], quality=90)


def page_texts(path: Path, ocr: Any) -> dict[int, str]:
    """read_pdf's text of every page of `path` (1-based number -> text)."""
    from rag_desktop.library.documents import read_pdf

    return {page.number: page.text or "" for page in read_pdf(path, ocr=ocr)}


def run_case(source: Path, pages: list[int], dpi: int, language: str) -> dict[str, Any]:
    """One case in this process: scan, OCR with the app's read_pdf, compare; a JSON-able dict."""
    from rag_desktop.config import OcrSettings

    reference = page_texts(source, OcrSettings(enabled=False))
    with tempfile.TemporaryDirectory() as tmp:
        scanned = Path(tmp) / "scanned.pdf"
        scan_to_pdf(source, pages, dpi, scanned)
        size = scanned.stat().st_size
        t0 = time.perf_counter()
        read = page_texts(scanned, OcrSettings(language=language, dpi=dpi))
        seconds = time.perf_counter() - t0
    ref_text = [reference.get(number, "") for number in pages]
    ocr_text = [read.get(index, "") for index in range(1, len(pages) + 1)]
    chars = sum(len(normalise(t)) for t in ref_text)
    edits = sum(cer(r, h) * len(normalise(r)) for r, h in zip(ref_text, ocr_text, strict=True)
                if normalise(r))
    return {
        "pages": len(pages), "seconds": seconds, "cer": edits / chars if chars else float("nan"),
        "page_cer": [cer(r, h) for r, h in zip(ref_text, ocr_text, strict=True)],
        "pdf_mb": size / 1e6, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        / 1024,
    }


def child(source: Path, pages: list[int], dpi: int, language: str) -> dict[str, Any]:
    """run_case in a fresh interpreter, so its peak memory is its own."""
    cmd = [sys.executable, "-m", "benchmarks.ocr", "--child", json.dumps(
        {"source": str(source), "pages": pages, "dpi": dpi, "language": language})]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=common.REPO, check=False,
                         env=common.offline_env())
    if out.returncode != 0:
        raise RuntimeError(f"case {dpi} dpi failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def row(label: str, dpi: int, engine: str, result: dict[str, Any]) -> list[str]:
    """One table row of a case's result."""
    pages = result["pages"]
    worst = max((c for c in result["page_cer"] if c == c), default=float("nan"))
    return [label, str(dpi), engine, str(pages), f"{result['cer'] * 100:.2f} %",
            f"{worst * 100:.2f} %", common.fmt(pages / result["seconds"], 3),
            common.fmt(result["seconds"] / pages, 1), common.fmt(result["maxrss_mb"], 0),
            common.fmt(result["pdf_mb"], 2)]


HEADERS = ["manual, pages", "dpi", "engine", "pages", "CER", "worst page CER", "pages/s",
           "s/page", "peak RSS (MB)", "scan PDF (MB)"]
NOTES = (
    "CER: character Levenshtein distance over the reference's length, all pages together, after "
    "collapsing whitespace; the reference is read_pdf's text of the original's pages (its text "
    "layer). The scan is a greyscale JPEG per page (Pillow), read back by read_pdf with "
    "OcrSettings(dpi = the scan's dpi); each case runs in its own process (peak RSS = its "
    "ru_maxrss, models included); pages/s is read_pdf's whole read of the scan, loading the engine "
    "once included. Tesseract reads with the app's Korean setting (kor+eng, --psm 6). hit@4 "
    "of the dev questions on scanned copies: section \"OCR: retrieval on scanned copies\"."
)


def main(argv: list[str] | None = None) -> None:
    """Run the cases, print the table and write it into docs/performance.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=6, help="English pages to scan")
    ap.add_argument("--first", type=int, default=4, help="first English page (1-based)")
    ap.add_argument("--korean", action="store_true", help="add Tesseract rows (Korean, English)")
    ap.add_argument("--korean-pages", type=int, default=5, help="Korean pages to scan")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    common.add_common_args(ap)
    args = ap.parse_args(argv)
    if args.child:
        logging.basicConfig(level=logging.ERROR)
        spec = json.loads(args.child)
        print(json.dumps(run_case(Path(spec["source"]), spec["pages"], spec["dpi"],
                                  spec["language"])))
        return
    load_before = common.load_average()
    english = devsets.get("lilypond-usage").pdf
    pages = list(range(args.first, args.first + args.pages))
    rows = []
    for dpi in DPIS:
        print(f"English, {dpi} dpi ...", file=sys.stderr, flush=True)
        result = child(english, pages, dpi, "en")
        rows.append(row(f"LilyPond usage, p. {pages[0]}–{pages[-1]}", dpi, "RapidOCR", result))
    if args.korean:
        print("English with Tesseract, 300 dpi ...", file=sys.stderr, flush=True)
        result = child(english, pages, 300, "ko")
        rows.append(row(f"LilyPond usage, p. {pages[0]}–{pages[-1]}", 300,
                        "Tesseract (kor+eng)", result))
        korean = list(range(KOREAN_PAGE, KOREAN_PAGE + args.korean_pages))
        print("Korean, 300 dpi ...", file=sys.stderr, flush=True)
        result = child(devsets.get("kotex-utf-doc").pdf, korean, 300, "ko")
        rows.append(row(f"kotex-utf-doc, p. {korean[0]}–{korean[-1]}", 300,
                        "Tesseract (kor+eng)", result))
    body = common.table(HEADERS, rows)
    common.emit(args, "ocr", "OCR of scanned pages", body, load_before, probe_llama=False,
                notes=NOTES)


if __name__ == "__main__":
    main()
