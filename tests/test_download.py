"""`models pull` against a local HTTP server on 127.0.0.1 (HF_ENDPOINT): resume and checksum."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from rag_desktop import config
from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.download import DownloadError, pull

PAYLOAD = os.urandom(3 * 2**20 + 123)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at any path; honours Range; can cut the first response short."""

    cut_after: int | None = None
    requests: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        rng = self.headers.get("Range")
        type(self).requests.append(rng)
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        body = PAYLOAD[start:]
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = type(self).cut_after
        if cut is not None:
            type(self).cut_after = None
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(2)  # the network drops mid-download
            return
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Handler]]:
    _Handler.requests, _Handler.cut_after = [], None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{httpd.server_address[1]}")
    yield _Handler
    httpd.shutdown()


def _entry(sha: str | None) -> object:
    return replace(load_catalog().get("tinyllama-1.1b-chat-q5_k_m"), sha256=sha)


def test_pull_verifies_and_installs_into_the_user_models_dir(server: type[_Handler]) -> None:
    path = pull(_entry(hashlib.sha256(PAYLOAD).hexdigest()))  # type: ignore[arg-type]
    assert path == config.user_models_dir() / "tinyllama-1.1b-chat-v1.0.Q5_K_M.gguf"
    assert path.read_bytes() == PAYLOAD
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # offline again afterwards
    assert load_catalog().get("tinyllama-1.1b-chat-q5_k_m").present


def test_wrong_checksum_is_rejected_and_removed(server: type[_Handler]) -> None:
    with pytest.raises(DownloadError, match="checksum mismatch"):
        pull(_entry("0" * 64))  # type: ignore[arg-type]
    assert not any(config.user_models_dir().iterdir())


def test_interrupted_download_resumes(server: type[_Handler]) -> None:
    server.cut_after = 2**20
    with pytest.raises(DownloadError):
        pull(_entry(hashlib.sha256(PAYLOAD).hexdigest()))  # type: ignore[arg-type]
    part = config.user_models_dir() / "tinyllama-1.1b-chat-v1.0.Q5_K_M.gguf.part"
    assert part.stat().st_size == 2**20
    path = pull(_entry(hashlib.sha256(PAYLOAD).hexdigest()))  # type: ignore[arg-type]
    assert path.read_bytes() == PAYLOAD
    assert server.requests[-1] == f"bytes={2**20}-"


def test_no_network_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(DownloadError, match="cannot connect"):
        pull(_entry(None))  # type: ignore[arg-type]


def test_model_without_source_cannot_be_pulled() -> None:
    with pytest.raises(DownloadError, match="no download source"):
        pull(load_catalog().get(config.DEFAULT_MODEL_ID))
