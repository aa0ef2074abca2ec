"""The one place that reaches into llama-cpp-python's internals, behind a version check.

The fast decode loop (decoder.Decoder) drives llama.cpp's C API on the context and model that a
`llama_cpp.Llama` holds in private attributes (`_ctx.ctx`, `_model.model`), and edits the KV
cache behind `Llama`'s back. That measured 14-30% faster per token on a GPU than
`create_completion(stream=True)` (docs/performance-gpu.md), but private attributes may change
in any release. So the fast path is used only on the llama-cpp-python versions it was tested
with, and only when every handle and C function it needs is there; otherwise the runner falls
back to the public API (public_decoder.PublicDecoder).

RAG_DESKTOP_DECODER=public forces the fallback; =fast skips the version check (the
capability check still applies), for trying a new llama-cpp-python release.
"""

from __future__ import annotations

import ctypes
import os
import random
from typing import Any

import llama_cpp

# The releases the fast path was written and tested against (pyproject.toml pins the first).
TESTED_VERSIONS = ("0.3.36",)
DECODER_ENV = "RAG_DESKTOP_DECODER"
DECODER_MODES = ("auto", "fast", "public")

# The C functions the fast path calls, through llama_cpp's ctypes bindings.
_C_FUNCTIONS = (
    "llama_model_get_vocab", "llama_n_ctx", "llama_vocab_n_tokens", "llama_vocab_is_eog",
    "llama_decode", "llama_batch_get_one", "llama_get_logits_ith", "llama_get_memory",
    "llama_memory_seq_rm", "llama_memory_clear", "llama_token_to_piece",
    "llama_sampler_chain_init", "llama_sampler_chain_default_params", "llama_sampler_chain_add",
    "llama_sampler_init_top_k", "llama_sampler_init_top_p", "llama_sampler_init_min_p",
    "llama_sampler_init_temp", "llama_sampler_init_dist", "llama_sampler_sample",
    "llama_sampler_free", "llama_token",
)


def decoder_mode(setting: str | None = None) -> str:
    """"auto", "fast" or "public": `setting` if given, else $RAG_DESKTOP_DECODER, else auto."""
    mode = (setting or os.environ.get(DECODER_ENV) or "auto").strip().lower()
    if mode not in DECODER_MODES:
        raise ValueError(f"{DECODER_ENV}={mode!r}: use one of {', '.join(DECODER_MODES)}")
    return mode


def fast_path_problem(llm: Any, *, check_version: bool = True) -> str | None:
    """Why the fast path cannot drive `llm`, or None when it can."""
    version = getattr(llama_cpp, "__version__", "unknown")
    if check_version and version not in TESTED_VERSIONS:
        return (f"llama-cpp-python {version} is not one the fast decoder was tested with "
                f"({', '.join(TESTED_VERSIONS)})")
    missing = [name for name in _C_FUNCTIONS if not hasattr(llama_cpp, name)]
    if missing:
        return f"llama_cpp lacks {', '.join(missing)}"
    for owner, attr in (("_ctx", "ctx"), ("_model", "model")):
        if getattr(getattr(llm, owner, None), attr, None) is None:
            return f"Llama has no {owner}.{attr}"
    if not hasattr(llm, "n_batch"):
        return "Llama has no n_batch"
    return None


class NativeContext:
    """llama.cpp's context and vocabulary of one loaded `Llama`, driven through the C API."""

    def __init__(self, llm: Any) -> None:
        problem = fast_path_problem(llm, check_version=False)
        if problem is not None:
            raise RuntimeError(f"the fast decoder cannot run: {problem}")
        self.ctx = llm._ctx.ctx  # private: see the module docstring
        self.vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
        self.n_ctx = int(llama_cpp.llama_n_ctx(self.ctx))
        self.n_batch = int(llm.n_batch)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        self._piece = ctypes.create_string_buffer(256)
        self._one = (llama_cpp.llama_token * 1)()

    def is_eog(self, token: int) -> bool:
        """Whether `token` ends the generation (EOS, EOT, ...)."""
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def decode(self, chunk: list[int]) -> int:
        """Evaluate `chunk` after what the KV cache holds; llama.cpp's return code."""
        array = (llama_cpp.llama_token * len(chunk))(*chunk)
        return int(llama_cpp.llama_decode(self.ctx, llama_cpp.llama_batch_get_one(array,
                                                                                  len(chunk))))

    def decode_one(self, token: int) -> int:
        """`decode([token])` without building an array each time (the per-token path)."""
        self._one[0] = token
        return int(llama_cpp.llama_decode(self.ctx, llama_cpp.llama_batch_get_one(self._one, 1)))

    def keep_prefix(self, keep: int) -> bool:
        """Drop the KV cache from position `keep` on; False when the cache cannot do that."""
        return bool(llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(self.ctx), 0,
                                                  keep, -1))

    def clear(self) -> None:
        """Empty the KV cache."""
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.ctx), True)

    def argmax(self) -> int:
        """The most likely next token (greedy), read from the logits in place."""
        import numpy as np  # after llama_cpp, which has imported it already

        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ctx, -1),
                                       shape=(self.n_vocab,))
        return int(logits.argmax())

    def sample(self, sampler: ctypes.c_void_p) -> int:
        """The next token drawn by `sampler` (from new_sampler)."""
        return int(llama_cpp.llama_sampler_sample(sampler, self.ctx, -1))

    def token_bytes(self, token: int) -> bytes:
        """The bytes of one token's piece (special tokens render as nothing)."""
        n = llama_cpp.llama_token_to_piece(self.vocab, token, self._piece, len(self._piece), 0,
                                           False)
        if n < 0:  # the piece is longer than the buffer: grow it and ask again
            self._piece = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, self._piece, -n, 0, False)
        return self._piece.raw[:n]


def new_sampler(temperature: float, top_p: float, seed: int | None) -> ctypes.c_void_p:
    """llama-cpp-python's default chain (top-k 40, top-p, min-p 0.05, temperature), in C."""
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    for part in (llama_cpp.llama_sampler_init_top_k(40),
                 llama_cpp.llama_sampler_init_top_p(top_p, 1),
                 llama_cpp.llama_sampler_init_min_p(0.05, 1),
                 llama_cpp.llama_sampler_init_temp(temperature),
                 llama_cpp.llama_sampler_init_dist(random.getrandbits(32) if seed is None
                                                   else seed)):
        llama_cpp.llama_sampler_chain_add(chain, part)
    return chain


def free_sampler(sampler: ctypes.c_void_p) -> None:
    """Free a chain from new_sampler."""
    llama_cpp.llama_sampler_free(sampler)
