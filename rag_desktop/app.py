"""Composition root shared by the CLI and the GUI engine: wires library, catalog, runner, cache."""

from __future__ import annotations

import contextlib
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from rag_desktop import config
from rag_desktop.config import GenerationSettings, RetrievalSettings
from rag_desktop.pipeline import Pipeline
from rag_desktop.progress import CancelToken, ProgressCallback


def open_pipeline(
    library_path: Path, model_id: str | None, generation: GenerationSettings | None = None,
    retrieval: RetrievalSettings | None = None, use_cache: bool = True,
) -> Pipeline:
    """Open the library, start the runner and load `model_id` (when given).

    The runner loads the model in its own process while this one imports the search stack and
    reads the indexes: on a cold start the two took about as long as each other (B1).
    """
    from concurrent.futures import ThreadPoolExecutor

    from rag_desktop.catalog import load_catalog
    from rag_desktop.llm import LLM

    catalog = load_catalog()
    entry = catalog.get(model_id) if model_id is not None else None  # unknown: fails first
    settings = generation or GenerationSettings()
    llm = LLM()
    with ThreadPoolExecutor(1, thread_name_prefix="model-load") as pool:
        loading = pool.submit(llm.load, entry, settings) if entry is not None else None
        try:
            pipe = _open_library_side(library_path, llm, catalog, retrieval, settings, use_cache)
        except BaseException:
            _settle(loading)
            llm.close()
            raise
        try:
            if loading is not None:
                loading.result()
        except BaseException:
            pipe.close()
            raise
    return pipe


def _open_library_side(library_path: Path, llm: Any, catalog: Any,
                       retrieval: RetrievalSettings | None, settings: GenerationSettings,
                       use_cache: bool) -> Pipeline:
    """Library, cache and Pipeline, with the search indexes loaded."""
    from rag_desktop.cache import AnswerCache
    from rag_desktop.library import Library

    library = Library.open(library_path)
    try:
        library.prepare_search()
        cache = AnswerCache(config.home_dir() / "answer-cache.sqlite") if use_cache else None
    except BaseException:
        library.close()
        raise
    return Pipeline(library, llm, catalog, retrieval, settings, cache)


def _settle(future: Future[Any] | None) -> None:
    """Wait for a background load that is no longer wanted; its error is not the one to show."""
    if future is not None:
        with contextlib.suppress(BaseException):
            future.result()


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
