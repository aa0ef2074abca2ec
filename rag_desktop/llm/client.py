"""The app's side of the model runner: load, render, stream, stop and close one resident model."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rag_desktop import config
from rag_desktop.config import GenerationSettings
from rag_desktop.frozen import runner_command
from rag_desktop.llm.catalog import ModelEntry, ensure_file
from rag_desktop.llm.channel import Channel, LLMError, Timeouts
from rag_desktop.llm.gguf import GGUFInfo, read_gguf_info
from rag_desktop.llm.prompts import allot_tokens, build_messages, cut_passage
from rag_desktop.progress import CancelToken

log = logging.getLogger(__name__)

__all__ = ["LLM", "LLMError", "ModelInfo", "ModelTooLargeError", "Rendered", "Timeouts"]


class ModelTooLargeError(LLMError):
    """Refused before loading: the model and its KV cache would not fit in free memory."""


@dataclass(frozen=True)
class ModelInfo:
    """The model that answered, as every front end shows it."""

    id: str
    file: str
    quant: str
    n_gpu_layers: int
    backend: str
    n_threads: int
    n_ctx: int
    n_layers: int = 0
    decoder: str = "fast"  # the runner's decode loop: "fast" (llama_adapter) or "public"

    def to_json(self) -> dict[str, Any]:
        """The `model` object of `ask --json` (docs/cli.md)."""
        return {"id": self.id, "file": self.file, "quant": self.quant,
                "n_gpu_layers": self.n_gpu_layers, "backend": self.backend}


@dataclass
class GenerationStats:
    """Counts the runner reports at the end of one generation."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    stopped: bool = False
    finish_reason: str | None = None
    reused_tokens: int = 0  # prompt tokens found in the KV cache, not evaluated again
    # A server read fewer prompt tokens than were sent (llm/server.py); never set locally.
    truncated: bool = False


@dataclass
class Rendered:
    """A prompt rendered with the model's chat template, and its length in model tokens."""

    prompt: str
    n_tokens: int
    stop: list[str] = field(default_factory=list)


def estimate_memory_bytes(info: GGUFInfo, n_ctx: int) -> int:
    """Weights plus an f16 KV cache plus a fixed allowance for compute buffers."""
    meta, arch = info.metadata, info.architecture
    n_embd = int(meta.get(f"{arch}.embedding_length", 0) or 0)
    n_head = int(meta.get(f"{arch}.attention.head_count", 1) or 1)
    n_head_kv = int(meta.get(f"{arch}.attention.head_count_kv", n_head) or n_head)
    head_dim = int(meta.get(f"{arch}.attention.key_length", 0) or 0) or n_embd // max(1, n_head)
    kv = 2 * info.n_layers * n_ctx * n_head_kv * head_dim * 2
    return info.size_bytes + kv + 256 * 2**20


