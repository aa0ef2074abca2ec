"""Composition root shared by the CLI and the GUI engine: wires library, catalog, runner, cache."""

from __future__ import annotations

from pathlib import Path

from rag_desktop import config
from rag_desktop.config import GenerationSettings, RetrievalSettings
from rag_desktop.pipeline import Pipeline
from rag_desktop.progress import CancelToken, ProgressCallback


def open_pipeline(
    library_path: Path, model_id: str | None, generation: GenerationSettings | None = None,
    retrieval: RetrievalSettings | None = None, use_cache: bool = True,
) -> Pipeline:
    """Open the library, start the runner and load `model_id` (when given)."""
    from rag_desktop.cache import AnswerCache
    from rag_desktop.catalog import load_catalog
    from rag_desktop.library import Library
    from rag_desktop.llm import LLM

    catalog = load_catalog()
    if model_id is not None:
        catalog.get(model_id)  # an unknown id fails before anything starts
    library = Library.open(library_path)
    cache = AnswerCache(config.home_dir() / "answer-cache.sqlite") if use_cache else None
    pipe = Pipeline(library, LLM(), catalog, retrieval, generation, cache)
    try:
        if model_id is not None:
            pipe.load_model(model_id)
    except BaseException:
        pipe.close()
        raise
    return pipe


def sample_pdf() -> Path:
    """The bundled sample manual (LilyPond Usage, GNU FDL: docs/sample-manual.md)."""
    return Path(__file__).resolve().parent / "data" / "sample-manual.pdf"


def sample_questions() -> Path:
    """The sample manual's question set with reference answers."""
    return Path(__file__).resolve().parent / "data" / "sample-questions.jsonl"


def sample_library_dir() -> Path:
    """Where the sample library lives (built on the app's first start)."""
    return config.libraries_dir() / "sample"


def ensure_sample_library(
    progress: ProgressCallback | None = None, cancel: CancelToken | None = None
) -> Path:
    """Build the sample library from the bundled manual unless it is already there."""
    from rag_desktop.library import Library

    path = sample_library_dir()
    with Library.open(path) as lib:
        if not lib.documents():
            lib.add_pdf(sample_pdf(), progress, cancel)
    return path
