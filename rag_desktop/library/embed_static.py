"""Static (model2vec) embedders read with NumPy, safetensors and tokenizers: no model2vec, no torch.

A model2vec folder holds config.json, tokenizer.json and model.safetensors with an
"embeddings" table (optionally "weights" per token and a "mapping" of token ids to rows).
A text's vector is the mean of its tokens' rows, L2-normalised: what
model2vec.StaticModel.encode computes, except that nothing is truncated (it cuts at 512 tokens).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from rag_desktop.progress import CancelToken, ProgressCallback

KOR_MINISH_REPO = "hysnnnn/kor-minish-bge-m3-ko"
_SLICE = 512


def is_static_folder(folder: Path) -> bool:
    """True for a model2vec folder (config, tokenizer and embeddings at its top level)."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    static = (isinstance(config, dict) and (config.get("model_type") == "model2vec"
              or "StaticModel" in (config.get("architectures") or [])))
    return bool(static and (folder / "tokenizer.json").is_file()
                and (folder / "model.safetensors").is_file())


def kor_minish_folder() -> Path:
    """kor-minish's model2vec folder, if the user put it on this machine; never downloads.

    The kor-minish wheel ships no weights: its code fetches them from the Hugging Face hub at
    first use, which this app never does. The folder is looked for in $RAG_DESKTOP_KOR_MINISH
    and in the Hugging Face cache (a `hf download` done by hand).
    """
    given = os.environ.get("RAG_DESKTOP_KOR_MINISH")
    candidates = [Path(given).expanduser()] if given else []
    hub = Path(os.environ.get("HF_HUB_CACHE") or Path(os.environ.get(
        "HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub")
    snapshots = hub / ("models--" + KOR_MINISH_REPO.replace("/", "--")) / "snapshots"
    if snapshots.is_dir():
        candidates += sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for folder in candidates:
        if is_static_folder(folder):
            return folder
    raise FileNotFoundError(
        "kor-minish's weights are not on this machine: the kor-minish wheel ships none (its "
        f"code downloads {KOR_MINISH_REPO} from the Hugging Face hub). Download that repository "
        "yourself and set RAG_DESKTOP_KOR_MINISH to its folder, or pass the folder's path")


class StaticEmbedder:
    """A model2vec static model: a token-embedding table averaged over each text.

    Hundreds of times faster than a transformer and without a window (`max_tokens` is None),
    but blind to word order.
    """

    def __init__(self, model_id: str, folder: Path) -> None:
        self.model_id = model_id
        self.folder = folder
        self.documents_embedded = 0
        self._lock = threading.Lock()
        self._table: np.ndarray | None = None
        self._weights: np.ndarray | None = None
        self._mapping: np.ndarray | None = None
        self._tokenizer: Any = None
        self._unk: int | None = None
        self._normalize = True

    @property
    def loaded(self) -> bool:
        """True once the table is in memory."""
        return self._table is not None

    @property
    def dim(self) -> int:
        """Columns of the embedding table."""
        return int(self._load().shape[1])

    @property
    def max_tokens(self) -> int | None:
        """None: a mean of token rows has no window."""
        return None

    def _load(self) -> np.ndarray:
        with self._lock:
            if self._table is None:
                from safetensors.numpy import load_file
                from tokenizers import Tokenizer

                tensors = load_file(str(self.folder / "model.safetensors"))
                config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
                self._normalize = bool(config.get("normalize", True))
                self._weights = tensors.get("weights")
                self._mapping = tensors.get("mapping")
                tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                tokenizer.no_truncation()
                tokenizer.no_padding()
                self._unk = _unk_id(tokenizer)
                self._tokenizer = tokenizer
                self._table = tensors["embeddings"]
            return self._table

    def _ids(self, texts: list[str]) -> list[list[int]]:
        self._load()
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        # model2vec drops the unknown token: a word-level vocabulary makes many of them.
        return [[i for i in e.ids if i != self._unk] for e in encodings]

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens of each text (special tokens are not used by static models)."""
        return [len(ids) for ids in self._ids(list(texts))]

    def token_lengths(self, texts: list[str], cancel: CancelToken | None = None) -> list[int]:
        """Same as count_tokens: nothing is truncated."""
        return self.count_tokens(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        table = self._load()
        out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
        for row, ids in enumerate(self._ids(texts)):
            if not ids:
                continue
            index = np.asarray(ids, dtype=np.int64)
            rows = table[index if self._mapping is None else self._mapping[index]]
            rows = rows.astype(np.float32)
            if self._weights is not None:
                rows = rows * self._weights[index, None]
            out[row] = rows.mean(0)
        if self._normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def embed_documents(
        self,
        texts: list[str],
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """Vectors for passages, (n, dim) float32 L2-normalised; reports stage "chunks"."""
        from rag_desktop.library.embed_slices import embed_in_slices

        return embed_in_slices(self, texts, self.dim, _SLICE, self._encode, progress, cancel)

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one question, (dim,) float32 L2-normalised."""
        return self._encode([text])[0]


def _unk_id(tokenizer: Any) -> int | None:
    """The unknown token's id of a WordPiece/BPE/WordLevel or Unigram tokenizer, if any."""
    model = tokenizer.model
    token = getattr(model, "unk_token", None)
    if token is not None:
        found = tokenizer.token_to_id(token)
        return int(found) if found is not None else None
    unk = json.loads(tokenizer.to_str())["model"].get("unk_id")
    return int(unk) if unk is not None else None