def available_memory_bytes() -> int:
    """Memory the OS can give us now (psutil), or a large number when it cannot tell."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:
        return 1 << 62


def check_fits(info: GGUFInfo, n_ctx: int, n_gpu_layers: int) -> None:
    """Raise ModelTooLargeError when a CPU load would not fit: llama.cpp could kill the process."""
    if n_gpu_layers != 0:
        return  # the weights go to VRAM, which this check cannot see
    need, have = estimate_memory_bytes(info, n_ctx), available_memory_bytes()
    if need > have:
        raise ModelTooLargeError(
            f"{info.path.name}: needs about {need / 2**30:.1f} GiB of memory with a {n_ctx}-token "
            f"context, but only {have / 2**30:.1f} GiB is free; choose a smaller model or quant, "
            "or a smaller context"
        )


class LLM:
    """Client of one runner child process; at most one model is resident at a time.

    A runner that dies takes its model with it: `info` turns None as soon as that is noticed.
    The next render, stream or count starts a new runner and loads the last model again
    (once); only when that fails does it raise "the model is not loaded".
    """

    def __init__(self, python: str = sys.executable, timeouts: Timeouts | None = None,
                 decoder: str | None = None, command: list[str] | None = None) -> None:
        """`command` starts the runner; by default frozen.runner_command(python): `python -m
        rag_desktop.llm.runner`, or the frozen app's own executable with `--runner`. `decoder`
        "fast" or "public" forces the runner's decode loop (llama_adapter); `timeouts`
        overrides the waits (tests)."""
        self._chan = Channel(command or runner_command(python), timeouts or Timeouts())
        self._decoder = decoder
        self._info: ModelInfo | None = None
        self._loaded: tuple[ModelEntry, GenerationSettings] | None = None  # to reload
        self._open_stream: int | None = None  # a generation whose done line is unread
        self.last_stats = GenerationStats()
        self.gpu_offload = False
        self.backend = "CPU"
        self.prompt_format = "chat"

    # -- state ------------------------------------------------------------------------------
    @property
    def timeouts(self) -> Timeouts:
        """The waits for the runner's answers (see Timeouts)."""
        return self._chan.timeouts

    @timeouts.setter
    def timeouts(self, value: Timeouts) -> None:
        self._chan.timeouts = value

    @property
    def alive(self) -> bool:
        """Whether the runner process is running (it is polled, not assumed)."""
        return self._chan.alive

    @property
    def info(self) -> ModelInfo | None:
        """The resident model; None when none is loaded or the runner has died."""
        if self._info is not None and not self._chan.alive:
            log.warning("the model runner has stopped; %s is no longer loaded", self._info.id)
            self._info = None
        return self._info

    @info.setter
    def info(self, value: ModelInfo | None) -> None:
        self._info = value

    @property
    def loaded(self) -> bool:
        """Whether a model is resident in a running runner."""
        return self.info is not None

    @property
    def runner_pid(self) -> int | None:
        """The runner's process id, while it runs."""
        return self._chan.pid

    # -- plumbing ---------------------------------------------------------------------------
    def _start(self) -> None:
        if self._chan.alive:
            return
        self._info = None  # a new runner has no model
        hello = self._chan.start()
        self.gpu_offload, self.backend = bool(hello.get("gpu_offload")), str(hello.get("backend"))

    def _call(self, op: str, **fields: Any) -> dict[str, Any]:
        self._settle_stream()
        self._start()
        id = self._chan.send(op, **fields)
        reply = self._chan.reply(id, op, self.timeouts.for_op(op))
        if not reply.get("ok"):
            raise LLMError(str(reply.get("error")))
        return reply

    def _model_call(self, op: str, **fields: Any) -> dict[str, Any]:
        """A call that needs the model: reload it first if the runner died since."""
        self.ensure_loaded()
        return self._call(op, **fields)

    def ensure_loaded(self) -> ModelInfo | None:
        """The resident model; after the runner died, the last model loaded again (once).

        LLMError saying the model is not loaded when that reload fails.
        """
        if self._loaded is None or self._chan.alive:
            return self.info
        entry, settings = self._loaded
        log.warning("the model runner had stopped; starting it again and reloading %s", entry.id)
        try:
            return self.load(entry, settings)
        except Exception as exc:
            self._loaded = None  # no reload loop: the next call says "no model is loaded"
            raise LLMError(f"the model is not loaded: the model runner stopped, and loading "
                           f"{entry.id} again failed: {exc}") from exc

    def _settle_stream(self) -> None:
        """Read the rest of a generation its caller gave up on, so that nothing of it is
        taken for the next answer; a runner that does not finish it is killed."""
        id, self._open_stream = self._open_stream, None
        if id is None or not self._chan.alive:
            return
        self._chan.send_stop(id)
        try:
            while self._chan.reply(id, "stop", self.timeouts.drain).get("event") == "token":
                pass
        except LLMError as exc:
            log.warning("an abandoned generation did not end cleanly: %s", exc)
            self._chan.kill()  # the next call starts a new runner and reloads the model

    # -- public API -------------------------------------------------------------------------
    def load(self, entry: ModelEntry, settings: GenerationSettings) -> ModelInfo:
        """Close the current model, then load `entry` in the runner; clear errors on bad files."""
        self.close_model()
        path = ensure_file(entry)
        info = read_gguf_info(path)  # GGUFError for a missing, non-GGUF or truncated file
        n_ctx = min(info.context_length or settings.n_ctx_cap, settings.n_ctx_cap)
        self._start()  # learns whether this llama.cpp build can offload
        auto = -1 if self.gpu_offload else 0
        n_gpu = settings.n_gpu_layers if settings.n_gpu_layers is not None else auto
        n_gpu = n_gpu if self.gpu_offload else 0
        # With every layer on the GPU the CPU threads only wait; one thread decoded 2.5% faster
        # than 16 on an H200 (docs/performance-gpu.md).
        n_threads = settings.n_threads or (1 if n_gpu == -1 else config.physical_cores())
        check_fits(info, n_ctx, n_gpu)
        fields = {"path": str(path), "n_ctx": n_ctx, "n_batch": settings.n_batch,
                  "n_threads": n_threads, "n_gpu_layers": n_gpu, "family": entry.family,
                  "prompt_format": entry.prompt_format, "chat_template": info.chat_template,
                  "decoder": self._decoder}
        try:
            reply = self._call("load", **fields)
        except LLMError as exc:
            raise LLMError(f"{path.name}: could not load the model: {exc}") from exc
        self._prefill(path.name)
        self.prompt_format = entry.prompt_format
        self._info = ModelInfo(
            id=entry.id, file=path.name, quant=info.quant, n_gpu_layers=reply["n_gpu_layers"],
            backend=reply["backend"], n_threads=n_threads, n_ctx=reply["n_ctx"],
            n_layers=reply["n_layers"], decoder=str(reply.get("decoder", "fast")),
        )
        self._loaded = (entry, settings)
        return self._info

    def _prefill(self, name: str) -> None:
        """Have the system prompt, the same for every question, in the KV cache already."""
        try:
            self._call("prefill", messages=build_messages("", []))
        except LLMError as exc:  # an odd template: questions still work, only slower to start
            if not self._chan.alive:  # the runner died or timed out: that is a failed load
                raise LLMError(f"{name}: could not load the model: {exc}") from exc
            log.warning("%s: no system-prompt prefill: %s", name, exc)

    def render(self, messages: list[dict[str, str]]) -> Rendered:
        """Apply the model's chat template and count the prompt in the model's own tokens."""
        reply = self._model_call("render", messages=messages)
        return Rendered(reply["prompt"], int(reply["n_tokens"]), list(reply.get("stop", [])))

    def render_text(self, prompt: str) -> Rendered:
        """A prompt written out already (no template), counted, with the model's stop strings."""
        reply = self._model_call("render", text=prompt)
        return Rendered(reply["prompt"], int(reply["n_tokens"]), list(reply.get("stop", [])))

    def count_tokens(self, text: str) -> int:
        """Length of `text` in the loaded model's tokens."""
        return int(self._model_call("tokenize", text=text)["n_tokens"])

    def fit_passages(self, texts: list[str], budget: int | None) -> list[str]:
        """`texts` (in rank order) cut to `budget` of the model's tokens in all.

        Long passages lose their tails (prompts.allot_tokens); the lowest-ranked are left out
        when a share would be too small, so the result may be shorter than `texts`.
        """
        if budget is None or not texts:
            return list(texts)
        lengths = [int(n) for n in self._model_call("tokenize", texts=texts)["n_tokens"]]
        fitted = []
        for text, full, keep in zip(texts, lengths, allot_tokens(lengths, budget), strict=True):
            if keep <= 0:
                break
            if keep < full:  # two tokens fewer: room for the " …" that marks the cut
                head = self._model_call("truncate", text=text, max_tokens=keep - 2)["text"]
                text = cut_passage(head)
            fitted.append(text)
        return fitted

    def stream(
        self, rendered: Rendered, settings: GenerationSettings, cancel: CancelToken | None = None,
        *, repetition_stop: bool = True,
    ) -> Iterator[str]:
        """Yield text pieces as they are generated; a cancel stops the runner within one token.

        A loop (decoder.RepetitionGuard) ends the generation, with finish_reason
        "repetition" in `last_stats`, unless `repetition_stop` is False (to record raw output).

        After the iterator ends, `last_stats` holds the token counts.
        If the caller stops iterating early (or raises), the rest of the generation is stopped
        and read away before the next call, so that none of it is taken for that call's answer.
        """
        fields: dict[str, Any] = {
            "prompt": rendered.prompt, "stop": rendered.stop, "max_tokens": settings.max_tokens,
            "temperature": settings.temperature, "top_p": settings.top_p}
        if not repetition_stop:  # the runner stops loops unless told not to
            fields["repetition"] = None
        self.ensure_loaded()
        self._settle_stream()
        self._start()
        id = self._open_stream = self._chan.send("generate", **fields)
        # The stop goes out the moment cancel() is called, not when the next token arrives.
        remove = cancel.on_cancel(self.stop) if cancel is not None else None
        try:
            yield from self._tokens(id)
        finally:
            if remove is not None:
                remove()
            if self._open_stream == id:  # given up on before its done line: read the rest
                self._settle_stream()

    def _tokens(self, id: int) -> Iterator[str]:
        wait = self.timeouts.first_token  # the first token waits for the prompt's evaluation
        while True:
            reply = self._chan.reply(id, "generate", wait)
            if reply.get("event") == "token":
                yield str(reply["text"])
                wait = self.timeouts.token
                continue
            self._open_stream = None
            if not reply.get("ok"):
                raise LLMError(str(reply.get("error")))
            self.last_stats = GenerationStats(
                int(reply["prompt_tokens"]), int(reply["completion_tokens"]),
                bool(reply["stopped"]), reply.get("finish_reason"),
                int(reply.get("reused_tokens", 0)))
            return

    def stop(self) -> None:
        """Ask the runner to stop the current generation (safe from any thread)."""
        id = self._open_stream
        if id is not None:
            self._chan.send_stop(id)

    def close_model(self) -> None:
        """Free the resident model (Llama.close in the runner); the runner stays up."""
        if self._chan.alive and self._info is not None:
            self._call("close")
        self._info, self._loaded = None, None

    def close(self) -> None:
        """Stop the runner process; all of the model's memory goes with it."""
        if self._open_stream is not None:  # a generation would hold up its exit until done
            self._chan.send_stop(self._open_stream)
        self._open_stream = None
        self._info, self._loaded = None, None
        self._chan.close()

    def __enter__(self) -> LLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
