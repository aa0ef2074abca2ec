"""Server backends (issue 15): the app answering through a real `python -m llama_cpp.server`
serving the packaged SmolLM2 on a free 127.0.0.1 port, beside the local runner.

Two small fakes stand in where a real server cannot be made to misbehave on cue: a socket that
accepts and never answers (the timeout), and an OpenAI-style server that reports fewer prompt
tokens than it was sent (truncation: llama.cpp and vLLM refuse an over-long prompt instead,
while Ollama's OpenAI API silently cuts it to 2,048 tokens). The fake speaks vLLM's dialect
(/tokenize with a count, max_model_len), so that path is exercised too.
"""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import keyring.backend
import pytest
from keyring.errors import PasswordDeleteError

from rag_desktop.cli.main import main
from rag_desktop.config import DEFAULT_MODEL_ID, GenerationSettings
from rag_desktop.evaluation.questions import Question
from rag_desktop.evaluation.results import EvalConfig
from rag_desktop.evaluation.run import run_evaluation
from rag_desktop.library.library import Library
from rag_desktop.llm.backend import ModelClient
from rag_desktop.llm.catalog import load_catalog, server_entry
from rag_desktop.llm.server import ServerLLM, add_server_entry
from rag_desktop.llm.server_api import ServerAuthError, ServerTimeoutError, ServerTimeouts
from rag_desktop.llm.server_api import ServerUnreachableError as Unreachable
from rag_desktop.llm.servers import KEYRING_SERVICE, ServerRecord, add_server, servers_file
from rag_desktop.progress import CancelToken
from rag_desktop.session import Session
from tests.pdfs import make_pdf
from tests.test_offline import SocketGuard

KEY, KEY_ENV = "test-key-5f2c", "RAG_TEST_SERVER_KEY"
PAGES = ["The Zephyr 3000 coffee machine manual. Unplug the machine before cleaning it.",
         "Descaling. Run the descaling program every 90 days with citric acid.",
         "Grinder settings. Turn the grinder dial to 5 for espresso and to 9 for filter coffee."]
