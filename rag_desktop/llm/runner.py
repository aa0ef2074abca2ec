"""The model-runner child process: owns llama.cpp, speaks JSON lines over stdin/stdout.

Run as `python -m rag_desktop.llm.runner`. llama_cpp is imported before anything that could import
numpy or torch: a CUDA build crashed when they were loaded first (../shared/gpu/README.md).

The messages, their ids and the opening hello are defined in protocol.py, which the client
imports too. Requests are answered in order, each reply carrying its request's id; a request
that cannot be parsed gets an error reply. A stop is acted on as soon as it is read.
"""

from __future__ import annotations

import ctypes
import os
import queue
import re
import signal
import sys
import threading
from typing import Any, TextIO

import llama_cpp  # noqa: I001  (must come first; see the module docstring)

from rag_desktop.llm import protocol
from rag_desktop.llm.decoder import Decoder, GenerationResult, RepetitionRule
from rag_desktop.llm.prompts import (
    COMPLETION_STOPS,
    FAMILY_STOPS,
    fold_system,
    render_completion,
    render_family,
)
from rag_desktop.llm.protocol import ProtocolError
from rag_desktop.llm.public_decoder import PublicDecoder, make_decoder

_OFFLOAD_RE = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")


class _Log:
    """Collects llama.cpp's log so that the layer count actually offloaded can be reported."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.last_offload: tuple[int, int] | None = None
        self.verbose = bool(os.environ.get("RAG_DESKTOP_LLAMA_LOG"))

        @llama_cpp.llama_log_callback
        def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            line = text.decode("utf-8", errors="replace")
            self.text.append(line)
            del self.text[:-400]
            # A load logs ~1,600 pieces: keep the offload count as it passes, not at the end.
            m = _OFFLOAD_RE.search(line)
            if m:
                self.last_offload = int(m.group(1)), int(m.group(2))
            if self.verbose or level == 3:  # errors always reach stderr, which the parent keeps
                sys.stderr.write(line)

        self._callback = callback  # keep a reference: ctypes must not free it
        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))

    def offloaded(self) -> tuple[int, int] | None:
        """(offloaded, total) layers from the last load's log, if it said."""
        return self.last_offload


def backend_name() -> str:
    """The llama.cpp build's compute backend: CPU, CUDA, Metal, Vulkan, ROCm, SYCL or GPU."""
    if not llama_cpp.llama_supports_gpu_offload():
        return "CPU"
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    for name in ("CUDA", "Metal", "Vulkan", "ROCm", "SYCL"):
        if name.upper() in info.upper():
            return name
    return "GPU"


