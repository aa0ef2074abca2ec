"""The in-app page view: QPdfView at a source's page, the system viewer as the fallback."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

PLACEHOLDER = "Click a source to see its page here."


def open_url(url: QUrl) -> bool:
    """Hand a URL to the desktop (a module function, so tests can stand in for the desktop)."""
    return bool(QDesktopServices.openUrl(url))


def no_viewer_message(path: Path) -> str:
    """What the user reads when no application opens the PDF: the file, and what to do."""
    return (f"No PDF viewer could be started for {path}. Install a PDF viewer or open the "
            "file from your file manager (the path can be selected and copied).")


class PdfPane(QWidget):
    """A PDF shown one page at a time, with a title and an "open in system viewer" button."""

    viewer_failed = Signal(str)  # the message shown when no system viewer opened the file

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = QPdfDocument(self)
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.SinglePage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.title = QLabel(PLACEHOLDER)
        self.title.setWordWrap(True)
        # The path in a "no viewer" message must be copyable, so the user can act on it.
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.external_btn = QPushButton("Open in viewer")
        self.external_btn.setEnabled(False)
        self.external_btn.clicked.connect(self.open_external)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.external_btn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.path: Path | None = None
        self.page = 0

    def show_page(self, path: Path, page: int, label: str | None = None,
                  fallback: bool = True) -> bool:
        """Show 1-based `page` of `path`; fall back to the system viewer when Qt cannot
        (only when `fallback`: a preview shown by itself never opens another window)."""
        self.path, self.page = Path(path), page
        self.external_btn.setEnabled(True)
        if self.document.status() != QPdfDocument.Status.Ready or self._loaded != self.path:
            self.document.load(str(path))
            self._loaded = self.path
        if self.document.status() != QPdfDocument.Status.Ready:
            self.title.setText(f"{Path(path).name}: cannot show it here"
                               + ("; opened in the viewer" if fallback else ""))
            if fallback:
                self.open_external()
            return False
        index = max(0, min(page - 1, self.document.pageCount() - 1))
        self.view.pageNavigator().jump(index, QPointF(0, 0), 0)
        printed = f" (printed {label})" if label and label != str(page) else ""
        self.title.setText(f"<b>{Path(path).name}</b> — page {page}{printed} of "
                           f"{self.document.pageCount()}")
        return True

    _loaded: Path | None = None

    def clear(self) -> None:
        """Show no page: a new question's preview must not keep the last answer's page."""
        self.document.close()
        self._loaded = None
        self.path, self.page = None, 0
        self.external_btn.setEnabled(False)
        self.title.setText(PLACEHOLDER)

    def current_page(self) -> int:
        """The 1-based page on screen."""
        return self.view.pageNavigator().currentPage() + 1

    def open_external(self) -> bool:
        """Open the PDF in the system viewer (with #page=N, which most viewers honour).

        When no viewer starts, the pane says so with the file's path and emits
        `viewer_failed`, instead of failing with only a log line."""
        if self.path is None:
            return False
        url = QUrl.fromLocalFile(str(self.path))
        url.setFragment(f"page={self.page}")
        if open_url(url):
            return True
        message = no_viewer_message(self.path)
        self.title.setText(message)
        self.title.setToolTip(str(self.path))
        self.viewer_failed.emit(message)
        return False
