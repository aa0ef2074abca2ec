"""Shared fixtures: per-test user dirs, offline mode, one embedder and one dev library a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag_desktop.config import HOME_ENV, OFFLINE_VARS, set_offline
from tests.pdfs import pdf_factory  # noqa: F401  (a fixture, shared with every test module)

REPO = Path(__file__).resolve().parents[1]
# CI clones the repository with shared/ beside it; the packaged sample is the same manual.
EVAL_DIR = REPO / ".." / "shared" / "eval"
DEV_PDF_NAME = "lilypond-usage.pdf"


def dev_pdf() -> Path:
    """The dev-set manual: ../shared/eval/lilypond-usage.pdf, else the packaged copy."""
    shared = EVAL_DIR / DEV_PDF_NAME
    return shared if shared.is_file() else REPO / "rag_desktop" / "data" / "sample-manual.pdf"


def dev_questions() -> Path:
    """The dev-set questions (JSON lines), beside the manual."""
    shared = EVAL_DIR / "lilypond-usage.jsonl"
    return shared if shared.is_file() else REPO / "rag_desktop" / "data" / "sample-questions.jsonl"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every user directory in a fresh tmp dir, and no network for Hugging Face."""
    monkeypatch.setenv(HOME_ENV, str(tmp_path_factory.mktemp("home")))
    for var in OFFLINE_VARS:
        monkeypatch.setenv(var, "1")
    yield


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The packaged all-MiniLM-L6-v2, loaded once per session."""
    from rag_desktop.library.embeddings import SentenceTransformerEmbedder

    set_offline()
    emb = SentenceTransformerEmbedder()
    emb.embed_query("warm up")  # load now, so that no test's numbers include the load
    return emb


@pytest.fixture(scope="session")
def dev_library(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    """A library of the dev-set manual with the default settings; treat it as read-only."""
    from rag_desktop.library.library import Library

    lib = Library.open(tmp_path_factory.mktemp("dev-library") / "lib", embedder)
    lib.add_pdf(dev_pdf())
    yield lib
    lib.close()
