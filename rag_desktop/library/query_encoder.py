"""A NumPy forward pass of a BERT sentence-transformers model, for embedding questions.

Importing torch and sentence-transformers and loading the model took ~6 s of a cold start
before the first question could be searched (docs/performance.md, cold start); one question is a few
dozen tokens, which NumPy encodes in milliseconds. This reads the same folder (tokenizer.json,
config.json, model.safetensors) and computes what SentenceTransformer.encode computes for a
Transformer(BertModel) → mean Pooling → Normalize pipeline: the vectors agree to ~1e-6.
Anything else (other architectures, CLS pooling, Dense layers) is not supported: `load`
returns None and the caller uses sentence-transformers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
            "sentence_transformers.models.Normalize"]


def _erf(x: np.ndarray) -> np.ndarray:
    """erf with error below 1.2e-7 (Numerical Recipes' erfc Chebyshev fit): float32 precision.

    NumPy has no erf, and BERT's GELU is the exact erf form, not the tanh approximation.
    """
    t = 1.0 / (1.0 + 0.5 * np.abs(x))
    poly = t * np.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (
        0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (
            1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return np.where(x >= 0, 1.0 - poly, poly - 1.0)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _blas_limiter() -> Any:
    """threadpoolctl's limit() bound to the BLAS libraries found once; None without it."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController().limit


class BertQueryEncoder:
    """Embeds one text at a time with a BERT model's weights held as NumPy arrays."""

    def __init__(self, folder: Path, config: dict[str, Any], max_len: int) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.w = {k: v.astype(np.float32) for k, v in
                  load_file(str(folder / "model.safetensors")).items()}
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_len)
        prefix = "" if "embeddings.word_embeddings.weight" in self.w else "bert."
        self.w = {k.removeprefix(prefix): v for k, v in self.w.items()}
        self._limit = _blas_limiter()

    @classmethod
    def load(cls, folder: Path) -> BertQueryEncoder | None:
        """The encoder for a sentence-transformers folder, or None if it is not a plain BERT."""
        try:
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            pooling = json.loads((folder / "1_Pooling" / "config.json").read_text("utf-8"))
            st = json.loads((folder / "sentence_bert_config.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        plain = (
            [m.get("type") for m in modules] == _MODULES
            and config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and pooling.get("pooling_mode_mean_tokens") is True
            and not any(v for k, v in pooling.items() if k.startswith("pooling_mode")
                        and k != "pooling_mode_mean_tokens")
            and not st.get("do_lower_case")
            and (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
        )
        if not plain:
            return None
        max_len = min(int(st.get("max_seq_length", 512)),
                      int(config.get("max_position_embeddings", 512)))
        return cls(folder, config, max_len)

    def encode(self, text: str) -> np.ndarray:
        """The L2-normalised mean-pooled embedding of `text`, shape (hidden,), float32.

        On one BLAS thread: a question's matrices are small, and while other processes held
        the cores, OpenBLAS's spin-waiting threads made a query 10x slower (886 ms against
        78 ms with one thread, load average 11 on 2 cores).
        """
        if self._limit is None:
            return self._encode(text)
        with self._limit(limits=1, user_api="blas"):
            return self._encode(text)

    def _encode(self, text: str) -> np.ndarray:
        ids = np.asarray(self.tokenizer.encode(text).ids, dtype=np.int64)
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][: len(ids)]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                        self.eps)
        for i in range(self.layers):
            x = self._layer(x, f"encoder.layer.{i}.")
        pooled = x.mean(0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _layer(self, x: np.ndarray, p: str) -> np.ndarray:
        n, hidden = x.shape
        d = hidden // self.heads

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(n, self.heads, d).transpose(1, 0, 2)

        q = split(self._dense(x, p + "attention.self.query"))
        k = split(self._dense(x, p + "attention.self.key"))
        v = split(self._dense(x, p + "attention.self.value"))
        scores = q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(d))
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = (scores / scores.sum(-1, keepdims=True)) @ v
        context = context.transpose(1, 0, 2).reshape(n, hidden)
        attn = self._dense(context, p + "attention.output.dense")
        x = _layer_norm(x + attn, self.w[p + "attention.output.LayerNorm.weight"],
                        self.w[p + "attention.output.LayerNorm.bias"], self.eps)
        h = self._dense(x, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / np.float32(np.sqrt(2.0))))
        out = self._dense(h, p + "output.dense")
        return _layer_norm(x + out, self.w[p + "output.LayerNorm.weight"],
                           self.w[p + "output.LayerNorm.bias"], self.eps)
