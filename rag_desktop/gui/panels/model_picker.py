"""The model dropdown: catalog models and GGUFs on disk, with size, quant and presence.

Models not on this machine are listed, disabled, with the way to get them: the Manage models…
button beside the dropdown (`manage_requested`) opens the Models dialog (panels/models.py).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from rag_desktop.gui.i18n import QT_TRANSLATE_NOOP

# English, as the source text; shown translated (lupdate finds the marked text in "ModelPicker").
MISSING_HINT = QT_TRANSLATE_NOOP("ModelPicker", "not on this machine — Manage models… to get it")


def human_size(n: int | None) -> str:
    """Bytes as MB/GB text; unknown sizes are '?'."""
    if not n:
        return "?"
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def entry_label(entry: Any) -> str:
    """How a ModelEntry reads in the dropdown."""
    if entry.server is not None:  # a model on a team's server: its address, no file size
        return f"{entry.name}  (server · {entry.server.url})"
    hint = QCoreApplication.translate("ModelPicker", MISSING_HINT)
    where = "" if entry.present else f" — {hint}"
    quant = f" · {entry.quant}" if entry.quant else ""
    return f"{entry.name}  ({human_size(entry.size_bytes)}{quant}){where}"


class ModelPicker(QWidget):
    """A labelled combo box, a busy bar and a Manage models… button.

    Emits `model_chosen` when the user picks a model and `manage_requested` for the button.
    """

    model_chosen = Signal(str)
    manage_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setMinimumWidth(380)
        # As wide as a present model's label: the popup list widens itself to the longest one,
        # so the "not on this machine" hints do not widen the toolbar.
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(56)
        self.combo.activated.connect(self._on_activated)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: a model load has no steps to count
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.busy_label = QLabel("")
        self.manage = QPushButton(self.tr("Manage models…"))
        self.manage.setToolTip(
            self.tr("Download catalog models, or add a .gguf file from this computer"))
        self.manage.clicked.connect(self.manage_requested)
        self.entries: list[Any] = []  # the last listed ModelEntries, for the Models dialog
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel(self.tr("Model:")))
        layout.addWidget(self.combo)
        layout.addWidget(self.manage)
        layout.addWidget(self.busy)
        layout.addWidget(self.busy_label)
        self._current = ""

    def set_entries(self, entries: list[Any], current: str) -> None:
        """List the models; those not present are disabled with a hint how to get them."""
        self.entries = list(entries)
        self.combo.clear()
        for entry in entries:
            self.combo.addItem(entry_label(entry), entry.id)
            i = self.combo.count() - 1
            tip = entry.note or str(entry.path or entry.file)
            if not entry.present:  # the catalog's note speaks of the command line
                tip = self.tr("{file} is not on this machine: open Manage models… to get "
                              "it").format(file=entry.file)
            self.combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
            if not entry.present:
                model = self.combo.model()
                if isinstance(model, QStandardItemModel):
                    item = model.item(i)
                    item.setEnabled(False)
        self.select(current)

    def select(self, model_id: str) -> None:
        """Show `model_id` as the current model without emitting."""
        self._current = model_id
        i = self.combo.findData(model_id)
        if i >= 0:
            self.combo.setCurrentIndex(i)

    def ids(self) -> list[str]:
        """Every listed id."""
        return [str(self.combo.itemData(i)) for i in range(self.combo.count())]

    def set_loading(self, text: str) -> None:
        """Show the busy indicator with `text`, or hide it with ''."""
        self.busy.setVisible(bool(text))
        self.busy_label.setText(text)
        self.combo.setEnabled(not text)

    def show_error(self, message: str) -> None:
        """A load that failed: the busy bar goes, the reason stays (all of it on hover)."""
        self.set_loading("")
        self.busy_label.setText(f"⚠ {message}")
        self.busy_label.setToolTip(message)

    def _on_activated(self, index: int) -> None:
        model_id = str(self.combo.itemData(index))
        if model_id != self._current:
            self._current = model_id
            self.model_chosen.emit(model_id)
