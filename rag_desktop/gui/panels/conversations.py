"""The conversations sidebar: new, open, rename, delete, export, and search by title."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rag_desktop.gui.i18n import format_timestamp

ID_ROLE = Qt.ItemDataRole.UserRole


# lupdate reads translate("Context", "text") calls (a wrapper's argument it cannot see).
translate = QCoreApplication.translate


def ask_title(parent: QWidget, title: str) -> str | None:
    """The new title the user typed, or None (a module function, so tests can answer it)."""
    text, ok = QInputDialog.getText(parent, translate("ConversationList", "Rename conversation"),
                                    translate("ConversationList", "Title:"), text=title)
    return text.strip() or None if ok else None


def confirm_delete(parent: QWidget, title: str) -> bool:
    """Whether the user confirms deleting the conversation (a module function, for tests)."""
    answer = QMessageBox.question(
        parent, translate("ConversationList", "Delete conversation"),
        translate("ConversationList",
                  "Delete “{0}” and all its answers? This cannot be undone.").format(title))
    return answer == QMessageBox.StandardButton.Yes


class ConversationList(QWidget):
    """Lists saved conversations, newest first; every change is a request to the engine."""

    new_requested = Signal()
    open_requested = Signal(str)  # conversation id
    rename_requested = Signal(str, str)  # id, new title
    delete_requested = Signal(str)  # id
    export_requested = Signal(str)  # id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current_id: str | None = None
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search titles"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.new_btn = QPushButton(self.tr("New conversation"))
        self.new_btn.clicked.connect(self.new_requested)
        self.list = QListWidget()
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)  # the full title is the tooltip
        self.list.itemActivated.connect(self._open)
        self.list.itemClicked.connect(self._open)
        self.list.currentItemChanged.connect(lambda *_: self._enable())
        self.rename_btn = QPushButton(self.tr("Rename"))
        self.rename_btn.clicked.connect(self.rename_selected)
        self.delete_btn = QPushButton(self.tr("Delete"))
        self.delete_btn.clicked.connect(self.delete_selected)
        self.export_btn = QPushButton(self.tr("Export"))
        self.export_btn.setToolTip(self.tr("Save the conversation as Markdown or CSV"))
        self.export_btn.clicked.connect(self._export)
        row = QHBoxLayout()
        for button in (self.rename_btn, self.delete_btn, self.export_btn):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.new_btn)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        self._enable()

    def set_conversations(self, infos: list[Any], current_id: str | None = None) -> None:
        """Show `infos` (ConversationInfo, newest first) and select the current one."""
        if current_id is not None:
            self.current_id = current_id
        self.list.clear()
        for info in infos:
            item = QListWidgetItem(info.title or self.tr("(untitled)"))
            item.setData(ID_ROLE, info.id)
            item.setToolTip(item.text() + "\n" + self.tr("{0} turns · last change {1}").format(
                info.n_turns, format_timestamp(info.updated_at)))
            self.list.addItem(item)
            if info.id == self.current_id:
                self.list.setCurrentItem(item)
        self._filter(self.search.text())
        self._enable()

    def select(self, conversation_id: str | None) -> None:
        """Mark the conversation on screen (None: a new one, not yet saved)."""
        self.current_id = conversation_id
        self.list.clearSelection()
        for item in self._items():
            if item.data(ID_ROLE) == conversation_id:
                self.list.setCurrentItem(item)
        self._enable()

    def titles(self) -> list[str]:
        """The visible titles, in order (what a search leaves)."""
        return [i.text() for i in self._items() if not i.isHidden()]

    def rename_selected(self) -> None:
        """Ask for a new title for the selected conversation."""
        item = self.list.currentItem()
        if item is not None:
            title = ask_title(self, item.text())
            if title:
                self.rename_requested.emit(item.data(ID_ROLE), title)

    def delete_selected(self) -> None:
        """Delete the selected conversation after the user confirms."""
        item = self.list.currentItem()
        if item is not None and confirm_delete(self, item.text()):
            self.delete_requested.emit(item.data(ID_ROLE))

    def _export(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.export_requested.emit(item.data(ID_ROLE))

    def _items(self) -> list[QListWidgetItem]:
        return [self.list.item(i) for i in range(self.list.count())]

    def _open(self, item: QListWidgetItem) -> None:
        conversation_id = item.data(ID_ROLE)
        if conversation_id != self.current_id:
            self.current_id = conversation_id
            self.open_requested.emit(conversation_id)
        self._enable()

    def _filter(self, text: str) -> None:
        needle = text.casefold().strip()
        for item in self._items():
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def _enable(self) -> None:
        chosen = self.list.currentItem() is not None
        for button in (self.rename_btn, self.delete_btn, self.export_btn):
            button.setEnabled(chosen)
