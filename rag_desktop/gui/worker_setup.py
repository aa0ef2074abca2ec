"""Keeping the GUI thread responsive: worker scheduling, early imports, a frozen GC heap."""

from __future__ import annotations

import logging
import sys

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


def import_core() -> None:
    """Import what ingestion and search use; imports hold the GIL in long stretches.

    Not torch or sentence-transformers: only the optional MiniLM embedder needs them, and they
    are most of the window's memory (docs/packaging.md); that embedder imports them itself.
    """
    import importlib

    for name in ("faiss", "pypdf", "rank_bm25",
                 "langchain_text_splitters", "rag_desktop.library.library",
                 "rag_desktop.library.retrieval", "rag_desktop.pipeline",
                 "rag_desktop.evaluation.scoring"):
        try:
            importlib.import_module(name)
        except ImportError:
            log.info("optional module %s is not installed", name)


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
