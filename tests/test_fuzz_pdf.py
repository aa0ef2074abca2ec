"""Fuzzing the PDF path (issue #6): mutated PDFs never crash or hang, they only DocumentError.

Bounded: 100 examples a seed PDF in `make test` (derandomized, so CI is repeatable), 1,000 random
ones under `make soak`. Each example runs under a 30 s alarm that only guards against hangs.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag_desktop.config import ChunkSettings
from rag_desktop.library.documents import DocumentError, chunk_pages, read_pdf
from tests import badinput as bad
from tests.pdfs import make_pdf

SOAK = bool(os.environ.get("RAG_DESKTOP_SOAK"))
EXAMPLES = 1000 if SOAK else 100
HANG_GUARD_S = 30
# pyproject's 600 s per-test timeout guards `make test`; the soak forms get 3 hours.
pytestmark = pytest.mark.timeout(10800 if SOAK else 600)


def _seeds() -> dict[str, bytes]:
    """Small valid PDFs: fpdf2's (compressed streams, xref table) and a plain hand-written one."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-seeds-"))
    return {
        "fpdf2": make_pdf(folder / "a.pdf", ["Fuzz page one. Pulse for 3 seconds.",
                                            "Page two: rinse the jar."]).read_bytes(),
        "plain": bad.many_pages_pdf(folder / "b.pdf", 3).read_bytes(),
    }


SEEDS = _seeds()


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """Byte flips, overwrites with PDF tokens, deletions, duplications and truncation."""
    data = bytearray(seed)
    tokens = [b"obj", b"endobj", b"stream", b"endstream", b"xref", b"trailer", b"<<", b">>",
              b"[", b"]", b"/Length 999999", b"/Filter /FlateDecode", b"0 R", b"-1", b"%%EOF",
              b"/Kids [1 0 R]", b"/Count 999999999", b"\x00", b"(", b")"]
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "token", "delete", "duplicate", "truncate"]))
        if kind == "flip":
            data[i] = draw(st.integers(0, 255))
        elif kind == "token":
            token = draw(st.sampled_from(tokens))
            data[i:i + len(token)] = token
        elif kind == "delete":
            del data[i:i + draw(st.integers(1, 64))]
        elif kind == "duplicate":
            data[i:i] = data[i:i + draw(st.integers(1, 256))]
        else:
            del data[i:]
    return bytes(data)


@contextmanager
def hang_guard(seconds: int) -> Iterator[None]:
    def timeout(signum: int, frame: object) -> None:
        raise TimeoutError(f"read_pdf ran for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _ingest_pages(data: bytes, folder: Path) -> None:
    """The reading half of ingestion: header check, pypdf, clean-up, chunking."""
    path = folder / "fuzzed.pdf"
    path.write_bytes(data)
    with hang_guard(HANG_GUARD_S):
        try:
            pages = read_pdf(path)
        except DocumentError as exc:
            assert str(exc).startswith("fuzzed.pdf: ") and "; " in str(exc)
            return
    chunks = chunk_pages(pages, path.name, "0" * 64, ChunkSettings())
    assert all(p.text[c.start:c.end] == c.text for c in chunks
               for p in pages if p.number == c.page)


@pytest.mark.slow
@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_mutated_pdfs_only_raise_document_error(
        seed: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("fuzz")

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not SOAK, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutated(SEEDS[seed]))
    def run(data: bytes) -> None:
        _ingest_pages(data, folder)

    run()


def test_the_seeds_themselves_read(tmp_path: Path) -> None:
    """The fuzz starts from valid PDFs, so its mutations test damage rather than noise."""
    for name, data in SEEDS.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(data)
        assert read_pdf(path)[0].text
