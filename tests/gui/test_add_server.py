"""The Add server dialog against a real `llama_cpp.server` on 127.0.0.1: Check lists what it
serves, a wrong key says so, Add stores the entry with its key in the keyring (an in-memory
backend here, so the OS keyring is left alone) and the catalog lists it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtWidgets import QApplication

from rag_desktop.gui.panels.add_server import AddServerDialog
from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.servers import servers_file
from tests.test_server_backend import KEY, MemoryKeyring, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_server(tmp_path_factory.mktemp("srv") / "server.log", KEY)
    yield url
    proc.kill()
    proc.wait()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(before)


def check(dialog: AddServerDialog, qtbot: Any, url: str, key: str) -> str:
    dialog.url.setText(url)
    dialog.key.setText(key)
    dialog.check_btn.click()
    qtbot.waitUntil(dialog.check_btn.isEnabled, timeout=60000)
    return dialog.status.text()


def test_check_then_add_keeps_the_key_in_the_keyring(server: str, qtbot: Any,
                                                     memory_keyring: MemoryKeyring) -> None:
    dialog = AddServerDialog()
    qtbot.addWidget(dialog)
    assert "401" in check(dialog, qtbot, server, "not-the-key") or "key" in dialog.status.text()
    assert not dialog.add_btn.isEnabled()
    assert check(dialog, qtbot, server, KEY).startswith("✓ 1 model(s)")
    assert dialog.model.count() == 1 and dialog.add_btn.isEnabled()
    with qtbot.waitSignal(dialog.added, timeout=60000) as blocker:
        dialog.add_btn.click()
    entry = load_catalog().get(blocker.args[0])
    assert entry.server is not None and entry.server.url == server and entry.present
    assert list(memory_keyring.store.values()) == [KEY]
    assert KEY not in Path(servers_file()).read_text(encoding="utf-8")


def test_a_closed_port_is_said_in_the_dialog_and_the_window_never_waits(qtbot: Any) -> None:
    from tests.test_server_backend import free_port

    dialog = AddServerDialog()
    qtbot.addWidget(dialog)
    dialog.url.setText(f"http://127.0.0.1:{free_port()}")
    dialog.check_btn.click()
    assert not dialog.check_btn.isEnabled()  # returned at once: the probe runs on a thread
    QApplication.processEvents()
    qtbot.waitUntil(dialog.check_btn.isEnabled, timeout=60000)
    assert dialog.status.text().startswith("⚠") and not dialog.add_btn.isEnabled()