QUESTIONS = [("q1", "How often should I run the descaling program?", "every 90 days"),
             ("q2", "Which grinder setting is for espresso?", "5"),
             ("q3", "What should I do before cleaning the machine?", "unplug it")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(log: Path, api_key: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """llama_cpp.server on the packaged SmolLM2, one thread, once /v1/models answers."""
    path = load_catalog().get(DEFAULT_MODEL_ID).path
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--host",
           "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1",
           "--verbose", "False", *(["--api_key", api_key] if api_key else [])]
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {api_key}"}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/v1/models", headers=headers, timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise AssertionError(f"llama_cpp.server did not start:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The module's server; it wants KEY, so every entry goes through a key."""
    proc, url = start_server(tmp_path_factory.mktemp("srv") / "server.log", KEY)
    yield url
    proc.kill()
    proc.wait(30)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lib")
    lib = Library.open(root / "lib")
    lib.add_pdf(make_pdf(root / "zephyr.pdf", PAGES))
    lib.close()
    return root / "lib"


@pytest.fixture
def server_id(server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A server entry (in this test's own user dir), added as a user would."""
    monkeypatch.setenv(KEY_ENV, KEY)
    record = add_server_entry(server, api_key_env=KEY_ENV, context_length=2048)
    return record.id


def session_on(library: Path, model_id: str, max_tokens: int = 12) -> Session:
    session = Session(ModelClient(), load_catalog(), None, Library.open(library),
                      generation=GenerationSettings(max_tokens=max_tokens))
    session.load_model(model_id)
    return session


def test_cli_adds_lists_and_asks_through_the_server(server: str, library: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    assert main(["models", "add-server", f"{server}/v1", "--api-key-env", KEY_ENV,
                 "--name", "team-smol", "--n-ctx", "2048"]) == 0
    assert "added team-smol" in capsys.readouterr().out
    assert KEY not in servers_file().read_text(encoding="utf-8")  # only the variable's name
    assert main(["models"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if "team-smol" in line]
    assert len(listed) == 1 and "server" in listed[0] and server in listed[0]
    address = server.removeprefix("http://")
    assert main(["ask", "How often should I run the descaling program?", "--library",
                 str(library), "--model", "team-smol", "--max-tokens", "8", "-k", "2"]) == 0
    assert f"team-smol [server:{address}]" in capsys.readouterr().out
    assert main(["ask", "Which grinder setting is for espresso?", "--library", str(library),
                 "--model", "team-smol", "--max-tokens", "8", "-k", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"]["backend"] == f"server:{address}" and out["truncated"] is False
    assert out["answer"] and out["timings"]["completion_tokens"] > 0
    assert main(["models", "remove-server", "team-smol"]) == 0
    assert "team-smol" not in load_catalog().ids()


def test_pipeline_streams_with_timings_and_stops(server_id: str, library: Path) -> None:
    session = session_on(library, server_id, max_tokens=16)
    try:
        pipe, pieces = session.pipeline(), []
        answer = pipe.ask(QUESTIONS[0][1], on_token=pieces.append, use_cache=False)
        t = answer.timings
        assert answer.text and "".join(pieces).strip() == answer.text
        assert t.completion_tokens == len(pieces) and t.prompt_tokens > 50  # our own count
        assert 0 < t.retrieval_s < t.total_s and 0 < t.first_token_s <= t.generation_s
        assert answer.model.backend.startswith("server:127.0.0.1:") and not answer.truncated
        assert session.llm.info is not None and session.llm.info.n_ctx == 2048
        assert isinstance(session.llm, ModelClient) and session.llm.runner_pid is None
        # Stop after two pieces of a long answer: the stream closes, the server takes the next.
        cancel, got = CancelToken(), []

        def stop_early(piece: str) -> None:
            got.append(piece)
            if len(got) == 2:
                cancel.cancel()

        pipe.generation = GenerationSettings(max_tokens=200)
        stopped = pipe.ask(QUESTIONS[1][1], on_token=stop_early, cancel=cancel, use_cache=False)
        assert stopped.stopped and len(got) == 2 and stopped.timings.completion_tokens == 2
        again = pipe.ask(QUESTIONS[2][1], use_cache=False)
        assert again.text and not again.stopped
        # One model client: the local model starts the runner, the server's stops it again.
        assert session.load_model(DEFAULT_MODEL_ID).backend == "CPU" and session.llm.runner_pid
        session.load_model(server_id)
        assert session.llm.runner_pid is None and session.llm.info.id == server_id
    finally:
        session.close()


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "results.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_eval_grid_mixes_the_local_runner_and_the_server(server_id: str, library: Path,
                                                         tmp_path: Path) -> None:
    questions = tmp_path / "q.csv"
    with questions.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["id", "question", "reference_answer"], *QUESTIONS[:2]])
    assert main(["eval", "--library", str(library), "--questions", str(questions), "--models",
                 f"{DEFAULT_MODEL_ID},{server_id}", "--out", str(tmp_path / "out"),
                 "--max-tokens", "4", "-k", "1"]) == 0
    rows = _rows(tmp_path / "out")
    assert [(r["model_id"], r["error"]) for r in rows] == [
        (DEFAULT_MODEL_ID, ""), (DEFAULT_MODEL_ID, ""), (server_id, ""), (server_id, "")]
    address = server_id.split("@")[1]
    assert [r["backend"] for r in rows] == ["CPU", "CPU", f"server:{address}",
                                            f"server:{address}"]
    assert {r["truncated"] for r in rows} == {"false"} and all(r["answer"] for r in rows)


class KillingClient(ModelClient):
    """The session's real client; the test kills the server when the answer to `victim_q`
    streams its first piece, the way a crash would come."""

    def __init__(self, proc: subprocess.Popen[bytes], victim_q: str) -> None:
        super().__init__()
        self.proc, self.victim_q = proc, victim_q

    def stream(self, rendered: Any, settings: GenerationSettings,
               cancel: CancelToken | None = None, *, repetition_stop: bool = True
               ) -> Iterator[str]:
        for i, piece in enumerate(super().stream(rendered, settings, cancel)):
            if i == 0 and self.victim_q in json.dumps(rendered.messages):
                self.proc.kill()
                self.proc.wait(30)
            yield piece


def test_a_server_killed_mid_stream_costs_its_rows_not_the_run(library: Path,
                                                               tmp_path: Path) -> None:
    proc, url = start_server(tmp_path / "dying.log")
    try:
        record = add_server_entry(url)
        session = Session(KillingClient(proc, QUESTIONS[1][1]), load_catalog(), None)
        cfg = EvalConfig(library=library, questions=[Question(*q) for q in QUESTIONS],
                         models=[record.id], out_dir=tmp_path / "out", max_tokens=40, k=1)
        rows = run_evaluation(cfg, session=session)
        session.close()
    finally:
        proc.kill()
    assert [r.question_id for r in rows] == ["q1", "q2", "q3"]
    assert [r.question_id for r in rows] == [r["question_id"] for r in _rows(tmp_path / "out")]
    assert rows[0].error == "" and rows[0].answer
    assert rows[1].error.startswith("ServerDiedError") and "closed the connection" in \
        rows[1].error and "crashed or been stopped" in rows[1].error, rows[1].error
    assert rows[2].error.startswith("ServerUnreachableError") and "cannot reach" in rows[2].error


def test_a_wrong_api_key_or_none_says_so(server: str, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(KEY_ENV, "not-the-key")
    entry = server_entry(ServerRecord("s", "s", server, "m", api_key_env=KEY_ENV))
    with pytest.raises(ServerAuthError, match=r"refused the API key \(HTTP 401\)"):
        ServerLLM().load(entry, GenerationSettings())
    assert main(["models", "add-server", server]) == 2
    assert "wants an API key (HTTP 401)" in capsys.readouterr().err
    monkeypatch.delenv(KEY_ENV)
    assert main(["models", "add-server", server, "--api-key-env", KEY_ENV]) == 2
    assert f"{KEY_ENV}, which is not set" in capsys.readouterr().err


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring for the test (keyring.set_keyring): the OS keyring is left alone."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def test_a_typed_key_goes_to_the_keyring_not_to_a_file(server: str, library: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    before, memory = keyring.get_keyring(), MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        monkeypatch.setattr("getpass.getpass", lambda prompt="": KEY)
        assert main(["models", "add-server", server, "--ask-api-key", "--name", "kept"]) == 0
        assert memory.store == {(KEYRING_SERVICE, "kept"): KEY}
        assert KEY not in servers_file().read_text(encoding="utf-8")
        session_on(library, "kept").close()  # the key came back from the keyring: loaded
        assert main(["models", "remove-server", "kept"]) == 0 and memory.store == {}
    finally:
        keyring.set_keyring(before)


def test_a_closed_port_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["models", "add-server", url]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the model server at {url}" in err and "check the address" in err
    with pytest.raises(Unreachable, match="is running"):
        ServerLLM().load(server_entry(ServerRecord("x", "x", url, "m")), GenerationSettings())


def test_a_server_that_never_answers_hits_the_timeout() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)  # the kernel accepts connections; nobody ever reads or answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    llm = ServerLLM(ServerTimeouts(connect=5, call=1, stream=1))
    with silent, pytest.raises(ServerTimeoutError, match=r"sent nothing for 1 s during GET "
                                                         r"/v1/models"):
        llm.load(server_entry(ServerRecord("x", "x", url, "m")), GenerationSettings())


class FakeOpenAI(BaseHTTPRequestHandler):
    """vLLM's dialect, reduced: a word is a token, `usage.prompt_tokens` is what the server
    says it read (`reported`: None for the truth), and `stall` holds the stream back."""

    reported: int | None = None
    stall = False

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _json(self, doc: Any, code: int = 200) -> None:
        self.send_response(code)
        self.end_headers()  # HTTP/1.0: the body ends when the connection closes
        self.wfile.write(json.dumps(doc).encode())

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/v1/models":
            return self._json({"data": [{"id": "fake-7b", "max_model_len": 1024}]})
        self._json({"detail": "Not Found"}, 404)

    def do_POST(self) -> None:  # noqa: N802
        doc = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/tokenize" and "prompt" in doc:
            return self._json({"count": len(doc["prompt"].split()), "max_model_len": 1024})
        if self.path == "/tokenize" and "messages" in doc:
            return self._json({"count": _words(doc["messages"]) + 10})
        if self.path != "/v1/chat/completions":
            return self._json({"detail": "unsupported"}, 400)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if self.stall:
            time.sleep(4)
            return
        read = _words(doc["messages"]) + 10 if self.reported is None else self.reported
        events = [{"choices": [{"delta": {"content": w}}]} for w in ("Every", " 90", " days.")]
        events += [{"choices": [{"delta": {}, "finish_reason": "stop"}]},
                   {"choices": [], "usage": {"prompt_tokens": read, "completion_tokens": 3}}]
        self.wfile.write(b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events))
        self.wfile.write(b"data: [DONE]\n\n")


def _words(messages: list[dict[str, str]]) -> int:
    return sum(len(m["content"].split()) for m in messages)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield url
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("reported", [None, 40])
def test_a_prompt_the_server_read_short_is_flagged_truncated(
        fake: str, library: Path, reported: int | None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(FakeOpenAI, "reported", reported)
    assert main(["models", "add-server", fake]) == 0
    assert main(["ask", QUESTIONS[0][1], "--library", str(library), "--model",
                 f"fake-7b@{fake.removeprefix('http://')}", "-k", "2", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "Every 90 days." in out
    assert ("it truncated the prompt" in out) == (reported is not None)
    session = session_on(library, f"fake-7b@{fake.removeprefix('http://')}")
    try:
        answer = session.pipeline().ask(QUESTIONS[0][1], use_cache=False)
        assert answer.truncated == (reported is not None) and answer.model.n_ctx == 1024
        sent = session.llm.render([{"role": "user", "content": "one two three"}])
        assert sent.n_tokens == 3 + 10  # vLLM renders the chat itself: an exact count
    finally:
        session.close()


def test_a_stalled_stream_hits_the_timeout(fake: str, library: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FakeOpenAI, "stall", True)
    record = add_server_entry(fake)
    llm = ServerLLM(ServerTimeouts(connect=5, call=5, stream=1))
    llm.load(load_catalog().get(record.id), GenerationSettings())
    rendered = llm.render([{"role": "user", "content": "hello"}])
    with pytest.raises(ServerTimeoutError, match="sent nothing for 1 s during the answer"):
        list(llm.stream(rendered, GenerationSettings(max_tokens=4)))
    llm.close()


def test_server_entries_are_listed_without_contacting_them(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    add_server(ServerRecord("far", "far", "http://192.0.2.1:8000", "m"))  # TEST-NET: unrouted
    guard = SocketGuard(monkeypatch)
    assert main(["models", "--json"]) == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert listed["far"]["server"] == "http://192.0.2.1:8000" and listed["far"]["present"]
    assert DEFAULT_MODEL_ID in listed and guard.blocked == []
