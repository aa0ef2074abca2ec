"""The runner protocol: the message module itself, then the real runner with the packaged
SmolLM2 when things go wrong (garbage, a killed or stopped runner, an abandoned stream)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rag_desktop.config import DEFAULT_MODEL_ID, GenerationSettings
from rag_desktop.llm import protocol
from rag_desktop.llm.catalog import ModelEntry, load_catalog
from rag_desktop.llm.client import LLM, LLMError, Timeouts
from rag_desktop.llm.prompts import build_messages
from rag_desktop.llm.protocol import ProtocolError
from rag_desktop.progress import CancelToken

SETTINGS = GenerationSettings(max_tokens=48, n_ctx_cap=2048, temperature=0.0)
PASSAGE = ("usage.pdf p. 3", "lilypond-book processes documents that contain music snippets.")


def _smollm() -> ModelEntry:
    return load_catalog().get(DEFAULT_MODEL_ID)


def _messages(question: str) -> list[dict[str, str]]:
    return build_messages(question, [PASSAGE])


@contextlib.contextmanager
def _client(**kwargs: Any) -> Iterator[LLM]:
    client = LLM(**kwargs)
    try:
        client.load(_smollm(), SETTINGS)
        yield client
    finally:
        client.close()


# -- the protocol module ---------------------------------------------------------------------
def test_messages_round_trip_through_one_line() -> None:
    req = protocol.request("render", 3, messages=[{"role": "user", "content": "a\nb"}])
    line = protocol.encode(req)
    assert line.endswith("\n") and line.count("\n") == 1
    assert protocol.parse_request(line) == req
    for reply in (protocol.ok(3, n_tokens=5), protocol.error(None, "bad"),
                  protocol.token(4, "x"), protocol.done(4, prompt_tokens=1)):
        assert protocol.parse_reply(protocol.encode(reply)) == reply
    hello = protocol.parse_reply(protocol.encode(protocol.hello(backend="CPU")))
    protocol.check_hello(hello)
    assert hello["version"] == protocol.PROTOCOL_VERSION


@pytest.mark.parametrize(("line", "message", "id"), [
    ("garbage", "not JSON", None),
    ("[1, 2]", "not a JSON object", None),
    ('{"op": "render", "text": "x"}', "without an integer id", None),
    ('{"id": true, "op": "close"}', "without an integer id", None),
    ('{"id": 5, "op": "frobnicate"}', "unknown op 'frobnicate'", 5),
    ('{"id": 6, "op": "generate", "prompt": "p"}', "needs max_tokens, temperature, top_p", 6),
    ('{"id": 7, "op": "render"}', "needs messages or text", 7),
])
def test_bad_requests_are_refused_with_the_id_when_readable(line: str, message: str,
                                                           id: int | None) -> None:
    with pytest.raises(ProtocolError, match=message) as caught:
        protocol.parse_request(line)
    assert caught.value.id == id


def test_replies_need_an_id_and_the_hello_its_version() -> None:
    with pytest.raises(ProtocolError, match="without an id"):
        protocol.parse_reply('{"ok": true}')
    with pytest.raises(ProtocolError, match="did not start with a hello"):
        protocol.check_hello({"id": 1, "ok": True})
    with pytest.raises(ProtocolError, match="protocol version 0, this app speaks"):
        protocol.check_hello({**protocol.hello(), "version": 0})


# -- a runner that is not ours -----------------------------------------------------------------
def _fake_python(tmp_path: Path, script: str) -> str:
    """An executable that the client starts instead of Python (it ignores `-m module`)."""
    path = tmp_path / "fake-python"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_runner_with_another_protocol_version_is_refused(tmp_path: Path) -> None:
    python = _fake_python(tmp_path, """echo '{"ok": true, "event": "hello", "version": 999}'
