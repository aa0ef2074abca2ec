"""What the library's operations return: plain frozen dataclasses, and the PDF path expansion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag_desktop.library.documents import Chunk
from rag_desktop.library.store import DocumentInfo, Manifest


@dataclass(frozen=True)
class AddResult:
    """What add_pdf did."""

    status: Literal["added", "duplicate"]
    document: DocumentInfo


@dataclass(frozen=True)
class AddOutcome:
    """What add_pdfs did with one file."""

    path: Path
    status: Literal["added", "duplicate", "error", "cancelled"]
    document: DocumentInfo | None
    error: str | None


@dataclass(frozen=True)
class SearchHit:
    """One retrieved chunk: raw BM25 score, dense cosine, fused RRF score; rank is 1-based."""

    rank: int
    chunk: Chunk
    bm25: float
    dense: float
    fused: float


@dataclass(frozen=True)
class SearchResult:
    """The hits for a query, best first, how long retrieval took, and relevance signals."""

    query: str
    retrieval_s: float
    hits: list[SearchHit]
    top_cosine: float = 0.0  # best dense cosine of any chunk in the library
    coverage: float = 0.0  # IDF-weighted share of the query's topic terms found in the hits
    unknown: float = 0.0  # IDF-weighted share of the query's topic terms the library never uses


@dataclass(frozen=True)
class CheckReport:
    """check(): ok is True when nothing is wrong now (nothing found, or all of it repaired)."""

    ok: bool
    problems: list[str]
    repaired: list[str]


def expand_pdf_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders replaced by the *.pdf files under them (recursive, sorted)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
            files.extend(found or [path])  # an empty folder then fails as "is a folder"
        else:
            files.append(path)
    return files


def library_details(manifest: Manifest) -> str:
    """One line on how a library searches: its embedder, BM25 words and chunking."""
    from rag_desktop.library.textindex import BIGRAM_TOKENIZER_ID, KIWI_TOKENIZER_ID

    words = {KIWI_TOKENIZER_ID: "words, Korean as Kiwi morphemes",
             BIGRAM_TOKENIZER_ID: "words, Korean as character pairs"}.get(manifest.tokenizer,
                                                                          manifest.tokenizer)
    return (f"Embedding model: {manifest.embedding_model} · BM25 on {words} · chunks of "
            f"{manifest.chunk_size} characters ({manifest.chunk_overlap} overlap), split further "
            "to the embedding model's window")
