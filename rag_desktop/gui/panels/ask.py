"""The Ask area: question, streamed answer, timings, sources, and the page of a source."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from rag_desktop.grounding import Grounding, grounded
from rag_desktop.gui.panels.pdf_view import PdfPane
from rag_desktop.gui.table_models import Column, RecordTableModel, fmt_float


def sources_model() -> RecordTableModel[Any]:
    """The sources table over the answer's list of pipeline.Source."""
    return RecordTableModel([
        Column("#", lambda s: s.rank),
        Column("File", lambda s: s.file),
        Column("Page", lambda s: s.page, tooltip=lambda s: f"printed label: {s.page_label}"),
        Column("Snippet", lambda s: " ".join(s.text.split())[:160], tooltip=lambda s: s.text),
        Column("BM25", lambda s: s.bm25, fmt_float(2)),
        Column("Dense", lambda s: s.dense, fmt_float(3)),
        Column("Fused", lambda s: s.fused, fmt_float(4)),
        # The innermost heading; the whole path (Chapter > Section > ...) on hover.
        Column("Section", lambda s: s.section.rsplit(" > ", 1)[-1], tooltip=lambda s: s.section),
    ])


UNSUPPORTED_STYLE = "background-color:#fde2e1"  # a sentence that no cited passage supports


def answer_grounding(answer: Any) -> Grounding | None:
    """Which sentences of a finished answer its sources support; None when refused or unscored."""
    if answer.grounded is None or answer.is_refused:
        return None
    found = grounded(answer.text, [s.text for s in answer.sources])
    return found if found.share is not None else None


def answer_html(text: str, grounding: Grounding | None) -> str:
    """The answer as HTML, its unsupported sentences highlighted (plain text stays plain)."""
    out, pos = [], 0
    for sentence in grounding.sentences if grounding else []:
        at = text.find(sentence.text, pos)
        if at < 0 or sentence.supported:
            continue
        out.append(html.escape(text[pos:at]))
        out.append(f"<span style='{UNSUPPORTED_STYLE}'>{html.escape(sentence.text)}</span>")
        pos = at + len(sentence.text)
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def metrics_text(answer: Any, cosine: float | None, grounding: Grounding | None = None) -> str:
    """The line under an answer: refusal or grounded share, times, rate, model (and cosine)."""
    t, m = answer.timings, answer.model
    parts = []
    if answer.refused:  # the relevance gate: the model never ran
        return (f"<b>Not in the documents</b>: nothing in the library looks relevant, so "
                f"{html.escape(m.id)} was not asked (retrieval {t.retrieval_s * 1000:.0f} ms). "
                "The closest passages are listed below. To ask the model anyway, turn off "
                "Settings → Relevance gate.")
    if answer.is_refused:
        parts.append("<b>refused</b>: the model found no answer in the passages")
    elif grounding is not None:
        note = " (unsupported ones highlighted)" if grounding.unsupported else ""
        parts.append(f"grounded <b>{grounding.supported}/{len(grounding.sentences)}</b> "
                     f"sentences{note}")
    parts += [
        f"<b>{t.total_s:.2f} s</b> total", f"first token {t.first_token_s * 1000:.0f} ms",
        f"{t.tokens_per_s:.1f} tok/s", f"retrieval {t.retrieval_s * 1000:.0f} ms",
        f"{m.id} ({m.quant}, {m.backend})",
    ]
    if cosine is not None:
        parts.append(f"cosine to reference <b>{cosine:.3f}</b>")
    if answer.stopped:
        parts.append("<i>stopped</i>")
    if answer.dropped_chunks:
        parts.append(f"{answer.dropped_chunks} chunk(s) left out to fit the context")
    return " · ".join(parts)


ANSWER_PLACEHOLDER = "The answer streams here."


