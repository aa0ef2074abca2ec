"""The loop the NumPy embedders share: encode in slices, with progress, cancel and a count."""

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
