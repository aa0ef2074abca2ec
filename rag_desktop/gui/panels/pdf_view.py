"""The in-app page view: QPdfView at a source's page, the system viewer as the fallback."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class PdfPane(QWidget):
    """A PDF shown one page at a time, with a title and an "open in system viewer" button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = QPdfDocument(self)
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.SinglePage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.title = QLabel("Click a source to see its page here.")
        self.title.setWordWrap(True)
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

    def show_page(self, path: Path, page: int, label: str | None = None) -> bool:
        """Show 1-based `page` of `path`; fall back to the system viewer when Qt cannot."""
        self.path, self.page = Path(path), page
        self.external_btn.setEnabled(True)
        if self.document.status() != QPdfDocument.Status.Ready or self._loaded != self.path:
            self.document.load(str(path))
            self._loaded = self.path
        if self.document.status() != QPdfDocument.Status.Ready:
            self.title.setText(f"{Path(path).name}: cannot show it here; opened in the viewer")
            self.open_external()
            return False
        index = max(0, min(page - 1, self.document.pageCount() - 1))
        self.view.pageNavigator().jump(index, QPointF(0, 0), 0)
        printed = f" (printed {label})" if label and label != str(page) else ""
        self.title.setText(f"<b>{Path(path).name}</b> — page {page}{printed} of "
                           f"{self.document.pageCount()}")
        return True

    _loaded: Path | None = None

    def current_page(self) -> int:
        """The 1-based page on screen."""
        return self.view.pageNavigator().currentPage() + 1

    def open_external(self) -> None:
        """Open the PDF in the system viewer (with #page=N, which most viewers honour)."""
        if self.path is None:
            return
        url = QUrl.fromLocalFile(str(self.path))
        url.setFragment(f"page={self.page}")
        QDesktopServices.openUrl(url)