class Runner:
    """One resident model at most; every op is a method named after it."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.llm: llama_cpp.Llama | None = None
        self.decoder: Decoder | PublicDecoder | None = None
        self.family = "chatml"
        self.prompt_format = "chat"
        self.template: Any = None
        self.stop_ids: set[int] = set()  # generations asked to stop (by the reader thread)
        self.current_id: int | None = None  # the request being served
        self.log = _Log()
        self._tokens: tuple[str, list[int]] | None = None

    def send(self, obj: dict[str, Any]) -> None:
        """Write one message to the parent."""
        self.out.write(protocol.encode(obj))
        self.out.flush()

    def op_load(self, req: dict[str, Any]) -> dict[str, Any]:
        self.op_close({})
        self.log.last_offload = None
        n_gpu = int(req.get("n_gpu_layers", 0))
        if n_gpu != 0 and not llama_cpp.llama_supports_gpu_offload():
            n_gpu = 0
        self.llm = llama_cpp.Llama(
            model_path=req["path"], n_ctx=int(req["n_ctx"]), n_batch=int(req["n_batch"]),
            n_ubatch=int(req["n_batch"]), n_threads=int(req["n_threads"]),
            n_threads_batch=int(req["n_threads"]), n_gpu_layers=n_gpu, verbose=True,
        )
        self.decoder = make_decoder(self.llm, req.get("decoder"))
        self.family = req.get("family") or "chatml"
        self.prompt_format = req.get("prompt_format") or "chat"
        self.template = self._jinja(req.get("chat_template"))
        n_layers = int(self.llm.metadata.get(f"{self.llm.metadata.get('general.architecture')}"
                                             ".block_count", 0) or 0)
        seen = self.log.offloaded()  # llama.cpp counts the output layer too: "23/23"
        return {"ok": True, "n_ctx": self.llm.n_ctx(), "n_layers": seen[1] if seen else n_layers,
                "n_gpu_layers": seen[0] if seen else 0,
                "backend": backend_name() if n_gpu else "CPU",
                "decoder": self.decoder.name}

    def _jinja(self, template: str | None) -> Any:
        if not template or self.llm is None:
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self.llm
        eos = llm.detokenize([llm.token_eos()], special=True).decode(errors="ignore")
        bos = llm.detokenize([llm.token_bos()], special=True).decode(errors="ignore")
        return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)

    def _model(self) -> llama_cpp.Llama:
        if self.llm is None:
            raise RuntimeError("no model is loaded")
        return self.llm

    def op_render(self, req: dict[str, Any]) -> dict[str, Any]:
        """Render messages in the model's prompt format, or take a finished `text` as it is."""
        self._model()
        if "text" in req:
            prompt, stops = req["text"], self._stops()
        else:
            prompt, stops = self._render(req["messages"])
        tokens = self._tokenize(prompt)
        self._tokens = (prompt, tokens)  # generate reuses these: no second tokenization
        stops = [s for s in dict.fromkeys(stops) if s]  # an empty stop string ends at once
        return {"ok": True, "prompt": prompt, "n_tokens": len(tokens), "stop": stops}

    def op_prefill(self, req: dict[str, Any]) -> dict[str, Any]:
        """Evaluate the part of the prompt that every question shares (the system prompt).

        Two renderings that differ only in the question give that part as their common token
        prefix; the next generate re-uses it from the KV cache instead of evaluating it again.
        """
        self._model()
        assert self.decoder is not None
        first, second = (self._tokenize(self._render(req["messages"][:-1] + [
            {"role": "user", "content": text}])[0]) for text in ("a", "b"))
        n = next((i for i, (x, y) in enumerate(zip(first, second, strict=False)) if x != y),
                 min(len(first), len(second)))
        if n > 1:
            self.decoder.prefill(first[:n])
        return {"ok": True, "n_tokens": n}

    def op_generate(self, req: dict[str, Any]) -> dict[str, Any]:
        llm, prompt = self._model(), req["prompt"]
        if self._tokens and self._tokens[0] == prompt:
            tokens = self._tokens[1]
        else:
            tokens = self._tokenize(prompt)
        gen_id = int(req["id"])
        # Stops that came for earlier generations (after they had ended) must not end this one.
        self.stop_ids.difference_update([i for i in list(self.stop_ids) if i < gen_id])
        decoder = self.decoder
        assert decoder is not None and decoder.llm is llm
        result = GenerationResult()
        seed = req.get("seed")
        # On unless the request turns it off ("repetition": null), as benchmarks that
        # record raw generations do; a dict overrides the rule's numbers.
        rule = req.get("repetition", {})
        repetition = RepetitionRule(**rule) if rule is not None else None
        for text in decoder.generate(
            tokens, max_tokens=int(req["max_tokens"]), temperature=float(req["temperature"]),
            top_p=float(req["top_p"]), stop=list(req.get("stop") or []),
            should_stop=lambda: gen_id in self.stop_ids, seed=None if seed is None else int(seed),
            result=result, repetition=repetition,
        ):
            self.send(protocol.token(gen_id, text))
        self.stop_ids.discard(gen_id)
        return protocol.done(gen_id, prompt_tokens=result.prompt_tokens,
                             completion_tokens=result.completion_tokens, stopped=result.stopped,
                             finish_reason=result.finish_reason,
                             reused_tokens=result.reused_tokens)

    def _stops(self) -> list[str]:
        """The stop strings of the model's family and prompt format (before its template's)."""
        stops = list(FAMILY_STOPS.get(self.family, []))
        return stops + COMPLETION_STOPS if self.prompt_format == "completion" else stops

    def _render(self, messages: list[dict[str, str]]) -> tuple[str, list[str]]:
        """(prompt, stop strings) in the model's prompt format: plain text for "completion",
        else the GGUF's chat template, or the family's when it has none."""
        stops = self._stops()
        if self.prompt_format == "completion":
            return render_completion(messages), stops
        if self.template is not None:
            result = apply_template(self.template, messages)
            return result.prompt, stops + _as_list(result.stop)
        return render_family(self.family, messages), stops

    def _tokenize(self, prompt: str) -> list[int]:
        """Tokens of a rendered prompt; a template that writes BOS itself must not get two."""
        llm = self._model()
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if len(tokens) > 1 and tokens[0] == tokens[1] == llm.token_bos():
            tokens = tokens[1:]
        return tokens

    def op_tokenize(self, req: dict[str, Any]) -> dict[str, Any]:
        """Token counts of `text`, or of each of `texts` (passages are counted as plain text)."""
        llm = self._model()
        if "texts" in req:
            return {"ok": True, "n_tokens": [
                len(llm.tokenize(t.encode("utf-8"), add_bos=False, special=False))
                for t in req["texts"]]}
        tokens = llm.tokenize(req["text"].encode("utf-8"), add_bos=False, special=True)
        return {"ok": True, "n_tokens": len(tokens)}

    def op_truncate(self, req: dict[str, Any]) -> dict[str, Any]:
        """The text of the first `max_tokens` tokens of `text`."""
        llm = self._model()
        tokens = llm.tokenize(req["text"].encode("utf-8"), add_bos=False, special=False)
        head = llm.detokenize(tokens[: max(0, int(req["max_tokens"]))])
        return {"ok": True, "text": head.decode("utf-8", errors="ignore")}

    def op_close(self, req: dict[str, Any]) -> dict[str, Any]:
        if self.llm is not None:
            self.llm.close()
            self.llm = None
        self.decoder = None
        self._tokens = None
        return {"ok": True}


