"""The model backend: what the pipeline, chat/ and the evaluation ask of a model, and the
session's one client that routes each catalog entry to its backend.

Two backends implement it: `client.LLM` (the local runner, the default) and `server.ServerLLM`
(an OpenAI-compatible server: llama.cpp's server, vLLM). `ModelClient` holds one of each at
most and uses one at a time: loading a server entry stops the local runner (its memory goes
with it), and loading a local model closes the server connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from rag_desktop.config import GenerationSettings
from rag_desktop.llm.catalog import ModelEntry
from rag_desktop.llm.client import LLM, GenerationStats, ModelInfo, Rendered, Timeouts
from rag_desktop.progress import CancelToken

if TYPE_CHECKING:
    from rag_desktop.llm.server import ServerLLM


class ModelBackend(Protocol):
    """One model client: load a catalog entry, count and render prompts, stream answers."""

    @property
    def last_stats(self) -> GenerationStats:
        """The counts of the last generation (prompt, completion, stopped, truncated)."""

    @property
    def prompt_format(self) -> str:
        """"chat", or "completion" for a base model (prompts.PROMPT_FORMATS)."""

    @property
    def info(self) -> ModelInfo | None:
        """The loaded model; None when none is."""

    @info.setter
    def info(self, value: ModelInfo | None) -> None: ...

    @property
    def loaded(self) -> bool:
        """Whether a model is loaded."""

    @property
    def alive(self) -> bool:
        """Whether the backend is up (a runner process, or an open server connection)."""

    def load(self, entry: ModelEntry, settings: GenerationSettings) -> ModelInfo:
        """Close the current model, then load `entry`."""

    def ensure_loaded(self) -> ModelInfo | None:
        """The loaded model, brought back first when it was lost."""

    def render(self, messages: list[dict[str, str]]) -> Rendered:
        """The chat prompt and its length in the model's tokens (an upper bound)."""

    def render_text(self, prompt: str) -> Rendered:
        """A prompt written out already, counted."""

    def count_tokens(self, text: str) -> int:
        """Length of `text` in the model's tokens."""

    def fit_passages(self, texts: list[str], budget: int | None) -> list[str]:
        """`texts` cut to `budget` tokens in all (prompts.allot_tokens)."""

    def stream(self, rendered: Rendered, settings: GenerationSettings,
               cancel: CancelToken | None = None, *,
               repetition_stop: bool = True) -> Iterator[str]:
        """Yield the answer's text pieces; `last_stats` holds the counts afterwards."""

    def stop(self) -> None:
        """Stop the current generation (safe from any thread)."""

    def close_model(self) -> None:
        """Free the loaded model."""

    def close(self) -> None:
        """Release everything the backend holds."""


def is_server(entry: ModelEntry) -> bool:
    """Whether `entry` is a model on an OpenAI-compatible server."""
    return entry.server is not None


class ModelClient:
    """The session's one model client: the local runner or a server, by the loaded entry."""

    def __init__(self, local: LLM | None = None) -> None:
        self.local = local or LLM()
        self.server: ServerLLM | None = None
        self._active: ModelBackend = self.local

    @property
    def active(self) -> ModelBackend:
        """The backend of the model loaded last (the local runner before any load)."""
        return self._active

    def load(self, entry: ModelEntry, settings: GenerationSettings) -> ModelInfo:
        """Load `entry` in its backend, closing the other one first."""
        if is_server(entry):
            from rag_desktop.llm.server import ServerLLM

            self.local.close()  # stops the runner: a server model needs none of its memory
            self.server = self.server or ServerLLM()
            self._active = self.server
            return self.server.load(entry, settings)
        if self.server is not None:
            self.server.close()
            self.server = None
        self._active = self.local
        return self.local.load(entry, settings)

    # -- the rest is the active backend's ---------------------------------------------------
    @property
    def info(self) -> ModelInfo | None:
        """The active backend's model."""
        return self._active.info

    @info.setter
    def info(self, value: ModelInfo | None) -> None:
        self._active.info = value

    @property
    def loaded(self) -> bool:
        """Whether the active backend has a model."""
        return self._active.loaded

    @property
    def alive(self) -> bool:
        """Whether the active backend is up."""
        return self._active.alive

    @property
    def last_stats(self) -> GenerationStats:
        """The active backend's counts of its last generation."""
        return self._active.last_stats

    @property
    def prompt_format(self) -> str:
        """"chat" or "completion" (prompts.PROMPT_FORMATS), the active backend's."""
        return self._active.prompt_format

    @property
    def runner_pid(self) -> int | None:
        """The local runner's process id, while it runs."""
        return self.local.runner_pid

    @property
    def timeouts(self) -> Timeouts:
        """The local runner's waits."""
        return self.local.timeouts

    @timeouts.setter
    def timeouts(self, value: Timeouts) -> None:
        self.local.timeouts = value

    def ensure_loaded(self) -> ModelInfo | None:
        """The active backend's model, reloaded when its runner had died."""
        return self._active.ensure_loaded()

    def render(self, messages: list[dict[str, str]]) -> Rendered:
        """Render and count a chat prompt on the active backend."""
        return self._active.render(messages)

    def render_text(self, prompt: str) -> Rendered:
        """Count a written-out prompt on the active backend."""
        return self._active.render_text(prompt)

    def count_tokens(self, text: str) -> int:
        """Count `text` in the active model's tokens."""
        return self._active.count_tokens(text)

    def fit_passages(self, texts: list[str], budget: int | None) -> list[str]:
        """Cut passages to a token budget on the active backend."""
        return self._active.fit_passages(texts, budget)

    def stream(self, rendered: Rendered, settings: GenerationSettings,
               cancel: CancelToken | None = None, *,
               repetition_stop: bool = True) -> Iterator[str]:
        """Stream an answer from the active backend."""
        return self._active.stream(rendered, settings, cancel, repetition_stop=repetition_stop)

    def stop(self) -> None:
        """Stop the active backend's generation."""
        self._active.stop()

    def close_model(self) -> None:
        """Free the active backend's model."""
        self._active.close_model()

    def close(self) -> None:
        """Stop the runner and close any server connection."""
        self.local.close()
        if self.server is not None:
            self.server.close()
            self.server = None
        self._active = self.local

    def __enter__(self) -> ModelClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
