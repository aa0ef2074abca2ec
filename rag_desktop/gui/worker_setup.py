"""Keeping the GUI thread responsive: worker scheduling, early imports, a frozen GC heap."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag_desktop.library.library import Library

log = logging.getLogger(__name__)


def batch_priority() -> None:
    """Mark this thread (and the runner it forks) as batch work, where the OS supports it.

    SCHED_BATCH keeps the full CPU share but yields to interactive threads on wake-up, so the
    GUI thread is not kept waiting behind the embedder or llama.cpp's spinning threads.
    """
    import contextlib
    import os
    import threading

    policy = getattr(os, "SCHED_BATCH", None)
    if policy is not None:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(threading.get_native_id(), policy, os.sched_param(0))


# What opening a library and searching it import: the worker imports them before the first job.
SEARCH_MODULES = ("faiss", "rank_bm25", "rag_desktop.library.library",
                  "rag_desktop.library.retrieval")
# What ingesting, answering and scoring import: only once the start is done (warm_library), so
# that a restart is usable sooner. pypdf and langchain_text_splitters are for ingestion.
LATER_MODULES = ("pypdf", "langchain_text_splitters", "rag_desktop.pipeline",
                 "rag_desktop.evaluation.scoring")
# Never imported before a restart is usable (tests/gui/test_startup_imports.py): torch and
# sentence-transformers (a MiniLM library's documents, the optional scorer) are most of the
# window's memory (docs/packaging.md); matplotlib loads with the first report; the splitter (and
# langchain_core under it) with the warm-up after the start: search needs none of LangChain.
NOT_AT_START = ("torch", "sentence_transformers", "transformers", "matplotlib",
                "langchain_text_splitters", "langchain", "langchain_core")


def import_modules(names: tuple[str, ...]) -> None:
    """Import `names` in this (worker) thread: imports hold the GIL in long stretches, and two
    threads importing at once once handed one of them a half-initialised module."""
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            log.info("optional module %s is not installed", name)


def import_core() -> None:
    """Import what opening and searching a library use (not torch, matplotlib or langchain's
    splitters: see NOT_AT_START), before the first job."""
    import_modules(SEARCH_MODULES)


def warm_library(library: Library) -> None:
    """After the start: load the query embedder and run one search, so that the first question
    waits for neither, then import what ingestion and answering use.

    Not part of the start: the USE model's pure-Python tokenizer alone takes ~0.8 s to load.
    A question asked before this ran pays the same load in its own search.
    """
    if library.documents():
        library.search("warm up", k=1)
    else:
        library.embedder.embed_query("warm up")
    import_modules(LATER_MODULES)
    limit_torch_threads()  # an embedder may have loaded torch
    freeze_heap()


def limit_torch_threads() -> None:
    """One intra-op torch thread, once torch is loaded: the GUI thread keeps a core of two."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def freeze_heap() -> None:
    """Move everything loaded so far out of the cyclic GC's reach.

    With torch and transformers in memory a full collection walks ~500k objects and holds the
    GIL for up to a second, which froze the GUI thread mid-ingestion; frozen objects are skipped.
    No collect() first: that would be the very pause this avoids.
    """
    import gc

    gc.freeze()
