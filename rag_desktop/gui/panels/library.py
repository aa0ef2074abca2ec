"""The Library area: pick or create a library, list its documents, add, remove, ingest progress."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QMimeData, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from rag_desktop import config
from rag_desktop.gui.files import Folders
from rag_desktop.gui.i18n import QT_TRANSLATE_NOOP, format_number, format_timestamp
from rag_desktop.gui.table_models import Column, RecordTableModel
from rag_desktop.progress import ProgressEvent, StageRate

# Share of one file's progress bar that each ingestion stage fills (pages parse fast).
# OCR shares the page-reading slice: it happens while a document's pages are read.
STAGE_SHARE = {"pages": (0.0, 0.3), "ocr": (0.0, 0.3), "chunks": (0.3, 0.95),
               "saving": (0.95, 1.0)}
# What each ingestion stage is called on the progress line.
STAGE_NAMES = {
    "pages": QT_TRANSLATE_NOOP("LibraryPanel", "Reading pages"),
    "ocr": QT_TRANSLATE_NOOP("LibraryPanel", "Reading scanned pages (OCR)"),
    "chunks": QT_TRANSLATE_NOOP("LibraryPanel", "Embedding chunks"),
    "saving": QT_TRANSLATE_NOOP("LibraryPanel", "Saving"),
    "files": QT_TRANSLATE_NOOP("LibraryPanel", "Files"),
}
STATUS_NAMES = {"ok": QT_TRANSLATE_NOOP("LibraryPanel", "ok"),
                "error": QT_TRANSLATE_NOOP("LibraryPanel", "failed")}

# lupdate finds translate("Context", "text") calls; a marked constant goes through it too.
translate = QCoreApplication.translate



@dataclass(frozen=True)
class DocumentRow:
    """One row of the documents table: a document in the library, or a file that failed."""

    name: str
    pages: int | None
    chunks: int | None
    added_at: str
    status: str = "ok"
    error: str = ""
    path: str = ""
    ocr_pages: int = 0  # pages read by OCR
    ocr_confidence: float | None = None


def documents_model() -> RecordTableModel[DocumentRow]:
    """The documents table model; failed files are red with their error next to them."""
    # Headers are translated when shown (table_models.header_text).
    model: RecordTableModel[DocumentRow] = RecordTableModel([
        Column(QT_TRANSLATE_NOOP("Column", "Name"), lambda r: r.name, tooltip=lambda r: r.path),
        Column(QT_TRANSLATE_NOOP("Column", "Pages"), lambda r: r.pages, _count,
               tooltip=_ocr_tooltip),
        Column(QT_TRANSLATE_NOOP("Column", "Chunks"), lambda r: r.chunks, _count),
        Column(QT_TRANSLATE_NOOP("Column", "Added"), lambda r: r.added_at,
               lambda v: format_timestamp(str(v))),
        # The column is narrow and an error long: the whole message (and file) on hover.
        Column(QT_TRANSLATE_NOOP("Column", "Status"), lambda r: r.error or _status_of(r),
               _status_text, tooltip=status_tooltip),
    ])
    model.is_error = lambda r: r.status == "error"
    return model


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def _status_of(row: DocumentRow) -> str:
    """'ok', or 'ok · 8 pages by OCR' for a document with scanned pages (translated here, so
    the Status column's formatter passes it through)."""
    if not row.ocr_pages:
        return row.status
    return translate("LibraryPanel", "{ok} · {n} pages by OCR").format(
        ok=_status_text(row.status), n=row.ocr_pages)


def _ocr_tooltip(row: DocumentRow) -> str:
    """How the scanned pages were read, for the Pages cell."""
    if not row.ocr_pages:
        return ""
    return translate("LibraryPanel", "{n} scanned pages read by OCR, mean confidence "
                     "{confidence}").format(n=row.ocr_pages,
                                            confidence=format_number(row.ocr_confidence or 0, 2))


def _status_text(value: str) -> str:
    """A status word in the UI's language; an error message as the core wrote it."""
    return translate("LibraryPanel", STATUS_NAMES[value]) if value in STATUS_NAMES else value


def status_tooltip(row: DocumentRow) -> str:
    """The full status of a row: for a failed file, its path and the whole error message."""
    if row.ocr_pages:
        return _ocr_tooltip(row)
    if row.status == "error":
        where = row.path or row.name
        return f"{where}\n\n{row.error or translate('LibraryPanel', 'failed')}"
    return ""


def overall_fraction(event: ProgressEvent, files_done: int, files_total: int) -> float:
    """Progress over all files: whole files done plus the share of the current one."""
    if event.stage == "files":
        return event.fraction
    low, high = STAGE_SHARE.get(event.stage, (0.0, 1.0))
    within = low + (high - low) * event.fraction
    return min(1.0, (files_done + within) / max(1, files_total))


def rate_text(per_s: float, left_s: float) -> str:
    """"0.18 pages/s, about 3 min left" (OCR's pace, in the UI's language)."""
    if left_s >= 90:
        left = translate("LibraryPanel", "about {n} min left").format(n=round(left_s / 60))
    else:
        left = translate("LibraryPanel", "about {n} s left").format(n=max(1, round(left_s)))
    pace = translate("LibraryPanel", "{rate} pages/s").format(rate=format_number(per_s, 2))
    return f"{pace}, {left}"


def dropped_paths(mime: QMimeData) -> list[str]:
    """Local PDF files and folders in a drag's data."""
    paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
    return [p for p in paths if Path(p).is_dir() or p.lower().endswith(".pdf")]


class LibraryPanel(QWidget):
    """Documents of the current library; emits requests, the main window routes them."""

    add_requested = Signal(list)  # paths
    remove_requested = Signal(str)  # document name
    library_requested = Signal(str)  # library folder
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.model = documents_model()
        self._errors: list[DocumentRow] = []
        self._files = (0, 1)
        self._rate = StageRate()
        self._ocr_seen = False  # this add read scanned pages (a cancel keeps them)
        self.folders = Folders()  # the main window gives it the app's settings
        self._build()

    def _build(self) -> None:
        self.library_box = QComboBox()
        self.library_box.setMinimumWidth(220)
        self.library_box.activated.connect(self._on_library_picked)
        new_btn = QPushButton(self.tr("New library…"))
        new_btn.clicked.connect(self._new_library)
        self.add_btn = QPushButton(self.tr("Add PDFs…"))
        self.add_btn.clicked.connect(self.choose_pdfs)
        self.folder_btn = folder_btn = QPushButton(self.tr("Add folder…"))
        folder_btn.clicked.connect(self._choose_folder)
        self.remove_btn = QPushButton(self.tr("Remove"))
        self.remove_btn.clicked.connect(self._remove_selected)
        top = QHBoxLayout()
        for w in (QLabel(self.tr("Library:")), self.library_box, new_btn):
            top.addWidget(w)
        top.addStretch(1)
        for w in (self.add_btn, folder_btn, self.remove_btn):
            top.addWidget(w)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setStyleSheet("color: palette(mid);")
        self.hint = QLabel(self.tr("Drop PDF files or folders here, or press Ctrl+O."))
        self.hint.setStyleSheet("color: palette(mid);")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress_label = QLabel("")
        self.cancel_btn = QPushButton(self.tr("Cancel"))
        self.cancel_btn.clicked.connect(self.cancel_requested)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress_label, 2)
        bottom.addWidget(self.progress, 3)
        bottom.addWidget(self.cancel_btn)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint)
        layout.addLayout(bottom)
        self.set_ingesting(False)

    # -- libraries ----------------------------------------------------------------------------
    def set_libraries(self, current: Path) -> None:
        """List the named libraries (folders under libraries_dir) and select `current`."""
        root = config.libraries_dir()
        folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        if current not in folders:
            folders.append(current)
        self.library_box.clear()
        for folder in folders:
            self.library_box.addItem(folder.name, str(folder))
        self.library_box.setCurrentIndex(folders.index(current))

    def _on_library_picked(self, index: int) -> None:
        self.library_requested.emit(str(self.library_box.itemData(index)))

    def _new_library(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("New library"),
                                        self.tr("Name of the new library:"))
        name = name.strip().replace("/", "-")
        if ok and name:
            self.library_requested.emit(str(config.libraries_dir() / name))

    # -- documents ----------------------------------------------------------------------------
    def set_details(self, text: str) -> None:
        """Show how the library searches (embedder, BM25 words, chunking)."""
        self.details.setText(text)

    def set_documents(self, documents: list) -> None:
        """Show the library's documents, followed by files that failed in the last add."""
        rows = [DocumentRow(d.name, d.pages, d.chunks, d.added_at, path=str(d.path),
                            ocr_pages=getattr(d, "ocr_pages", 0),
                            ocr_confidence=getattr(d, "ocr_confidence", None))
                for d in documents]
        self.model.set_rows(rows + self._errors)

    def show_outcomes(self, outcomes: list, documents: list) -> None:
        """After an add: errors stay listed next to their file until the next add."""
        self._errors = [
            DocumentRow(Path(o.path).name, None, None, "", "error", o.error or "", str(o.path))
            for o in outcomes if o.status == "error"
        ]
        self.set_documents(documents)
        added = sum(o.status == "added" for o in outcomes)
        dupes = sum(o.status == "duplicate" for o in outcomes)
        parts = [self.tr("{n} added").format(n=added)]
        parts += [self.tr("{n} already there").format(n=dupes)] if dupes else []
        parts += [self.tr("{n} failed").format(n=len(self._errors))] if self._errors else []
        if any(o.status == "cancelled" for o in outcomes):
            parts.append(self.tr("cancelled; the pages OCR read are kept: add the file again "
                                 "to go on from there") if self._ocr_seen
                         else self.tr("cancelled"))
        self.progress_label.setText(", ".join(parts))

    def _remove_selected(self) -> None:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        names = [self.model.record(r).name for r in sorted(rows)
                 if self.model.record(r).status != "error"]
        if not names:
            return
        answer = QMessageBox.question(
            self, self.tr("Remove documents"),
            self.tr("Remove from the library?\n\n{names}\n\nThe PDF files themselves are not "
                    "deleted.").format(names="\n".join(names)),
        )
        if answer == QMessageBox.StandardButton.Yes:
            for name in names:
                self.remove_requested.emit(name)

    # -- adding -------------------------------------------------------------------------------
    def choose_pdfs(self) -> None:
        """Ask for PDF files and request adding them."""
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Add PDFs"),
                                                self.folders.start("pdfs"),
                                                self.tr("PDF files (*.pdf)"))
        if files:
            self.folders.remember("pdfs", files[0])
            self.add_requested.emit(files)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add a folder of PDFs"),
                                                  self.folders.start("pdfs"))
        if folder:
            self.folders.remember("pdfs", folder, is_folder=True)
            self.add_requested.emit([folder])

    def set_ingesting(self, on: bool, n_files: int = 1) -> None:
        """Show or hide the progress row; buttons that change the library wait meanwhile."""
        self.progress.setVisible(on)
        self.cancel_btn.setVisible(on)
        for button in (self.add_btn, self.folder_btn, self.remove_btn):
            button.setEnabled(not on)
        if on:
            self._files = (0, max(1, n_files))
            self._rate = StageRate()
            self._ocr_seen = False
            self.progress.setValue(0)
            self.progress_label.setText(self.tr("Starting…"))

    def show_error(self, message: str) -> None:
        """An add that failed as a whole; the label may be cut, so the tooltip has it all."""
        self.progress_label.setText(message)
        self.progress_label.setToolTip(message)

    def on_progress(self, event: ProgressEvent) -> None:
        """Render one core progress event."""
        if event.stage == "files":
            self._files = (event.done, max(1, event.total))
        frac = overall_fraction(event, *self._files)
        self.progress.setValue(round(frac * 100))
        stage = STAGE_NAMES.get(event.stage)
        what = translate("LibraryPanel", stage) if stage else event.stage
        name = f" — {event.message}" if event.message and event.stage != "chunks" else ""
        self._ocr_seen = self._ocr_seen or event.stage == "ocr"
        rate = self._rate.update(event)
        pace = f" · {rate_text(*rate)}" if rate is not None and event.stage == "ocr" else ""
        self.progress_label.setText(f"{what} {event.done}/{event.total}{pace}{name}")

    # -- drag and drop ------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept local files and folders."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Request adding the dropped PDFs and folders."""
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.add_requested.emit(paths)
