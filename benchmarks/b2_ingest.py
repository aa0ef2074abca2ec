"""B2: ingestion speed (pages/s) against raw `SentenceTransformer.encode` of the same chunks.

For each (batch size, torch threads) setting, four sides run interleaved after a warm-up:
- app: `Library.add_pdf` into a fresh library (read, clean, chunk, embed, SQLite + FAISS commit);
- raw: `SentenceTransformer.encode(chunks, batch_size, normalize_embeddings=True)` of exactly the
  chunk texts the app makes, with the same loaded model;
- read+chunk: the app's pypdf reading and chunking alone, to show where the difference goes;
- embed: the app's `embed_documents` alone on the same chunks (batches in token order).
The padding column counts the tokens each side's batches hold, per real token: raw encode sorts
by characters, the app by tokens.
The ratio is app time / raw encode time (target: at most 1.15).

    python -m benchmarks.b2_ingest [--quick|--full] [--pdf PDF] [--pages N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any


class BatchEmbedder:
    """The app's embedder with another embed_documents batch size (the library uses 32)."""

    def __init__(self, inner: Any, batch_size: int) -> None:
        self.inner, self.batch_size, self.model_id = inner, batch_size, inner.model_id

    @property
    def dim(self) -> int:
        """The inner embedder's vector length."""
        return int(self.inner.dim)

    def embed_documents(self, texts: list[str], batch_size: int = 32, progress: Any = None,
                        cancel: Any = None) -> Any:
        """The inner embed_documents at this object's batch size."""
        return self.inner.embed_documents(texts, self.batch_size, progress, cancel)

    def embed_query(self, text: str) -> Any:
        """The inner embed_query."""
        return self.inner.embed_query(text)


def first_pages(pdf: Path, pages: int | None, out_dir: Path) -> Path:
    """`pdf` itself, or a copy of its first `pages` pages written with pypdf."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(str(pdf))
    if not pages or pages >= len(reader.pages):
        return pdf
    writer = PdfWriter()
    for page in reader.pages[:pages]:
        writer.add_page(page)
    out = out_dir / f"{pdf.stem}-first{pages}.pdf"
    with out.open("wb") as f:
        writer.write(f)
    return out


def measure(pdf: Path, settings: list[tuple[int, int]], n: int) -> list[dict[str, Any]]:
    """One row per (batch size, threads): seconds of each side, per round."""
    import torch

    from benchmarks.common import interleaved, timed
    from rag_desktop.config import ChunkSettings
    from rag_desktop.fsutil import file_sha256
    from rag_desktop.library.documents import chunk_pages, read_pdf
    from rag_desktop.library.embeddings import SentenceTransformerEmbedder
    from rag_desktop.library.library import Library

    embedder = SentenceTransformerEmbedder()
    embedder.embed_query("warm up")  # the model load is not part of ingestion
    model = embedder._load()
    sha = file_sha256(pdf)

    def read_chunk() -> list[str]:
        pages = read_pdf(pdf)
        return [c.text for c in chunk_pages(pages, pdf.name, sha, ChunkSettings())]

    texts = read_chunk()
    lengths, app_order = embedder.token_lengths(texts), embedder._longest_first(texts)
    n_pages = len(read_pdf(pdf))
    rows = []
    work = Path(tempfile.mkdtemp(prefix="b2-"))
    try:
        for batch, threads in settings:
            torch.set_num_threads(threads)
            wrapped = BatchEmbedder(embedder, batch)

            def app(wrapped: BatchEmbedder = wrapped) -> float:
                lib_dir = Path(tempfile.mkdtemp(dir=work))
                with Library.open(lib_dir / "lib", wrapped) as lib:
                    seconds, _ = timed(lambda: lib.add_pdf(pdf))
                shutil.rmtree(lib_dir)
                return seconds

            def raw(batch: int = batch) -> float:
                return timed(lambda: model.encode(texts, batch_size=batch,
                                                  normalize_embeddings=True,
                                                  convert_to_numpy=True,
                                                  show_progress_bar=False))[0]

            def embed(wrapped: BatchEmbedder = wrapped) -> float:
                # The app's embedding alone: batches in token order (embeddings.py).
                return timed(lambda: wrapped.embed_documents(texts))[0]

            runs = interleaved({"app": app, "raw": raw, "embed": embed,
                                "read_chunk": lambda: timed(read_chunk)[0]}, n)
            rows.append({"batch": batch, "threads": threads, "pages": n_pages,
                         "chunks": len(texts), "padding": padding(lengths, texts, batch, app_order),
                         **runs})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def padding(lengths: list[int], texts: list[str], batch: int,
            app_order: list[int]) -> dict[str, float]:
    """Padded tokens per real token: raw encode's character order against the app's order."""
    char_order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))

    def padded(order: list[int]) -> float:
        groups = [order[i : i + batch] for i in range(0, len(order), batch)]
        return sum(max(lengths[j] for j in g) * len(g) for g in groups) / sum(lengths)

    return {"raw": padded(char_order), "app": padded(app_order)}


def render(rows: list[dict[str, Any]], pdf_name: str) -> str:
    """The ingestion table (section b2 of docs/performance.md)."""
    from benchmarks.common import fmt, median, ratio, spread, table

    out = []
    for r in rows:
        app, raw, embed = median(r["app"]), median(r["raw"]), median(r["embed"])
        per_round = [a / b for a, b in zip(r["app"], r["raw"], strict=True)]
        out.append([r["batch"], r["threads"], spread(r["app"]), fmt(r["pages"] / app, 1),
                    spread(r["raw"]), spread(r["embed"]), spread(r["read_chunk"]),
                    fmt(ratio(app, raw)) + "×", spread(per_round),
                    fmt(ratio(embed, raw)) + "×",
                    f"{r['padding']['raw']:.2f} / {r['padding']['app']:.2f}"])
    return (f"{pdf_name}: {rows[0]['pages']} pages, {rows[0]['chunks']} chunks.\n\n"
            + table(["batch", "torch threads", "app add_pdf s", "app pages/s", "raw encode s",
                     "app embed_documents s", "read+chunk s", "app / raw (medians)",
                     "app / raw per round", "app embed / raw",
                     "padded tokens per token, raw / app"], out))


def main(argv: list[str] | None = None) -> int:
    """Measure and write section b2 of docs/performance.md."""
    from benchmarks import common

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(ap)
    ap.add_argument("--pdf", type=Path, default=common.SAMPLE_PDF)
    ap.add_argument("--pages", type=int, default=None,
                    help="use the first N pages (default: 24 quick, all full)")
    ap.add_argument("--batches", default=None, help="comma-separated batch sizes")
    ap.add_argument("--threads", default=None, help="comma-separated torch thread counts")
    args = ap.parse_args(argv)
    common.set_offline_here()
    load = common.load_average()
    n = common.repeats(args, quick=2, full=3)
    pages = args.pages if args.pages is not None else (None if args.full else 24)
    common.BUILD.mkdir(exist_ok=True)
    pdf = first_pages(args.pdf.resolve(), pages, common.BUILD)
    import os

    cores = os.cpu_count() or 1
    batches = [int(b) for b in (args.batches or "16,32,64").split(",")]
    threads = [int(t) for t in (args.threads or f"1,{cores}").split(",")]
    settings = [(b, max(threads)) for b in batches]
    settings += [(32, t) for t in threads if t != max(threads)]
    rows = measure(pdf, settings, n)
    common.emit(args, "b2", "B2. Ingestion against raw encode", render(rows, pdf.name), load,
                notes=f"{n} interleaved rounds after one warm-up; median (min–max) seconds.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
