"""The app's side of the model runner: load, render, stream, stop and close one resident model."""

from __future__ import annotations

import collections
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from rag_desktop import config
from rag_desktop.config import GenerationSettings
from rag_desktop.llm.catalog import ModelEntry, ensure_file
from rag_desktop.llm.gguf import GGUFInfo, read_gguf_info
from rag_desktop.llm.prompts import allot_tokens, build_messages, cut_passage
from rag_desktop.progress import CancelToken

log = logging.getLogger(__name__)


class LLMError(Exception):
    """The model could not be loaded or run; the message names the file and the reason."""


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
    """Client of one runner child process; at most one model is resident at a time."""

    def __init__(self, python: str = sys.executable) -> None:
        self._python = python
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._write_lock = threading.Lock()
        self.info: ModelInfo | None = None
        self.last_stats = GenerationStats()
        self.gpu_offload = False
        self.backend = "CPU"
        self.prompt_format = "chat"

    # -- process plumbing -------------------------------------------------------------------
    def _start(self) -> subprocess.Popen[str]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        self._proc = subprocess.Popen(
            [self._python, "-m", "rag_desktop.llm.runner"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            bufsize=1, env=env,
        )
        assert self._proc.stderr is not None
        threading.Thread(target=self._drain, args=(self._proc.stderr,), daemon=True).start()
        ready = self._read()
        self.gpu_offload, self.backend = bool(ready.get("gpu_offload")), str(ready.get("backend"))
        return self._proc

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self._stderr.append(line.rstrip())

    def _send(self, req: dict[str, Any]) -> None:
        proc = self._start() if req.get("op") != "stop" else self._proc
        if proc is None or proc.stdin is None:
            return
        with self._write_lock:
            try:
                proc.stdin.write(json.dumps(req) + "\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise self._crashed() from exc

    def _read(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise self._crashed()
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _crashed(self) -> LLMError:
        proc, self._proc, self.info = self._proc, None, None
        code = proc.wait(timeout=10) if proc is not None else None
        tail = " | ".join(list(self._stderr)[-3:])
        return LLMError(f"the model runner stopped unexpectedly (exit {code}): {tail}")

    def _call(self, req: dict[str, Any]) -> dict[str, Any]:
        self._send(req)
        reply = self._read()
        if not reply.get("ok"):
            raise LLMError(str(reply.get("error")))
        return reply

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
        req = {"op": "load", "path": str(path), "n_ctx": n_ctx, "n_batch": settings.n_batch,
               "n_threads": n_threads, "n_gpu_layers": n_gpu, "family": entry.family,
               "prompt_format": entry.prompt_format, "chat_template": info.chat_template}
        try:
            reply = self._call(req)
        except LLMError as exc:
            raise LLMError(f"{path.name}: could not load the model: {exc}") from exc
        # The system prompt is the same for every question: have it in the KV cache already.
        try:
            self._call({"op": "prefill", "messages": build_messages("", [])})
        except LLMError as exc:  # an odd template: questions still work, only slower to start
            log.warning("%s: no system-prompt prefill: %s", path.name, exc)
        self.prompt_format = entry.prompt_format
        self.info = ModelInfo(
            id=entry.id, file=path.name, quant=info.quant, n_gpu_layers=reply["n_gpu_layers"],
            backend=reply["backend"], n_threads=n_threads, n_ctx=reply["n_ctx"],
            n_layers=reply["n_layers"],
        )
        return self.info

    def render(self, messages: list[dict[str, str]]) -> Rendered:
        """Apply the model's chat template and count the prompt in the model's own tokens."""
        reply = self._call({"op": "render", "messages": messages})
        return Rendered(reply["prompt"], int(reply["n_tokens"]), list(reply.get("stop", [])))

    def render_text(self, prompt: str) -> Rendered:
        """A prompt written out already (no template), counted, with the model's stop strings."""
        reply = self._call({"op": "render", "text": prompt})
        return Rendered(reply["prompt"], int(reply["n_tokens"]), list(reply.get("stop", [])))

    def count_tokens(self, text: str) -> int:
        """Length of `text` in the loaded model's tokens."""
        return int(self._call({"op": "tokenize", "text": text})["n_tokens"])

    def fit_passages(self, texts: list[str], budget: int | None) -> list[str]:
        """`texts` (in rank order) cut to `budget` of the model's tokens in all.

        Long passages lose their tails (prompts.allot_tokens); the lowest-ranked are left out
        when a share would be too small, so the result may be shorter than `texts`.
        """
        if budget is None or not texts:
            return list(texts)
        lengths = [int(n) for n in self._call({"op": "tokenize", "texts": texts})["n_tokens"]]
        fitted = []
        for text, full, keep in zip(texts, lengths, allot_tokens(lengths, budget), strict=True):
            if keep <= 0:
                break
            if keep < full:  # two tokens fewer: room for the " …" that marks the cut
                head = self._call({"op": "truncate", "text": text,
                                   "max_tokens": keep - 2})["text"]
                text = cut_passage(head)
            fitted.append(text)
        return fitted

    def stream(
        self, rendered: Rendered, settings: GenerationSettings, cancel: CancelToken | None = None,
        *, repetition_stop: bool = True,
    ) -> Iterator[str]:
        """Yield text pieces as they are generated; a cancel stops the runner within one token.

        A loop (generation.RepetitionGuard) ends the generation, with finish_reason
        "repetition" in `last_stats`, unless `repetition_stop` is False (to record raw output).

        After the iterator ends, `last_stats` holds the token counts.
        """
        req: dict[str, Any] = {
            "op": "generate", "prompt": rendered.prompt, "stop": rendered.stop,
            "max_tokens": settings.max_tokens, "temperature": settings.temperature,
            "top_p": settings.top_p}
        if not repetition_stop:  # the runner stops loops unless told not to
            req["repetition"] = None
        self._send(req)
        # The stop goes out the moment cancel() is called, not when the next token arrives.
        remove = cancel.on_cancel(self.stop) if cancel is not None else None
        try:
            while True:
                reply = self._read()
                if reply.get("event") == "token":
                    yield str(reply["text"])
                    continue
                if not reply.get("ok"):
                    raise LLMError(str(reply.get("error")))
                self.last_stats = GenerationStats(
                    int(reply["prompt_tokens"]), int(reply["completion_tokens"]),
                    bool(reply["stopped"]), reply.get("finish_reason"),
                    int(reply.get("reused_tokens", 0)))
                return
        finally:
            if remove is not None:
                remove()

    def stop(self) -> None:
        """Ask the runner to stop the current generation (safe from any thread)."""
        self._send({"op": "stop"})

    def close_model(self) -> None:
        """Free the resident model (Llama.close in the runner); the runner stays up."""
        if self._proc is not None and self._proc.poll() is None and self.info is not None:
            self._call({"op": "close"})
        self.info = None

    def close(self) -> None:
        """Stop the runner process; all of the model's memory goes with it."""
        proc, self._proc, self.info = self._proc, None, None
        if proc is None:
            return
        try:
            if proc.poll() is None and proc.stdin is not None:
                proc.stdin.write(json.dumps({"op": "exit"}) + "\n")
                proc.stdin.flush()
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()

    @property
    def runner_pid(self) -> int | None:
        """The runner's process id, while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def __enter__(self) -> LLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
