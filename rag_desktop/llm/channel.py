"""The pipe to the model-runner child process: start, hello, requests with ids, timed replies.

A reader thread turns the runner's stdout into a queue of parsed messages, so that every wait
has a timeout; a reply whose id is not the one awaited (the rest of an abandoned stream, an
answer to garbage) is logged and dropped rather than taken for the answer. A runner that does
not answer in time is killed: its pipe could still deliver the late answer to the next call.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import os
import queue
import subprocess
import threading
from dataclasses import dataclass
from typing import IO, Any

from rag_desktop.llm import protocol
from rag_desktop.llm.protocol import ProtocolError

log = logging.getLogger(__name__)


class LLMError(Exception):
    """The model could not be loaded or run; the message names the file and the reason."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for each kind of answer; generous, for a 7B model on a slow laptop."""

    start: float = 180.0  # the hello: importing llama_cpp, initialising CUDA
    load: float = 900.0  # reading gigabytes of weights from a slow disk
    prefill: float = 600.0  # the system prompt, on a slow CPU
    call: float = 120.0  # render, tokenize, truncate, close: no model evaluation
    first_token: float = 900.0  # the prompt's evaluation: thousands of tokens on a CPU
    token: float = 300.0  # one more token
    drain: float = 120.0  # the rest of an abandoned stream, after a stop
    exit: float = 10.0  # a clean exit (or a dying runner's last breath) before it is killed

    def for_op(self, op: str) -> float:
        """The wait for the (first) reply to `op`."""
        return float({"load": self.load, "prefill": self.prefill,
                      "generate": self.first_token}.get(op, self.call))


class Channel:
    """One runner process at a time, spoken to in protocol messages."""

    def __init__(self, command: list[str], timeouts: Timeouts) -> None:
        self.command = command
        self.timeouts = timeouts
        self.proc: subprocess.Popen[str] | None = None
        self.stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._write_lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def alive(self) -> bool:
        """Whether the runner process is running."""
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The runner's process id, while it runs."""
        return self.proc.pid if self.proc is not None and self.alive else None

    def start(self) -> dict[str, Any]:
        """Start a runner and return its hello; LLMError when it is not one of ours."""
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        proc = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1, env=env,
        )
        # A fresh queue per process: lines (or the end) of an old one can never reach it.
        self.proc, self._inbox = proc, queue.Queue()
        assert proc.stdout is not None and proc.stderr is not None
        threading.Thread(target=self._keep_stderr, args=(proc.stderr,), daemon=True).start()
        threading.Thread(target=_read_replies, args=(proc.stdout, self._inbox),
                         daemon=True).start()
        hello = self._next("hello", self.timeouts.start)
        try:
            protocol.check_hello(hello)
        except ProtocolError as exc:
            self.kill()
            raise LLMError(f"the model runner could not be used: {exc}") from exc
        return hello

    def _keep_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            self.stderr.append(line.rstrip())

    def send(self, op: str, **fields: Any) -> int:
        """Send a request; returns its id. LLMError when the runner is gone."""
        id = next(self._ids)
        self._write(protocol.request(op, id, **fields))
        return id

    def send_stop(self, target: int) -> None:
        """Ask the runner to end generation `target` (safe from any thread; never raises)."""
        if self.alive:
            # A runner that died meanwhile is reported by the stream's reader, not here.
            with contextlib.suppress(LLMError):
                self._write(protocol.request("stop", next(self._ids), target=target))

    def _write(self, message: dict[str, Any]) -> None:
        proc = self.proc
        if proc is None or proc.stdin is None:
            raise LLMError("the model runner is not running")
        with self._write_lock:
            try:
                proc.stdin.write(protocol.encode(message))
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as exc:  # ValueError: closed file
                raise self.crashed() from exc

    def reply(self, id: int, op: str, timeout: float) -> dict[str, Any]:
        """The next message for request `id`: a token line, a done line, or a reply."""
        while True:
            message = self._next(op, timeout)
            if message.get("id") == id:
                return message
            if message.get("id") is None and message.get("ok") is False:
                log.warning("the model runner refused a request: %s", message.get("error"))
            else:  # the tail of a stream that was given up on: never an answer to this one
                log.debug("dropped a reply to request %s while waiting for %s", message.get("id"),
                          id)

    def _next(self, op: str, timeout: float) -> dict[str, Any]:
        try:
            message = self._inbox.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise LLMError(f"the model runner did not answer '{op}' within {timeout:g} s; "
                           "it was stopped, and the model will be loaded again") from None
        if message is None:
            raise self.crashed()
        return message

    def crashed(self) -> LLMError:
        """The error for a runner that went away; it is reaped (killed if it lingers)."""
        proc, self.proc = self.proc, None
        code: int | None = None
        if proc is not None:
            try:
                code = proc.wait(timeout=self.timeouts.exit)
            except subprocess.TimeoutExpired:  # its stdout closed, yet it runs: end it
                proc.kill()
                code = proc.wait()
        tail = " | ".join(list(self.stderr)[-3:])
        return LLMError(f"the model runner stopped unexpectedly (exit {code}): {tail}")

    def kill(self) -> None:
        """End the runner now (a stopped process too)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        """Ask the runner to exit; kill it when it does not."""
        proc = self.proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                self._write(protocol.request("exit", next(self._ids)))
            proc.wait(timeout=self.timeouts.exit)
            self.proc = None
        except (LLMError, subprocess.TimeoutExpired):
            self.kill()


def _read_replies(stream: IO[str], inbox: queue.Queue[dict[str, Any] | None]) -> None:
    """Parse the runner's stdout into `inbox`; None marks its end."""
    try:
        for line in stream:
            try:
                inbox.put(protocol.parse_reply(line))
            except ProtocolError as exc:  # nothing else writes to this pipe; say so, go on
                log.warning("the model runner wrote a line that is not a reply: %s", exc)
    except (OSError, ValueError):
        pass  # the pipe was closed under us
    finally:
        inbox.put(None)
