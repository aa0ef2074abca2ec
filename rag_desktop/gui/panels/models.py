"""The Models dialog: download catalog models, or add a .gguf from this computer.

A download is a DOWNLOAD_MODEL job: `models pull`'s code in the engine thread, so it resumes a
.part file, checks sha256 and lifts the offline switch for that one request only. Whether the
download endpoint can be reached is asked on a plain thread when the dialog opens; while it
cannot, the Download buttons are disabled and say why. The app stays offline otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rag_desktop import config
from rag_desktop.gui.files import Folders
from rag_desktop.gui.i18n import QT_TRANSLATE_NOOP
from rag_desktop.gui.model_jobs import NetworkProbe, part_size
from rag_desktop.gui.panels.model_picker import human_size
from rag_desktop.gui.table_models import header_text
from rag_desktop.progress import ProgressEvent

if TYPE_CHECKING:
    from rag_desktop.gui.client import EngineClient
    from rag_desktop.llm.catalog import ModelEntry

COLUMNS = (QT_TRANSLATE_NOOP("Column", "Model"), QT_TRANSLATE_NOOP("Column", "Size"),
           QT_TRANSLATE_NOOP("Column", "Quant"), QT_TRANSLATE_NOOP("Column", "Status"),
           QT_TRANSLATE_NOOP("Column", "Where"), "")  # English; shown translated
BAR_STEPS = 1000  # a QProgressBar holds an int: bytes of a 3 GB model would overflow it


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


class RowActions(QWidget):
    """A row's Download button, its progress bar and its Cancel button."""

    def __init__(self) -> None:
        super().__init__()
        self.download = QPushButton(self.tr("Download"))
        self.bar = QProgressBar()
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setMinimumWidth(220)
        self.cancel = QPushButton(self.tr("Cancel"))
        self.installed = QLabel(self.tr("Installed"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        for widget in (self.download, self.bar, self.cancel, self.installed):
            layout.addWidget(widget)

    def show_progress(self, event: ProgressEvent | None) -> None:
        """Bytes so far of the total, or 'Waiting…' while the job is queued."""
        if event is None:
            self.bar.setValue(0)
            self.bar.setFormat(self.tr("Waiting…"))
            return
        self.bar.setValue(round(event.fraction * BAR_STEPS))
        text = self.tr("{done} of {total} (%p%)") if event.total else "{done} (%p%)"
        self.bar.setFormat(text.format(done=_mb(event.done), total=_mb(event.total)))

    def set_mode(self, mode: str) -> None:
        """'installed', 'running' (bar and Cancel) or 'idle' (the Download button)."""
        self.installed.setVisible(mode == "installed")
        self.download.setVisible(mode == "idle")
        self.bar.setVisible(mode == "running")
        self.cancel.setVisible(mode == "running")


class ModelsDialog(QDialog):
    """Catalog models with their size, quant, state and place; Download and Add local .gguf…"""

    def __init__(self, client: EngineClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Models"))
        self.resize(980, 420)
        self.client = client
        self.folders = Folders()
        self.entries: list[ModelEntry] = []
        self.rows: dict[str, RowActions] = {}
        self.downloads: dict[int, str] = {}  # job id -> model id
        self.last_event: dict[str, ProgressEvent | None] = {}  # model id -> its job's progress
        self.add_job: int | None = None
        self.host = ""
        self.unreachable: str | None = None  # None until the check answers; '' reachable
        self._failed: dict[int, str] = {}
        self._probe = NetworkProbe()
        self._probe.done.connect(self._on_network)
        self._build()
        client.progress.connect(self._on_progress)
        client.failed.connect(self._on_failed)
        client.finished.connect(self._on_finished)
        client.catalog_changed.connect(self.set_entries)

    def add_server(self) -> None:
        """The Add server dialog; a new entry shows in this list and the model dropdown."""
        from rag_desktop.gui.panels.add_server import AddServerDialog

        dialog = AddServerDialog(self)
        dialog.added.connect(lambda entry_id: self.message.setText(
            self.tr("{name} added; choose it in the model list.").format(name=entry_id)))
        dialog.added.connect(lambda _id: self.client.refresh_catalog())
        dialog.open()
        self.server_dialog = dialog

    def _build(self) -> None:
        self.folder_label = QLabel(
            self.tr("Models folder: {folder}").format(folder=config.user_models_dir()))
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.network = QLabel("")
        self.network.setWordWrap(True)
        self.retry = QPushButton(self.tr("Check again"))
        self.retry.clicked.connect(self.check_network)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([header_text(c) if c else c for c in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.add_button = QPushButton(self.tr("Add local .gguf…"))
        self.add_button.setToolTip(self.tr("Copy a GGUF model file from this computer into the "
                                           "models folder; it is checked first"))
        self.add_button.clicked.connect(self.choose_file)
        self.add_bar = QProgressBar()
        self.add_bar.setRange(0, BAR_STEPS)
        self.add_cancel = QPushButton(self.tr("Cancel"))
        self.add_cancel.clicked.connect(self._cancel_add)
        self._show_add(False)
        self.server_button = QPushButton(self.tr("Add server…"))
        self.server_button.setToolTip(self.tr("A model on a team's OpenAI-compatible server "
                                              "(llama.cpp server, vLLM)"))
        self.server_button.clicked.connect(self.add_server)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        net_row = QHBoxLayout()
        net_row.addWidget(self.network, 1)
        net_row.addWidget(self.retry)
        add_row = QHBoxLayout()
        for widget in (self.add_button, self.add_bar, self.add_cancel, self.server_button):
            add_row.addWidget(widget)
        add_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.folder_label)
        layout.addLayout(net_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(add_row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    # -- the list -------------------------------------------------------------------------
    @Slot(list)
    def set_entries(self, entries: list[ModelEntry]) -> None:
        """List the models (the engine's catalog_changed also lands here)."""
        self.entries = list(entries)
        self.rows = {}
        self.table.setRowCount(len(self.entries))
        for i, entry in enumerate(self.entries):
            actions = RowActions()
            actions.download.clicked.connect(lambda _=False, m=entry.id: self.download(m))
            actions.cancel.clicked.connect(lambda _=False, m=entry.id: self.cancel(m))
            self.rows[entry.id] = actions
            self.table.setCellWidget(i, len(COLUMNS) - 1, actions)
            self._update_row(i, entry)

    def entry(self, model_id: str) -> ModelEntry | None:
        """The listed entry of `model_id`, None when it is not listed."""
        return next((e for e in self.entries if e.id == model_id), None)

    def _job_of(self, model_id: str) -> int | None:
        return next((j for j, m in self.downloads.items() if m == model_id), None)

    def _status(self, entry: ModelEntry) -> str:
        if entry.present:
            return self.tr("installed")
        if self._job_of(entry.id) is not None:
            return self.tr("downloading")
        have = part_size(entry)
        if have:
            return self.tr("partly downloaded ({done} of {total})").format(
                done=_mb(have), total=human_size(entry.size_bytes))
        return self.tr("not downloaded")

    def _update_row(self, i: int, entry: ModelEntry) -> None:
        where = entry.server.url if entry.server is not None else (
            str(entry.path) if entry.present else (entry.source or ""))
        texts = (entry.name, human_size(entry.size_bytes), entry.quant or "?",
                 self._status(entry), where)
        for col, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setToolTip(entry.note or text)
            self.table.setItem(i, col, item)
        actions = self.rows[entry.id]
        if entry.present:
            actions.set_mode("installed")
            return
        if self._job_of(entry.id) is not None:
            actions.set_mode("running")
            actions.show_progress(self.last_event.get(entry.id))
            return
        actions.set_mode("idle")
        actions.download.setText(self.tr("Resume") if part_size(entry) else self.tr("Download"))
        enabled, tip = self._download_state(entry)
        actions.download.setEnabled(enabled)
        actions.download.setToolTip(tip)

    def _download_state(self, entry: ModelEntry) -> tuple[bool, str]:
        """Whether the Download button works now, and its tooltip saying why or why not."""
        if not entry.repo:
            return False, self.tr("{file} has no download source: copy it here with Add "
                                  "local .gguf…").format(file=entry.file)
        if self.unreachable is None:
            return False, self.tr("Checking whether the download site can be reached…")
        if self.unreachable:
            return False, f"{self.offline_text()}\n({self.unreachable})"
        return True, self.tr("Download {file} from {host} (resumable; checked by "
                             "sha256)").format(file=entry.file, host=self.host)

    def _refresh_rows(self) -> None:
        for i, entry in enumerate(self.entries):
            self._update_row(i, entry)

    # -- the network ------------------------------------------------------------------------
    @Slot()
    def check_network(self) -> None:
        """Ask again whether the download endpoint answers (on a plain thread)."""
        self.unreachable = None
        self.network.setText(self.tr("Checking whether the download site can be reached…"))
        self.retry.hide()
        self._refresh_rows()
        self._probe.start()

    def offline_text(self) -> str:
        """The reason every Download button gives while the endpoint cannot be reached."""
        return self.tr("No network: {host} cannot be reached — copy a .gguf here with Add "
                       "local .gguf…").format(host=self.host)

    @Slot(str, str)
    def _on_network(self, host: str, reason: str) -> None:
        self.host, self.unreachable = host, reason
        if reason:
            self.network.setText(self.offline_text())
            self.network.setToolTip(reason)
        else:
            self.network.setText(self.tr("Downloads come from {host}; nothing is downloaded "
                                         "unless you press Download.").format(host=host))
            self.network.setToolTip("")
        self.retry.setVisible(bool(reason))
        self._refresh_rows()

    # -- downloads ----------------------------------------------------------------------------
    def download(self, model_id: str) -> None:
        """Start (or resume) downloading a catalog model."""
        if self._job_of(model_id) is not None:
            return
        job = self.client.download_model(model_id)
        self.downloads[job.id] = model_id
        self.last_event[model_id] = None
        self.message.setText("")
        self._refresh_rows()

    def cancel(self, model_id: str) -> None:
        """Stop a model's download; what arrived stays in its .part file for a resume."""
        job_id = self._job_of(model_id)
        if job_id is not None:
            self.client.cancel(job_id)

    @Slot(int, object)
    def _on_progress(self, job_id: int, event: ProgressEvent) -> None:
        if job_id in self.downloads:
            model_id = self.downloads[job_id]
            self.last_event[model_id] = event
            if model_id in self.rows:
                self.rows[model_id].show_progress(event)
        elif job_id == self.add_job:
            self.add_bar.setValue(round(event.fraction * BAR_STEPS))
            self.add_bar.setFormat(self.tr("{done} of {total} (%p%)").format(
                done=_mb(event.done), total=_mb(event.total)))

    @Slot(int, str)
    def _on_failed(self, job_id: int, message: str) -> None:
        if job_id in self.downloads or job_id == self.add_job:
            self._failed[job_id] = message

    @Slot(int)
    def _on_finished(self, job_id: int) -> None:
        if job_id == self.add_job:
            self._add_finished(job_id)
            return
        model_id = self.downloads.pop(job_id, None)
        if model_id is None:
            return
        self.last_event.pop(model_id, None)
        error = self._failed.pop(job_id, None)
        self._say(self._download_outcome(model_id, error), error)
        self._refresh_rows()
        if error and ("cannot connect" in error or "connection dropped" in error):
            self.check_network()  # the network went away: the buttons should say so

    def _download_outcome(self, model_id: str, error: str | None) -> str:
        entry = self.entry(model_id)
        name = entry.name if entry else model_id
        if error == "cancelled":
            kept = part_size(entry) if entry else 0
            text = (self.tr("{name}: download stopped; {kept} kept. Resume continues where it "
                            "stopped.") if kept else self.tr("{name}: download cancelled."))
            return text.format(name=name, kept=_mb(kept))
        if error:
            return self.tr("{name}: download failed: {error}").format(name=name, error=error)
        where = (entry.path if entry else None) or config.user_models_dir()
        return self.tr("{name} is downloaded ({where}); choose it in the model list.").format(
            name=name, where=where)

    def _say(self, text: str, error: str | None = None) -> None:
        warn = bool(error) and error != "cancelled"
        self.message.setText(("⚠ " if warn else "") + text)

    # -- add a local file ---------------------------------------------------------------------
    @Slot()
    def choose_file(self) -> None:
        """Ask for a .gguf file and add it."""
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Add a local model"), self.folders.start("models"),
            self.tr("GGUF models (*.gguf);;All files (*)"))
        if path:
            self.folders.remember("models", path)
            self.add_file(path)

    def add_file(self, path: str) -> None:
        """Check `path` is a GGUF and copy it into the models folder (an ADD_MODEL job)."""
        if self.add_job is not None:
            return
        self.add_job = self.client.add_model(path).id
        self.add_bar.setValue(0)
        self.add_bar.setFormat(self.tr("Checking…"))
        self._show_add(True)
        self._say(self.tr("Adding {path}…").format(path=path))

    def _cancel_add(self) -> None:
        if self.add_job is not None:
            self.client.cancel(self.add_job)

    def _show_add(self, running: bool) -> None:
        self.add_button.setEnabled(not running)
        self.add_bar.setVisible(running)
        self.add_cancel.setVisible(running)

    def _add_finished(self, job_id: int) -> None:
        self.add_job = None
        self._show_add(False)
        error = self._failed.pop(job_id, None)
        if error == "cancelled":
            self._say(self.tr("Adding the model was cancelled; nothing was copied."), error)
        elif error:
            self._say(error, error)
        else:
            self._say(self.tr("Added to {folder}; choose it in the model list.").format(
                folder=config.user_models_dir()))


def open_model_manager(parent: QWidget | None, client: EngineClient,
                       entries: list[ModelEntry] | None = None) -> ModelsDialog:
    """Show the Models dialog (one per parent: a running download keeps its row when reopened).

    `entries` (e.g. the picker's) fill the list at once; a rescan then finds files copied
    into the models folder by hand, and the network is checked again.
    """
    dialog = parent.findChild(ModelsDialog) if parent is not None else None
    if dialog is None:
        dialog = ModelsDialog(client, parent)
    if entries:
        dialog.set_entries(entries)
    client.refresh_catalog()
    dialog.check_network()
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
