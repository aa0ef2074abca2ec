"""The "Add server…" dialog: a team's OpenAI-compatible server (llama.cpp server, vLLM) as a
model in the dropdown. Check asks the server what it serves (GET /v1/models) and its context
length; Add stores the entry (llm/servers.py), the API key in the OS keyring.

Both talk to the network, so both run on a thread of their own: the window never waits on a
server. A server entry is the user's own request to use that address; nothing else in the app
opens a connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def probe(url: str, key: str) -> tuple[list[str], int]:
    """The model ids a server serves and the context length it reports for the first (0 when
    it does not say). Raises the server backend's errors, each a sentence a person can act on."""
    from rag_desktop.llm.server_api import Api, ServerTimeouts, list_models, server_context
    from rag_desktop.llm.servers import normalize_url

    api = Api(normalize_url(url), key or None, ServerTimeouts())
    try:
        models = list_models(api)
        return [str(m["id"]) for m in models], server_context(api, models[0]) if models else 0
    finally:
        api.close()


class _Relay(QObject):
    """Carries a background call's result to the GUI thread (a queued signal)."""

    done = Signal(object, object)  # result, error


def in_background(call: Callable[[], Any], on_done: Callable[[Any, Any], None],
                  parent: QObject) -> None:
    """Run `call` on a daemon thread; `on_done(result, error)` runs in the GUI thread."""
    relay = _Relay(parent)
    relay.done.connect(on_done)

    def run() -> None:
        try:
            relay.done.emit(call(), None)
        except Exception as exc:  # shown as it is: the backend's messages are for people
            relay.done.emit(None, exc)

    threading.Thread(target=run, name="add-server", daemon=True).start()


class AddServerDialog(QDialog):
    """URL, optional API key, Check (fills the model list), Add."""

    added = Signal(str)  # the new entry's id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add a model server"))
        self.url = QLineEdit()
        self.url.setPlaceholderText("http://127.0.0.1:8080")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText(self.tr("optional; kept in the system keyring"))
        self.check_btn = QPushButton(self.tr("Check"))
        self.check_btn.clicked.connect(self.check)
        self.model = QComboBox()
        self.status = QLabel(self.tr("Check asks the server which models it serves."))
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_btn = self.buttons.addButton(self.tr("Add"),
                                              QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_btn.setEnabled(False)
        self.add_btn.clicked.connect(self.add)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(self.tr("Server URL"), self.url)
        form.addRow(self.tr("API key"), self.key)
        form.addRow("", self.check_btn)
        form.addRow(self.tr("Model"), self.model)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.url.textChanged.connect(lambda _text: self.add_btn.setEnabled(False))

    def check(self) -> None:
        """Ask the server for its models (in the background)."""
        url, key = self.url.text().strip(), self.key.text()
        if not url:
            self.status.setText(self.tr("Type the server's address first."))
            return
        self.check_btn.setEnabled(False)
        self.status.setText(self.tr("Asking {url}…").format(url=url))
        in_background(lambda: probe(url, key), self._checked, self)

    def _checked(self, result: tuple[list[str], int] | None, error: Exception | None) -> None:
        self.check_btn.setEnabled(True)
        if error is not None or not result or not result[0]:
            self.status.setText("⚠ " + (str(error) if error else self.tr("it serves no model")))
            return
        ids, n_ctx = result
        self.model.clear()
        self.model.addItems(ids)
        context = self.tr("context {n} tokens").format(n=n_ctx) if n_ctx else self.tr(
            "context length not reported: the model's own is assumed")
        self.status.setText(self.tr("✓ {n} model(s); {context}").format(n=len(ids),
                                                                      context=context))
        self.add_btn.setEnabled(True)

    def add(self) -> None:
        """Store the entry (in the background: it asks the server once more)."""
        from rag_desktop.llm.server import add_server_entry

        url, key, model = self.url.text().strip(), self.key.text(), self.model.currentText()
        self.add_btn.setEnabled(False)
        in_background(lambda: add_server_entry(url, model=model or None, key=key or None),
                      self._added, self)

    def _added(self, record: Any, error: Exception | None) -> None:
        if error is not None:
            self.status.setText(f"⚠ {error}")
            self.add_btn.setEnabled(True)
            return
        self.added.emit(record.id)
        self.accept()
