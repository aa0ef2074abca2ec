"""The Models dialog on a real engine, against a local HTTP server on 127.0.0.1 (HF_ENDPOINT).

The server answers the hub's resolve route as tests/test_download.py's does, and serves a real
(tiny) GGUF written here with the gguf package, under the TinyLlama entry's file name; the
catalog gets that file's sha256. It can stall after the first chunk, so that a Cancel pressed
in the dialog lands mid-download.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from huggingface_hub.constants import DOWNLOAD_CHUNK_SIZE as CHUNK
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from rag_desktop import config
from rag_desktop.gui.client import EngineClient
from rag_desktop.gui.jobs import JobKind
from rag_desktop.gui.panels.model_picker import ModelPicker
from rag_desktop.gui.panels.models import ModelsDialog, open_model_manager
from rag_desktop.gui.params import Params
from rag_desktop.llm import catalog
from rag_desktop.llm.gguf import read_gguf_info

MODEL_ID = "tinyllama-1.1b-chat-q5_k_m"
FILE = "tinyllama-1.1b-chat-v1.0.Q5_K_M.gguf"
TIMEOUT_MS = 60000


def write_tiny_gguf(path: Path, n_floats: int = 3 * 2**20 + 31) -> Path:
    """A valid GGUF (llama metadata, one F32 tensor) longer than one download chunk."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("Tiny Test Model")
    writer.add_context_length(256)
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight",
                      np.random.default_rng(7).random((n_floats,), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


class _Handler(http.server.BaseHTTPRequestHandler):
    """The hub's HEAD and GET on /{repo}/resolve/main/{FILE}, with Range; can stall a GET."""

    protocol_version = "HTTP/1.1"
    payload = b""
    etag = ""
    stall: threading.Event | None = None  # set: the next GET waits on it after CHUNK bytes
    requests: list[str | None] = []

    def _headers(self, start: int) -> bytes:
        if not self.path.split("?")[0].endswith(f"/resolve/main/{FILE}"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return b""
        body = self.payload[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        if start:
            n = len(self.payload)
            self.send_header("Content-Range", f"bytes {start}-{n - 1}/{n}")
        self.send_header("ETag", f'"{self.etag}"')
        self.send_header("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567")
        self.end_headers()
        return body

    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        self._headers(0)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        rng = self.headers.get("Range")
        type(self).requests.append(rng)
        body = self._headers(int(rng.split("=")[1].split("-")[0]) if rng else 0)
        stall, type(self).stall = type(self).stall, None
        if stall is not None:
            self.wfile.write(body[: CHUNK + 4096])
            self.wfile.flush()
            stall.wait(TIMEOUT_MS / 1000)  # until the test has pressed Cancel
            body = body[CHUNK + 4096:]
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a cancelled download hangs up mid-body


@pytest.fixture(scope="module")
def gguf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny-test.Q8_0.gguf")


@pytest.fixture()
def server(gguf_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Handler]]:
    _Handler.payload = gguf_file.read_bytes()
    _Handler.etag = hashlib.sha256(_Handler.payload).hexdigest()  # as the Hub's LFS ETag
    _Handler.stall, _Handler.requests = None, []
    httpd = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{httpd.server_address[1]}")
    yield _Handler
    if _Handler.stall is not None:
        _Handler.stall.set()
    httpd.shutdown()
    httpd.server_close()


def _patch_catalog(monkeypatch: pytest.MonkeyPatch, sha: str) -> None:
    """The packaged catalog, with `sha` for the TinyLlama entry (its file is what is served)."""
    real = catalog.load_catalog

    def load(*args: Any, **kwargs: Any) -> catalog.Catalog:
        entries = real(*args, **kwargs).entries()
        return catalog.Catalog([replace(e, sha256=sha) if e.id == MODEL_ID else e
                                for e in entries])

    monkeypatch.setattr(catalog, "load_catalog", load)


@pytest.fixture()
def client(qtbot: Any, server: type[_Handler], monkeypatch: pytest.MonkeyPatch,
           ) -> Iterator[EngineClient]:
    """A real engine whose session reads the patched catalog; user dirs in tmp (conftest)."""
    _patch_catalog(monkeypatch, server.etag)
    engine_client = EngineClient(Params())
    with qtbot.waitSignal(engine_client.catalog_changed, timeout=TIMEOUT_MS):
        pass  # warm_up lists the models
    yield engine_client
    engine_client.close()
    QApplication.processEvents()


def _dialog(qtbot: Any, client: EngineClient) -> ModelsDialog:
    with qtbot.waitSignal(client.catalog_changed, timeout=TIMEOUT_MS):
        dialog = open_model_manager(None, client)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.unreachable is not None, timeout=TIMEOUT_MS)
    return dialog


def _present(dialog: ModelsDialog, model_id: str) -> bool:
    entry = dialog.entry(model_id)
    return entry is not None and entry.present


def test_download_shows_progress_and_the_model_becomes_available(
        qtbot: Any, client: EngineClient, server: type[_Handler]) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # offline, as the app runs (conftest)
    dialog = _dialog(qtbot, client)
    assert dialog.unreachable == "" and "127.0.0.1" in dialog.network.text()
    row = dialog.rows[MODEL_ID]
    assert row.download.isEnabled() and row.download.text() == "Download"
    assert not dialog.rows["smollm2-135m-instruct-q4_1"].download.isVisibleTo(dialog)
    values: list[int] = []
    row.bar.valueChanged.connect(values.append)
    qtbot.mouseClick(row.download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _present(dialog, MODEL_ID), timeout=TIMEOUT_MS)
    assert values[-1] == 1000 and values[0] < 1000  # a chunk, then the whole file
    target = config.user_models_dir() / FILE
    assert target.read_bytes() == server.payload and read_gguf_info(target).name
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # lifted for the download only, set again
    qtbot.waitUntil(lambda: not dialog.downloads, timeout=TIMEOUT_MS)
    assert dialog.rows[MODEL_ID].installed.isVisibleTo(dialog)
    assert "is downloaded" in dialog.message.text() and str(target) in dialog.message.text()
    status = dialog.table.item(dialog.entries.index(dialog.entry(MODEL_ID)), 3)  # type: ignore[arg-type]
    assert status.text() == "installed"
    # The picker, fed by the same signal, now offers the model.
    picker = ModelPicker()
    qtbot.addWidget(picker)
    with qtbot.waitSignal(client.catalog_changed, timeout=TIMEOUT_MS) as got:
        client.refresh_catalog()
    picker.set_entries(got.args[0], "")
    label = picker.combo.itemText(picker.combo.findData(MODEL_ID))
    assert "not on this machine" not in label


def test_cancel_keeps_the_part_and_download_resumes(
        qtbot: Any, client: EngineClient, server: type[_Handler]) -> None:
    dialog = _dialog(qtbot, client)
    row = dialog.rows[MODEL_ID]
    release = threading.Event()
    server.stall = release
    qtbot.mouseClick(row.download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.bar.value() > 0, timeout=TIMEOUT_MS)  # the first chunk is in
    assert row.cancel.isVisibleTo(dialog) and "MB of" in row.bar.text()
    qtbot.mouseClick(row.cancel, Qt.MouseButton.LeftButton)
    release.set()
    qtbot.waitUntil(lambda: not dialog.downloads, timeout=TIMEOUT_MS)
    part = config.user_models_dir() / f"{FILE}.part"
    assert part.stat().st_size == CHUNK
    assert "download stopped" in dialog.message.text()
    row = dialog.rows[MODEL_ID]
    assert row.download.text() == "Resume" and row.download.isEnabled()
    qtbot.mouseClick(row.download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _present(dialog, MODEL_ID), timeout=TIMEOUT_MS)
    assert server.requests == [None, f"bytes={CHUNK}-"]
    assert (config.user_models_dir() / FILE).read_bytes() == server.payload
    assert not part.exists()


def test_a_wrong_checksum_is_rejected_with_a_message(
        qtbot: Any, client: EngineClient, server: type[_Handler]) -> None:
    server.etag = "a" * 40  # a git ETag: the catalog's sha256 is checked after the download
    flipped = bytearray(server.payload)
    flipped[len(flipped) // 2] ^= 0xFF  # one byte differs from the catalog's file
    server.payload = bytes(flipped)
    dialog = _dialog(qtbot, client)
    failed: list[str] = []
    client.failed.connect(lambda _id, message: failed.append(message))
    dialog.download(MODEL_ID)
    qtbot.waitUntil(lambda: not dialog.downloads, timeout=TIMEOUT_MS)
    assert "checksum mismatch" in dialog.message.text() and dialog.message.text().startswith("⚠")
    assert failed and "checksum mismatch" in failed[0]
    assert not any(config.user_models_dir().iterdir())  # neither the file nor a .part
    assert not _present(dialog, MODEL_ID)
    assert dialog.rows[MODEL_ID].download.text() == "Download"


def test_unreachable_endpoint_disables_download_and_says_why(
        qtbot: Any, client: EngineClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    dialog = _dialog(qtbot, client)
    reason = ("No network: 127.0.0.1 cannot be reached — copy a .gguf here with "
              "Add local .gguf…")
    assert dialog.unreachable and dialog.network.text() == reason
    assert dialog.retry.isVisibleTo(dialog) and dialog.add_button.isEnabled()
    for model_id in (MODEL_ID, "mistral-7b-instruct-v0.2-q2_k"):
        button = dialog.rows[model_id].download
        assert button.isVisibleTo(dialog) and not button.isEnabled()
        assert button.toolTip().startswith(reason)


def test_add_a_local_gguf_and_reject_a_bad_file(
        qtbot: Any, client: EngineClient, gguf_file: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    dialog = _dialog(qtbot, client)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(gguf_file), "GGUF models (*.gguf)"))
    with qtbot.waitSignal(client.catalog_changed, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.add_job is None, timeout=TIMEOUT_MS)
    added = next(e for e in dialog.entries if e.file == gguf_file.name)
    assert added.present and added.path == config.user_models_dir() / gguf_file.name
    assert added.name == "Tiny Test Model" and added.path.read_bytes() == gguf_file.read_bytes()
    assert dialog.message.text().startswith("Added to")
    assert dialog.add_button.isEnabled() and not dialog.add_bar.isVisibleTo(dialog)

    bad = tmp_path / "notes.gguf"
    bad.write_text("hello, not a model\n" * 10, encoding="utf-8")
    dialog.add_file(str(bad))
    assert client.jobs.active(JobKind.ADD_MODEL)
    qtbot.waitUntil(lambda: dialog.add_job is None, timeout=TIMEOUT_MS)
    text = dialog.message.text()
    assert text.startswith("⚠ notes.gguf cannot be added:") and "not a GGUF model file" in text
    assert not (config.user_models_dir() / "notes.gguf").exists()
    assert not [p for p in config.user_models_dir().iterdir() if p.name.startswith(".")]


def test_picker_offers_manage_models(qtbot: Any) -> None:
    entries = catalog.load_catalog().entries()
    picker = ModelPicker()
    qtbot.addWidget(picker)
    picker.set_entries(entries, "smollm2-135m-instruct-q4_1")
    i = picker.combo.findData(MODEL_ID)
    assert picker.combo.itemText(i).endswith("not on this machine — Manage models… to get it")
    assert "Manage models" in picker.combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
    assert picker.entries == entries
    with qtbot.waitSignal(picker.manage_requested, timeout=1000):
        qtbot.mouseClick(picker.manage, Qt.MouseButton.LeftButton)