def apply_template(template: Any, messages: list[dict[str, str]]) -> Any:
    """Render with a GGUF's Jinja template; one that refuses a system turn gets it folded in."""
    try:
        return template(messages=messages)
    except Exception:  # jinja's raise_exception(): the template's own words, re-raised below
        if not any(m["role"] == "system" for m in messages):
            raise
        return template(messages=fold_system(messages))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _reader(inbox: queue.Queue[dict[str, Any] | None], runner: Runner) -> None:
    """Read requests; a stop is acted on at once, so it lands within one token. A line that
    is not a valid request goes on as an error for the main loop to answer, in turn."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = protocol.parse_request(line)
        except ProtocolError as exc:
            inbox.put({"op": "invalid", "id": exc.id, "error": f"bad request: {exc}"})
            continue
        if req["op"] == "stop":
            target = req.get("target", runner.current_id)
            if isinstance(target, int):
                runner.stop_ids.add(target)
        else:
            inbox.put(req)
    inbox.put(None)  # the parent went away


def serve(runner: Runner, req: dict[str, Any]) -> dict[str, Any]:
    """The reply to one request, with its id; a failure is reported, not raised."""
    if req["op"] == "invalid":
        return protocol.error(req["id"], req["error"])
    runner.current_id = req["id"]
    try:
        reply: dict[str, Any] = getattr(runner, f"op_{req['op']}")(req)
    except Exception as exc:  # report, don't die: the parent decides what to do
        return protocol.error(req["id"], f"{type(exc).__name__}: {exc}")
    finally:
        runner.current_id = None
    return {**reply, "id": req["id"]}


def main() -> None:
    """Serve requests until exit or end of input."""
    # Ctrl-C in a terminal reaches the whole process group: the parent decides what it means
    # (a stop, or closing), and the runner exits when the parent's pipe closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol owns the real stdout; anything else printed to fd 1 (llama.cpp, libraries)
    # goes to stderr instead, so that it cannot corrupt a reply.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    runner = Runner(out)
    inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
    threading.Thread(target=_reader, args=(inbox, runner), daemon=True).start()
    gpu = bool(llama_cpp.llama_supports_gpu_offload())
    runner.send(protocol.hello(pid=os.getpid(), gpu_offload=gpu, backend=backend_name()))
    while (req := inbox.get()) is not None and req["op"] != "exit":
        runner.send(serve(runner, req))
    runner.op_close({})


if __name__ == "__main__":
    main()