class AskPanel(QWidget):
    """Emits ask/stop requests and source clicks; renders tokens and answers."""

    ask_requested = Signal(str, str)  # question, reference answer
    stop_requested = Signal()
    source_activated = Signal(object)  # pipeline.Source

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sources = sources_model()
        self.tokens_seen = 0
        self._build()
        self.set_running(False)

    def _build(self) -> None:
        self.question = QPlainTextEdit()
        self.question.setPlaceholderText("Ask a question about your PDFs… (Ctrl+Enter)")
        self.question.setMaximumHeight(80)
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("Optional reference answer: shows the cosine similarity")
        self.ask_btn = QPushButton("Ask")
        self.ask_btn.setDefault(True)
        self.ask_btn.clicked.connect(self.request_ask)
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.clicked.connect(self.stop_requested)
        buttons = QVBoxLayout()
        buttons.addWidget(self.ask_btn)
        buttons.addWidget(self.stop_btn)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        row.addLayout(buttons)
        self.answer = QTextBrowser()
        self.answer.setPlaceholderText(ANSWER_PLACEHOLDER)
        self.metrics = QLabel("")
        self.metrics.setTextFormat(Qt.TextFormat.RichText)
        self.metrics.setWordWrap(True)
        self.table = self._sources_table()
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.reference)
        lay.addWidget(self.answer, 3)
        lay.addWidget(self.metrics)
        lay.addWidget(QLabel("<b>Sources</b> — click one to see its page"))
        lay.addWidget(self.table, 2)
        self.pdf = PdfPane()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.pdf)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

    def _sources_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.sources)
        table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        table.verticalHeader().hide()
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        table.clicked.connect(self._on_source_clicked)
        table.activated.connect(self._on_source_clicked)
        return table

    def request_ask(self) -> None:
        """Emit an ask for the typed question (ignored while one runs or when empty)."""
        text = self.question.toPlainText().strip()
        if text and self.ask_btn.isEnabled():
            self.ask_requested.emit(text, self.reference.text().strip())

    def set_running(self, running: bool) -> None:
        """Ask is available when idle; Stop while an answer streams."""
        self.ask_btn.setEnabled(not running)
        self.stop_btn.setEnabled(running)

    def set_waiting(self, text: str) -> None:
        """Say what the app is getting ready (startup) where the answer will stream; '' when
        it is ready. The question can be typed meanwhile."""
        self.answer.setPlaceholderText(text or ANSWER_PLACEHOLDER)

    def start_answer(self) -> None:
        """Clear the last answer before tokens stream in."""
        self.tokens_seen = 0
        self.answer.clear()
        self.metrics.setText("<i>Retrieving and generating…</i>")
        self.sources.set_rows([])
        self.pdf.clear()  # the last answer's page must not stand beside the new sources
        self.set_running(True)

    def show_sources(self, sources: list[Any]) -> None:
        """The sources, as soon as retrieval returns: the reader can look while it streams."""
        self.sources.set_rows(sources)
        self.metrics.setText("<i>Generating…</i>")

    def append_token(self, piece: str) -> None:
        """Add one streamed piece at the end of the answer."""
        self.tokens_seen += 1
        cursor = self.answer.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
        self.answer.setTextCursor(cursor)

    def show_answer(self, answer: Any, cosine: float | None) -> None:
        """The final answer text (unsupported sentences highlighted), its metrics and sources."""
        grounding = answer_grounding(answer)
        if grounding is not None and grounding.unsupported:
            self.answer.setHtml(answer_html(answer.text, grounding))
        else:
            self.answer.setPlainText(answer.text or "(no answer)")
        self.metrics.setText(metrics_text(answer, cosine, grounding))
        self.sources.set_rows(answer.sources)
        self.set_running(False)

    def show_error(self, message: str) -> None:
        """An ask that failed."""
        self.metrics.setText(f"<span style='color:#b3261e'>{message}</span>")
        self.set_running(False)

    def _on_source_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.source_activated.emit(self.sources.record(index.row()))