exec sleep 60""")
    client = LLM(python=python)
    with pytest.raises(LLMError, match="protocol version 999, this app speaks"):
        client.count_tokens("hello")
    assert client.runner_pid is None  # the stranger was stopped


def test_our_runner_is_refused_by_a_client_of_another_version(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "PROTOCOL_VERSION", protocol.PROTOCOL_VERSION + 1)
    with LLM() as client, pytest.raises(LLMError, match="reinstall the app"):
        client.load(_smollm(), SETTINGS)


def test_a_runner_that_never_says_hello_times_out(tmp_path: Path) -> None:
    client = LLM(python=_fake_python(tmp_path, "exec sleep 60"),
                 timeouts=Timeouts(start=0.5))
    with pytest.raises(LLMError, match="did not answer 'hello' within 0.5 s"):
        client.count_tokens("hello")
    assert client.runner_pid is None


def test_a_runner_that_closes_its_output_but_lingers_is_reported_and_ended(
        tmp_path: Path) -> None:
    client = LLM(python=_fake_python(tmp_path, "exec 1>&-\nexec sleep 60"),
                 timeouts=Timeouts(exit=0.2))
    with pytest.raises(LLMError, match="stopped unexpectedly"):  # never TimeoutExpired
        client.count_tokens("hello")
    assert client.runner_pid is None


# -- the real runner ---------------------------------------------------------------------------
def test_the_runner_answers_garbage_with_errors_and_keeps_serving() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "rag_desktop.llm.runner"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1)
    assert proc.stdin is not None and proc.stdout is not None

    def ask(line: str) -> dict[str, Any]:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return protocol.parse_reply(proc.stdout.readline())

    try:
        protocol.check_hello(protocol.parse_reply(proc.stdout.readline()))
        for line, id, words in (("this is not json", None, "not JSON"),
                                ('{"id": 5, "op": "frobnicate"}', 5, "unknown op"),
                                ('{"id": 6, "op": "truncate"}', 6, "needs text"),
                                ('{"op": "close"}', None, "without an integer id"),
                                ('{"id": 7, "op": "tokenize", "text": "x"}', 7,
                                 "no model is loaded")):
            reply = ask(line)
            assert (reply["id"], reply["ok"]) == (id, False) and words in reply["error"], reply
        load = protocol.request("load", 8, path=str(_smollm().path), n_ctx=512, n_batch=64,
                                n_threads=1)
        reply = ask(protocol.encode(load).strip())
        assert (reply["id"], reply["ok"], reply["decoder"]) == (8, True, "fast")
        reply = ask('{"id": 9, "op": "tokenize", "text": "hello world"}')
        assert (reply["id"], reply["ok"]) == (9, True) and reply["n_tokens"] >= 2
    finally:
        proc.kill()
        proc.wait()


def test_garbage_on_the_clients_pipe_does_not_disturb_the_next_answer() -> None:
    with _client() as client:
        expected = client.count_tokens("lilypond-book processes documents")
        proc = client._chan.proc  # the pipe itself, to write what no client method would
        assert proc is not None and proc.stdin is not None
        proc.stdin.write('garbage\n{"id": 99999, "op": "nothing"}\n')
        proc.stdin.flush()
        assert client.count_tokens("lilypond-book processes documents") == expected
        assert client.info is not None


def test_a_killed_runner_unloads_the_model_and_the_next_ask_reloads_it() -> None:
    with _client() as client:
        rendered = client.render(_messages("Tell me about music."))
        pid = client.runner_pid
        assert pid is not None and client.loaded
        with pytest.raises(LLMError, match="stopped unexpectedly"):
            for i, _ in enumerate(client.stream(rendered, replace(SETTINGS, max_tokens=200))):
                if i == 1:
                    os.kill(pid, signal.SIGKILL)
        assert client.info is None and not client.loaded and not client.alive
        # The next ask starts a runner, loads the same model again, and answers.
        again = client.render(_messages("What does lilypond-book do?"))
        assert client.runner_pid not in (None, pid)
        assert client.info is not None and client.info.id == DEFAULT_MODEL_ID
        assert "".join(client.stream(again, SETTINGS)).strip()
        assert client.last_stats.prompt_tokens == again.n_tokens


def test_a_death_is_seen_without_a_call_and_a_failed_reload_says_not_loaded(
        tmp_path: Path) -> None:
    src = _smollm().path
    assert src is not None
    copy = tmp_path / "copy.gguf"
    shutil.copy(src, copy)
    entry = replace(_smollm(), id="copy", path=copy, file=copy.name)
    with LLM() as client:
        client.load(entry, SETTINGS)
        pid = client.runner_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        for _ in range(400):  # SIGKILL is not instant; the client polls the process
            if not client.alive:
                break
            time.sleep(0.05)
        assert client.info is None  # noticed by polling, before any call
        copy.unlink()
        with pytest.raises(LLMError, match="the model is not loaded.*copy"):
            client.render(_messages("Anything?"))
        assert client.info is None
        with pytest.raises(LLMError, match="no model is loaded"):  # no endless reloading
            client.render(_messages("Anything?"))


def _reference(client: LLM, question: str) -> tuple[str, int]:
    rendered = client.render(_messages(question))
    return "".join(client.stream(rendered, replace(SETTINGS, max_tokens=16))), rendered.n_tokens


def test_an_abandoned_stream_leaves_nothing_for_the_next_answer() -> None:
    long = replace(SETTINGS, max_tokens=200)
    with _client() as client:
        expected, n_tokens = _reference(client, "What does lilypond-book do?")
        pid = client.runner_pid
        other = client.render(_messages("Write a long story about music."))
        for i, _ in enumerate(client.stream(other, long)):  # the caller breaks off
            if i == 2:
                break
        assert _reference(client, "What does lilypond-book do?") == (expected, n_tokens)

        class Boom(Exception):
            pass

        with pytest.raises(Boom):  # the caller raises mid-stream
            for i, _ in enumerate(client.stream(other, long)):
                if i == 2:
                    raise Boom
        assert _reference(client, "What does lilypond-book do?") == (expected, n_tokens)
        assert client.last_stats.prompt_tokens == n_tokens and not client.last_stats.stopped

        kept = client.stream(other, long)  # held, half read, never closed
        next(kept), next(kept)
        assert _reference(client, "What does lilypond-book do?") == (expected, n_tokens)
        kept.close()
        assert client.runner_pid == pid and client.info is not None  # drained, not restarted


def test_a_stopped_runner_hits_the_timeout_and_is_replaced() -> None:
    with _client() as client:
        normal, pid = client.timeouts, client.runner_pid
        assert pid is not None
        client.timeouts = replace(normal, call=1.0)  # only while the runner is stopped
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(LLMError, match="did not answer 'tokenize' within 1 s"):
                client.count_tokens("hello")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        client.timeouts = normal
        assert client.info is None and client.runner_pid is None
        rendered = client.render(_messages("What does lilypond-book do?"))  # reloaded
        pid = client.runner_pid
        assert pid is not None and client.info is not None
        client.timeouts = replace(normal, token=3.0)
        try:
            with pytest.raises(LLMError, match="did not answer 'generate' within 3 s"):
                for i, _ in enumerate(client.stream(rendered, replace(SETTINGS, max_tokens=200))):
                    if i == 1:
                        os.kill(pid, signal.SIGSTOP)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        client.timeouts = normal
        assert client.info is None
        assert client.count_tokens("hello") > 0 and client.info is not None


# -- both decode loops, through the runner -------------------------------------------------------
@pytest.mark.parametrize("decoder", ["fast", "public"])
def test_both_decoders_stream_stop_and_count(decoder: str) -> None:
    with _client(decoder=decoder) as client:
        assert client.info is not None and client.info.decoder == decoder
        rendered = client.render(_messages("What does lilypond-book do?"))
        text = "".join(client.stream(rendered, replace(SETTINGS, max_tokens=12)))
        stats = client.last_stats
        assert text.strip() and stats.prompt_tokens == rendered.n_tokens
        assert (stats.completion_tokens, stats.finish_reason) == (12, "length")
        word = text.split()[2]  # a stop string taken from the answer itself
        cut = replace(rendered, stop=[*rendered.stop, word])
        assert "".join(client.stream(cut, replace(SETTINGS, max_tokens=12))) == (
            text[: text.index(word)])
        assert client.last_stats.finish_reason == "stop"
        assert 0 < client.last_stats.completion_tokens < 12
        cancel, seen = CancelToken(), 0
        for _ in client.stream(rendered, replace(SETTINGS, max_tokens=200), cancel):
            seen += 1
            if seen == 3:
                cancel.cancel()
        assert client.last_stats.stopped and client.last_stats.completion_tokens <= seen + 1
        short = client.render([{"role": "user", "content": "Say only: yes"}])
        "".join(client.stream(short, replace(SETTINGS, max_tokens=200)))
        stats = client.last_stats  # ended by the model itself: its end token is not counted
        assert stats.finish_reason == "stop" and 0 < stats.completion_tokens < 200


def test_the_environment_forces_the_public_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_DESKTOP_DECODER", "public")
    with _client() as client:
        assert client.info is not None and client.info.decoder == "public"
