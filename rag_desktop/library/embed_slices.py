"""The loops the NumPy embedders share: count and encode in slices, with progress and cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rag_desktop.progress import CancelToken, ProgressCallback, ProgressEvent


def embed_in_slices(embedder: Any, texts: list[str], dim: int, step: int,
                    encode: Callable[[list[str]], np.ndarray],
                    progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None) -> np.ndarray:
    """`encode` over `texts` in slices of `step`: progress stage "chunks", a cancel noticed
    between slices, and `embedder.documents_embedded` counted (the NumPy embedders share it)."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for begin in range(0, len(texts), step):
        if cancel is not None:
            cancel.raise_if_cancelled()
        batch = texts[begin:begin + step]
        out[begin:begin + len(batch)] = encode(batch)
        embedder.documents_embedded += len(batch)
        if progress is not None:
            progress(ProgressEvent("chunks", begin + len(batch), len(texts)))
    return out


def count_in_slices(count: Callable[[list[str]], list[int]], texts: list[str],
                    cancel: CancelToken | None = None, step: int = 1024) -> list[int]:
    """`count` over `texts` in slices of `step`, a cancel noticed between slices: a whole
    library's token ids at once (a reindex) would be about a gigabyte of Python ints."""
    lengths: list[int] = []
    for begin in range(0, len(texts), step):
        if cancel is not None:
            cancel.raise_if_cancelled()
        lengths += count(texts[begin:begin + step])
    return lengths
