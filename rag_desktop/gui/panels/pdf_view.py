"""The in-app page view: QPdfView at a source's page, the cited passage highlighted on it,
and the system viewer as the fallback."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QPoint, QPointF, QRect, QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from rag_desktop.gui.i18n import QT_TRANSLATE_NOOP
from rag_desktop.library.ocr_cache import page_words
from rag_desktop.library.passage import find_passage, word_boxes

# lupdate reads translate("Context", "text") calls; PLACEHOLDER is English, shown translated.
translate = QCoreApplication.translate
PLACEHOLDER = QT_TRANSLATE_NOOP("PdfPane", "Click a source to see its page here.")
HIGHLIGHT = QColor(255, 221, 0, 96)  # translucent yellow: the text stays readable under it
SCROLL_CONTEXT_PX = 24  # room left above the passage's first line when scrolling to it


def open_url(url: QUrl) -> bool:
    """Hand a URL to the desktop (a module function, so tests can stand in for the desktop)."""
    return bool(QDesktopServices.openUrl(url))


def no_viewer_message(path: Path) -> str:
    """What the user reads when no application opens the PDF: the file, and what to do."""
    return translate("PdfPane", "No PDF viewer could be started for {path}. Install a PDF "
                     "viewer or open the file from your file manager (the path can be selected "
                     "and copied).").format(path=path)


class PdfPane(QWidget):
    """A PDF shown one page at a time, with a title and an "open in system viewer" button."""

    viewer_failed = Signal(str)  # the message shown when no system viewer opened the file

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = QPdfDocument(self)
        self.view = HighlightView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.SinglePage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.title = QLabel(self.tr(PLACEHOLDER))
        self.title.setWordWrap(True)
        # The path in a "no viewer" message must be copyable, so the user can act on it.
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.external_btn = QPushButton(self.tr("Open in viewer"))
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
                  fallback: bool = True, passage: str | None = None,
                  scanned: tuple[Path | None, str] | None = None) -> bool:
        """Show 1-based `page` of `path`; fall back to the system viewer when Qt cannot
        (only when `fallback`: a preview shown by itself never opens another window).

        With `passage` (a chunk's cleaned text), the part of it found on the page is
        highlighted and scrolled into view; a passage not found there just shows the page.
        A scanned page has no text layer: `scanned` (library folder, document sha256) finds
        the OCR word boxes kept for it (a small JSON file; ocr_cache is light, no engine)."""
        self.path, self.page = Path(path), page
        self.view.set_highlight(-1, [])
        self.external_btn.setEnabled(True)
        if self.document.status() != QPdfDocument.Status.Ready or self._loaded != self.path:
            self.document.load(str(path))
            self._loaded = self.path
        if self.document.status() != QPdfDocument.Status.Ready:
            text = (self.tr("{name}: cannot show it here; opened in the viewer") if fallback
                    else self.tr("{name}: cannot show it here"))
            self.title.setText(text.format(name=Path(path).name))
            if fallback:
                self.open_external()
            return False
        index = max(0, min(page - 1, self.document.pageCount() - 1))
        self.view.pageNavigator().jump(index, QPointF(0, 0), 0)
        rects = passage_rects(self.document, index, passage) if passage else []
        if passage and not rects and scanned is not None and scanned[0] is not None:
            words = page_words(scanned[0], scanned[1], index + 1)
            rects = [QRectF(QPointF(a, b), QPointF(c, d))
                     for a, b, c, d in word_boxes(words, passage)]
        self.view.set_highlight(index, rects)
        if not rects:  # the page's top, not where the last passage was (the same page kept it)
            self.view.verticalScrollBar().setValue(0)
        self.title.setText(self._title(Path(path).name, page, label))
        return True

    _loaded: Path | None = None

    def _title(self, name: str, page: int, label: str | None) -> str:
        """'<b>manual.pdf</b> — p. ix (PDF p. 14 of 120)': the printed label first, as in the
        sources table and the exports (answer.page_ref)."""
        count = self.document.pageCount()
        if label and label != str(page):
            text = self.tr("<b>{name}</b> — p. {label} (PDF p. {page} of {count})")
        else:
            text = self.tr("<b>{name}</b> — page {page} of {count}")
        return text.format(name=name, page=page, label=label, count=count)

    def clear(self) -> None:
        """Show no page: a new question's preview must not keep the last answer's page."""
        self.view.set_highlight(-1, [])
        self.document.close()
        self._loaded = None
        self.path, self.page = None, 0
        self.external_btn.setEnabled(False)
        self.title.setText(self.tr(PLACEHOLDER))

    def highlight_rects(self) -> list[QRectF]:
        """The highlighted rectangles, in points on the page shown ([] without a passage)."""
        return self.view.highlight_rects()

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


def passage_rects(document: QPdfDocument, index: int, passage: str) -> list[QRectF]:
    """Rectangles in page points (one a line, from Qt PDF's text layer) that show the part
    of `passage` on page `index` (0-based); [] when it is not on that page."""
    span = find_passage(document.getAllText(index).text(), passage)
    if span is None:
        return []
    selection = document.getSelectionAtIndex(index, span[0], span[1] - span[0])
    return [polygon.boundingRect() for polygon in selection.bounds()]


class HighlightView(QPdfView):
    """A QPdfView that paints translucent rectangles, given in page points, over one page.

    QPdfView does not expose where it draws a page, so `page_geometry` mirrors Qt's private
    QPdfViewPrivate::calculateDocumentLayout (Qt 6.4-6.12: margins, page spacing, screen
    DPI / 72, the page centred). Its own search highlight cannot be used: it scales by
    zoomFactor, which FitToWidth leaves at 1, and it finds only short strings.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._page = -1
        self._rects: list[QRectF] = []
        # Until the user scrolls, a resize (the pane laid out, a scroll bar appearing) scrolls
        # to the passage again: FitToWidth rescales the page, which moves it.
        self._follow = False
        self.verticalScrollBar().actionTriggered.connect(self._user_scrolled)

    def set_highlight(self, page: int, rects: list[QRectF]) -> None:
        """Highlight `rects` (page points) on 0-based `page`, and scroll to the first one."""
        self._page, self._rects = page, [QRectF(rect) for rect in rects]
        self._follow = bool(self._rects)
        self.scroll_to_highlight()
        self.viewport().update()

    def highlight_rects(self) -> list[QRectF]:
        """The highlighted rectangles in page points."""
        return [QRectF(rect) for rect in self._rects]

    def highlighted_page(self) -> int:
        """The 0-based page the rectangles are on (-1 without a highlight)."""
        return self._page if self._rects else -1

    def page_geometry(self, page: int) -> QRect | None:
        """Where 0-based `page` is drawn, in content pixels (viewport + scroll offsets)."""
        return self._layout().get(page)

    def viewport_rects(self) -> list[QRectF]:
        """The highlighted rectangles in viewport pixels ([] while their page is not shown)."""
        geometry = self.page_geometry(self._page) if self._rects else None
        document = self.document()
        if geometry is None or document is None:
            return []
        points = document.pagePointSize(self._page)
        sx, sy = geometry.width() / points.width(), geometry.height() / points.height()
        dx = geometry.x() - self.horizontalScrollBar().value()
        dy = geometry.y() - self.verticalScrollBar().value()
        return [QRectF(dx + r.x() * sx, dy + r.y() * sy, r.width() * sx, r.height() * sy)
                for r in self._rects]

    def scroll_to_highlight(self) -> None:
        """Scroll so that the first highlighted line sits near the top of the viewport."""
        rects = self.viewport_rects()
        if rects:
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() + int(rects[0].top()) - SCROLL_CONTEXT_PX)

    def paintEvent(self, event: QPaintEvent) -> None:
        """The page, then the highlight over it."""
        super().paintEvent(event)
        rects = self.viewport_rects()
        if not rects:
            return
        painter = QPainter(self.viewport())
        for rect in rects:
            painter.fillRect(rect.adjusted(-1, -1, 1, 1), HIGHLIGHT)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the passage in view while the pane is laid out, until the user scrolls."""
        super().resizeEvent(event)
        if self._follow:
            self.scroll_to_highlight()

    def _user_scrolled(self, _action: int) -> None:
        self._follow = False

    def _layout(self) -> dict[int, QRect]:
        """{page: QRect in content pixels}, as QPdfViewPrivate::calculateDocumentLayout."""
        document = self.document()
        if document is None or document.status() != QPdfDocument.Status.Ready:
            return {}
        margins, viewport = self.documentMargins(), self.viewport().size()
        if self.pageMode() == QPdfView.PageMode.SinglePage:
            pages = [self.pageNavigator().currentPage()]
        else:
            pages = list(range(document.pageCount()))
        sizes = {page: self._page_size(document, page, viewport) for page in pages}
        total_width = max((size.width() for size in sizes.values()), default=0)
        total_width += margins.left() + margins.right()
        out: dict[int, QRect] = {}
        y = margins.top()
        for page in pages:
            size = sizes[page]
            x = (max(total_width, viewport.width()) - size.width()) // 2
            out[page] = QRect(QPoint(x, y), size)
            y += size.height() + self.pageSpacing()
        return out

    def _page_size(self, document: QPdfDocument, page: int, viewport: QSize) -> QSize:
        """A page's size in pixels, with Qt's rounding."""
        margins = self.documentMargins()
        screen = QGuiApplication.primaryScreen()
        resolution = screen.logicalDotsPerInch() / 72.0 if screen is not None else 1.0
        points = document.pagePointSize(page)
        mode = self.zoomMode()
        if mode == QPdfView.ZoomMode.Custom:
            return (points * resolution * self.zoomFactor()).toSize()
        size = (points * resolution).toSize()
        if mode == QPdfView.ZoomMode.FitToWidth:
            width = viewport.width() - margins.left() - margins.right()
            return size * (width / size.width())
        room = viewport + QSize(-margins.left() - margins.right(), -self.pageSpacing())
        return size.scaled(room, Qt.AspectRatioMode.KeepAspectRatio)
