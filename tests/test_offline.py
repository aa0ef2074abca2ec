"""Offline guarantee (issue #6, part 4): ingest, ask and eval never open a network connection.

This process is guarded by patching socket.connect/connect_ex and getaddrinfo (loopback and
AF_UNIX only); the model-runner child is guarded by the sitecustomize.py of tests/guard.py,
put on its PYTHONPATH. `models pull` against a local HTTP server is in test_download.py.
"""

from __future__ import annotations

import csv
import errno
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag_desktop.config import DEFAULT_MODEL_ID, OFFLINE_VARS, offline_env, set_offline
from tests import badinput as bad

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SocketGuard:
    """Refuses and records any connection or name lookup that is not loopback or AF_UNIX."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.blocked: list[Any] = []
        connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
        getaddrinfo = socket.getaddrinfo

        def check(sock: socket.socket, address: Any) -> None:
            if sock.family == getattr(socket, "AF_UNIX", None):
                return
            host = address[0] if isinstance(address, tuple) else address
            if host not in LOOPBACK:
                self.blocked.append(address)
                raise OSError(errno.ENETUNREACH, "network blocked by the test guard")

        def guarded_connect(sock: socket.socket, address: Any) -> None:
            check(sock, address)
            connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
            check(sock, address)
            return connect_ex(sock, address)

        def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host is not None and host not in LOOPBACK:
                self.blocked.append(host)
                raise socket.gaierror(socket.EAI_NONAME, "name lookup blocked by the test guard")
            return getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", guarded_connect)
        monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
        monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


@pytest.fixture
def socket_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[SocketGuard]:
    yield SocketGuard(monkeypatch)


def _loopback_echo() -> tuple[socket.socket, int]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    return server, server.getsockname()[1]


def test_the_guards_block_the_network_and_allow_loopback(socket_guard: SocketGuard,
                                                         tmp_path: Path) -> None:
    server, port = _loopback_echo()
    with server, socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    with pytest.raises(OSError), socket.socket() as s:
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed
    with pytest.raises(OSError):
        socket.create_connection(("huggingface.co", 443), timeout=5)
    assert socket_guard.blocked == [("192.0.2.1", 80), "huggingface.co"]
    # The child-process guard does the same, and records it.
    guard = bad.make_guard(tmp_path / "guard")
    code = ("import socket\ntry:\n socket.create_connection(('huggingface.co', 443), 5)\n"
            "except OSError as e:\n print('refused', e)\n")
    r = subprocess.run([sys.executable, "-c", code], env=guard.env(), capture_output=True,
                       text=True, timeout=120)
    assert r.stdout.startswith("refused") and [b["blocked"] for b in guard.blocked()] == [
        "'huggingface.co'"]


def test_ingest_ask_eval_offline_and_the_app_sets_hf_hub_offline(
        socket_guard: SocketGuard, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import os

    from rag_desktop.cli.main import main

    guard = bad.make_guard(tmp_path / "guard")
    for name, value in guard.env().items():
        if name.startswith(("PYTHONPATH", "RAG_TEST_")):
            monkeypatch.setenv(name, value)  # so the runner child is guarded too
    for var in OFFLINE_VARS:
        monkeypatch.delenv(var, raising=False)
    lib = tmp_path / "lib"
    pdf = bad.good_pdf(tmp_path / "blender.pdf")
    assert main(["ingest", str(pdf), "--library", str(lib)]) == 0
    assert all(os.environ[var] == "1" for var in OFFLINE_VARS)  # the app set them itself
    assert main(["ask", "How long to pulse?", "--library", str(lib), "--max-tokens", "2",
                 "-k", "1", "--no-cache", "--json"]) == 0
    questions = tmp_path / "q.csv"
    with questions.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["id", "question", "reference_answer"],
                                 ["q1", "How long to pulse?", "three seconds"]])
    assert main(["eval", "--library", str(lib), "--questions", str(questions), "--models",
                 DEFAULT_MODEL_ID, "--out", str(tmp_path / "out"), "--max-tokens", "2",
                 "-k", "1"]) == 0
    capsys.readouterr()
    assert socket_guard.blocked == []
    assert guard.blocked() == []
    runners = [p for p in guard.started() if "rag_desktop.llm.runner" in p["cmd"]]
    assert len(runners) == 2  # one for ask, one for eval, both under the guard
    assert all(p["HF_HUB_OFFLINE"] == "1" for p in runners)


def test_one_helper_sets_the_offline_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import huggingface_hub.constants

    for var in OFFLINE_VARS:
        monkeypatch.delenv(var, raising=False)
    child = offline_env({"PATH": "/bin"})
    assert child == {"PATH": "/bin", **dict.fromkeys(OFFLINE_VARS, "1")}
    assert not any(var in os.environ for var in OFFLINE_VARS)  # a copy: this process unchanged
    set_offline(False)
    assert not huggingface_hub.constants.HF_HUB_OFFLINE
    set_offline(True)  # also for a hub imported before (it reads the variable once)
    assert huggingface_hub.constants.HF_HUB_OFFLINE
    assert all(os.environ[var] == "1" for var in OFFLINE_VARS)
