"""The GUI's user parameters as one frozen dataclass, and their QSettings persistence."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from PySide6.QtCore import QSettings

from rag_desktop.config import (
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_MODEL_ID,
    GenerationSettings,
    OcrSettings,
    RetrievalSettings,
    with_fusion,
)
from rag_desktop.gui.i18n import LANGUAGE_KEY, normal_choice

_DEFAULT_GEN = GenerationSettings()
_DEFAULT_RET = RetrievalSettings()


@dataclass(frozen=True)
class Params:
    """What the settings dialog edits. n_gpu_layers -1 = all/auto; n_threads 0 = auto;
    language: the UI's, "system", "en" or "ko" (read by i18n at the next start);
    ocr_language: how scanned pages are read, "auto", "en", "ko" or "off"."""

    n_gpu_layers: int = -1
    n_threads: int = 0
    n_ctx: int = _DEFAULT_GEN.n_ctx_cap
    temperature: float = _DEFAULT_GEN.temperature
    max_tokens: int = _DEFAULT_GEN.max_tokens
    k: int = _DEFAULT_RET.k
    bm25_weight: float = _DEFAULT_RET.bm25_weight
    fusion: str = _DEFAULT_RET.fusion
    gate: bool = _DEFAULT_RET.gate
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    language: str = "system"
    ocr_language: str = "auto"

    def generation(self) -> GenerationSettings:
        """The core's generation settings for these parameters."""
        return replace(
            _DEFAULT_GEN,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            n_ctx_cap=self.n_ctx,
            n_threads=self.n_threads or None,
            n_gpu_layers=None if self.n_gpu_layers < 0 else self.n_gpu_layers,
        )

    def retrieval(self) -> RetrievalSettings:
        """The core's retrieval settings for these parameters."""
        settings = replace(_DEFAULT_RET, k=self.k, bm25_weight=self.bm25_weight, gate=self.gate)
        return with_fusion(settings, self.fusion)

    def ocr(self) -> OcrSettings:
        """The core's OCR settings for these parameters."""
        return OcrSettings.from_choice(self.ocr_language)

    def needs_reload(self, other: Params) -> bool:
        """True when a change only takes effect after the model is loaded again."""
        keys = ("n_gpu_layers", "n_threads", "n_ctx")
        return any(getattr(self, k) != getattr(other, k) for k in keys)


def settings_key(name: str) -> str:
    """Where a parameter is saved: "params/NAME"; the language under i18n's own key, which
    the app reads before any window exists."""
    return LANGUAGE_KEY if name == "language" else f"params/{name}"


def load_params(settings: QSettings) -> Params:
    """Parameters saved under "params/", with defaults for anything missing or malformed."""
    values: dict[str, Any] = {}
    for f in fields(Params):
        raw = settings.value(settings_key(f.name))
        if raw is None:
            continue
        kind = type(getattr(Params(), f.name))
        try:
            # QSettings' INI files give booleans back as the strings "true"/"false".
            values[f.name] = (str(raw).lower() in ("true", "1") if kind is bool else kind(raw))
        except (TypeError, ValueError):
            continue
    if values.get("fusion") not in (None, "convex", "rrf"):
        del values["fusion"]
    if "language" in values:
        values["language"] = normal_choice(values["language"])
    return Params(**values)


def save_params(settings: QSettings, params: Params) -> None:
    """Store every parameter under "params/"."""
    for f in fields(Params):
        settings.setValue(settings_key(f.name), getattr(params, f.name))


def last_model(settings: QSettings) -> str:
    """The model chosen last time, else the packaged default."""
    return str(settings.value("session/model", DEFAULT_MODEL_ID))


def last_library(settings: QSettings) -> str | None:
    """The library folder used last time, if any."""
    value = settings.value("session/library")
    return str(value) if value else None
