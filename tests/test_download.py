"""`models pull` against a local HTTP server on 127.0.0.1 (HF_ENDPOINT): resume and checksum.

The server answers the hub's routes that huggingface_hub uses: HEAD and GET on
/{repo_id}/resolve/{revision}/{filename}, with ETag (the sha256, as the Hub gives for LFS
files), X-Repo-Commit and Content-Length.
"""

from __future__ import annotations

import errno
import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from huggingface_hub.constants import DOWNLOAD_CHUNK_SIZE as CHUNK

from rag_desktop import config
from rag_desktop.llm import download
from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.download import DownloadError, pull
from rag_desktop.progress import Cancelled, CancelToken, ProgressEvent

# Longer than one of huggingface_hub's write chunks (10 MiB), so that a drop leaves a part.
PAYLOAD = os.urandom(CHUNK + 2 * 2**20 + 123)
SHA = hashlib.sha256(PAYLOAD).hexdigest()
COMMIT = "0123456789abcdef0123456789abcdef01234567"
FILE = "tinyllama-1.1b-chat-v1.0.Q5_K_M.gguf"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at the hub's resolve route; honours Range; can drop the network.

    `cut_after`: the next GET sends that many bytes, then the network goes down (every later
    request is cut at once) until the test sets `down` back to False.
    """

    protocol_version = "HTTP/1.1"
    cut_after: int | None = None
    down = False
    etag = SHA
    requests: list[str | None] = []
    paths: list[str] = []

    def _headers(self, start: int) -> bytes:
        path = self.path.split("?")[0]
        type(self).paths.append(f"{self.command} {path}")
        if not path.endswith(f"/resolve/main/{FILE}"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return b""
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("ETag", f'"{type(self).etag}"')
        self.send_header("X-Repo-Commit", COMMIT)
        self.end_headers()
        return body

    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        self._headers(0)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if type(self).down:
            self.close_connection = True
            self.connection.shutdown(2)  # the network is still down
            return
        rng = self.headers.get("Range")
        type(self).requests.append(rng)
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        body = self._headers(start)
        cut = type(self).cut_after
        if cut is not None:
            type(self).cut_after, type(self).down = None, True
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)  # the network drops mid-download
            return
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up mid-body (a cancel, a full disk) is what the tests do


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Handler]]:
    _Handler.requests, _Handler.paths, _Handler.cut_after = [], [], None
    _Handler.down, _Handler.etag = False, SHA
    httpd = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{httpd.server_address[1]}")
    yield _Handler
    httpd.shutdown()
    httpd.server_close()


def _entry(sha: str | None) -> object:
    return replace(load_catalog().get("tinyllama-1.1b-chat-q5_k_m"), sha256=sha)


def test_pull_verifies_and_installs_into_the_user_models_dir(server: type[_Handler]) -> None:
    events: list[ProgressEvent] = []
    path = pull(_entry(SHA), progress=events.append)  # type: ignore[arg-type]
    assert path == config.user_models_dir() / "tinyllama-1.1b-chat-v1.0.Q5_K_M.gguf"
    assert path.read_bytes() == PAYLOAD
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # offline again afterwards
    assert load_catalog().get("tinyllama-1.1b-chat-q5_k_m").present
    repo = "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF"
    assert server.paths == [f"HEAD /{repo}/resolve/main/{FILE}", f"GET /{repo}/resolve/main/{FILE}"]
    assert [e.done for e in events] == [CHUNK, len(PAYLOAD)]
    assert {(e.stage, e.total, e.message) for e in events} == {("download", len(PAYLOAD), FILE)}
    assert pull(_entry(SHA)) == path and len(server.paths) == 2  # there already: no request


@pytest.mark.parametrize("etag", [SHA, "a" * 40], ids=["lfs-etag", "git-etag"])
def test_wrong_checksum_is_rejected_and_removed(server: type[_Handler], etag: str) -> None:
    server.etag = etag
    with pytest.raises(DownloadError, match="checksum mismatch"):
        pull(_entry("0" * 64))  # type: ignore[arg-type]
    assert not any(config.user_models_dir().iterdir())
    # An LFS ETag is the file's sha256: a mismatch is seen before any byte is fetched.
    assert server.requests == ([] if etag == SHA else [None])


def test_without_a_catalog_sha_the_hubs_etag_is_checked(server: type[_Handler]) -> None:
    server.etag = "f" * 64  # the hub says the file is another one than what arrives
    with pytest.raises(DownloadError, match="checksum mismatch"):
        pull(_entry(None))  # type: ignore[arg-type]
    assert not any(config.user_models_dir().iterdir())
    server.etag = SHA
    assert pull(_entry(None)).read_bytes() == PAYLOAD  # type: ignore[arg-type]


def test_interrupted_download_resumes(server: type[_Handler]) -> None:
    # The network drops after one whole chunk and a bit, and stays down through the retries.
    server.cut_after = CHUNK + 2**20
    with pytest.raises(DownloadError, match="connection dropped.*run the same command again"):
        pull(_entry(SHA))  # type: ignore[arg-type]
    part = config.user_models_dir() / "tinyllama-1.1b-chat-v1.0.Q5_K_M.gguf.part"
    assert part.stat().st_size == CHUNK  # every byte written to disk is kept
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    server.down = False  # the network is back
    path = pull(_entry(SHA))  # type: ignore[arg-type]
    assert path.read_bytes() == PAYLOAD
    assert server.requests[-1] == f"bytes={CHUNK}-"
    assert not part.exists()


def test_no_network_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(DownloadError, match="cannot connect"):
        pull(_entry(None))  # type: ignore[arg-type]


def test_a_file_the_hub_does_not_have_gives_the_http_status(server: type[_Handler]) -> None:
    with pytest.raises(DownloadError, match="HTTP 404; check the model id"):
        pull(replace(_entry(SHA), file="no-such-file.gguf"))  # type: ignore[type-var]
    assert not any(config.user_models_dir().iterdir())


def test_model_without_source_cannot_be_pulled() -> None:
    with pytest.raises(DownloadError, match="no download source"):
        pull(load_catalog().get(config.DEFAULT_MODEL_ID))


def test_cancel_keeps_the_part_and_the_next_pull_resumes(server: type[_Handler]) -> None:
    cancel = CancelToken()
    with pytest.raises(Cancelled):
        pull(_entry(SHA), progress=lambda e: cancel.cancel(), cancel=cancel)  # type: ignore[arg-type]
    part = config.user_models_dir() / f"{FILE}.part"
    assert part.stat().st_size == CHUNK  # the chunk that arrived before the cancel
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert pull(_entry(SHA)).read_bytes() == PAYLOAD  # type: ignore[arg-type]
    assert server.requests == [None, f"bytes={CHUNK}-"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_is_reported_as_a_full_disk(server: type[_Handler]) -> None:
    # Every write to /dev/full fails with ENOSPC: the kernel's own "No space left on device".
    folder = config.user_models_dir()
    folder.mkdir(parents=True)
    (folder / f"{FILE}.part").symlink_to("/dev/full")
    with pytest.raises(DownloadError, match="the disk is full.*free some space") as info:
        pull(_entry(SHA))  # type: ignore[arg-type]
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.ENOSPC
    assert "connection" not in str(info.value)
    assert not (folder / FILE).exists() and os.environ.get("HF_HUB_OFFLINE") == "1"


def test_too_little_free_space_is_refused_before_downloading(
        server: type[_Handler], monkeypatch: pytest.MonkeyPatch) -> None:
    usage = download.shutil.disk_usage(config.home_dir())
    monkeypatch.setattr(download.shutil, "disk_usage",
                        lambda path: usage._replace(free=len(PAYLOAD) - 1))
    with pytest.raises(DownloadError, match="not enough disk space"):
        pull(_entry(SHA))  # type: ignore[arg-type]
    assert server.requests == []


def test_the_offline_variables_do_not_block_an_explicit_pull(server: type[_Handler]) -> None:
    import huggingface_hub.constants

    config.set_offline(True)  # as main() does before any command
    assert huggingface_hub.constants.HF_HUB_OFFLINE  # the hub, already imported, is offline
    assert pull(_entry(SHA)).read_bytes() == PAYLOAD  # type: ignore[arg-type]
    assert huggingface_hub.constants.HF_HUB_OFFLINE and os.environ["HF_HUB_OFFLINE"] == "1"


@pytest.fixture()
def catalog_with_payload_sha(monkeypatch: pytest.MonkeyPatch) -> str:
    """The catalog, with the test payload's sha256 for the model that the server serves."""
    from rag_desktop.llm import catalog

    real = catalog.load_catalog()
    entries = [_entry(SHA) if e.id == "tinyllama-1.1b-chat-q5_k_m" else e for e in real.entries()]
    monkeypatch.setattr(catalog, "load_catalog", lambda *a, **k: catalog.Catalog(entries))
    return "tinyllama-1.1b-chat-q5_k_m"


def test_cli_pull_shows_progress_and_says_where_the_file_is(
        server: type[_Handler], catalog_with_payload_sha: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    from rag_desktop.cli.main import main

    assert main(["models", "pull", catalog_with_payload_sha]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"saved {config.user_models_dir() / FILE}"
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("download: 12.0M/12.0M (100%) |") and last.endswith(FILE)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_cli_pull_on_a_full_disk_is_one_line_and_exit_2(
        server: type[_Handler], catalog_with_payload_sha: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    from rag_desktop.cli.main import main

    config.user_models_dir().mkdir(parents=True)
    (config.user_models_dir() / f"{FILE}.part").symlink_to("/dev/full")
    assert main(["models", "pull", catalog_with_payload_sha]) == 2
    err = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines()
           if line and not line.startswith("download: ")]  # progress lines, not messages
    assert len(err) == 1 and err[0].startswith("error: ") and "the disk is full" in err[0]
