"""The Ask area: conversations, the turns of one, the question box, sources and the page view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from rag_desktop.answer import page_ref
from rag_desktop.gui.i18n import QT_TRANSLATE_NOOP
from rag_desktop.gui.panels.answer_text import answer_label
from rag_desktop.gui.panels.conversation import AnswerBlock, ConversationView
from rag_desktop.gui.panels.conversations import ConversationList
from rag_desktop.gui.panels.pdf_view import PdfPane
from rag_desktop.gui.table_models import Column, RecordTableModel, fmt_float


def _page_text(source: Any) -> str:
    """answer.page_ref in the UI's language: "ix (PDF p. 14)", or just the page number."""
    ref = page_ref(source.page, source.page_label)
    if ref == str(source.page):
        return ref
    return QCoreApplication.translate("AskPanel", "{label} (PDF p. {page})").format(
        label=source.page_label, page=source.page)


def _page_tip(source: Any) -> str:
    return QCoreApplication.translate("AskPanel", "PDF page {page} of the file").format(
        page=source.page)


def sources_model() -> RecordTableModel[Any]:
    """The sources table over the answer's list of pipeline.Source (headers translated when
    shown, table_models.header_text)."""
    return RecordTableModel([
        Column("#", lambda s: s.rank),
        Column(QT_TRANSLATE_NOOP("Column", "File"), lambda s: s.file),
        Column(QT_TRANSLATE_NOOP("Column", "Page"), _page_text, tooltip=_page_tip),
        Column(QT_TRANSLATE_NOOP("Column", "Snippet"), lambda s: " ".join(s.text.split())[:160],
               tooltip=lambda s: s.text),
        Column(QT_TRANSLATE_NOOP("Column", "BM25"), lambda s: s.bm25, fmt_float(2)),
        Column(QT_TRANSLATE_NOOP("Column", "Dense"), lambda s: s.dense, fmt_float(3)),
        Column(QT_TRANSLATE_NOOP("Column", "Fused"), lambda s: s.fused, fmt_float(4)),
        # The innermost heading; the whole path (Chapter > Section > ...) on hover.
        Column(QT_TRANSLATE_NOOP("Column", "Section"), lambda s: s.section.rsplit(" > ", 1)[-1],
               tooltip=lambda s: s.section),
    ])


class AskPanel(QWidget):
    """Emits ask, regenerate and stop requests and source clicks; renders the conversation."""

    ask_requested = Signal(str, str)  # question, reference answer
    regenerate_requested = Signal(int)  # turn number
    stop_requested = Signal()
    source_activated = Signal(object)  # pipeline.Source

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sources = sources_model()
        self.tokens_seen = 0
        self.current: AnswerBlock | None = None  # the answer that streams (or streamed last)
        self._build()
        self.set_waiting("")
        self.set_running(False)

    def _build(self) -> None:
        self.sidebar = ConversationList()
        self.conversation = ConversationView()
        self.conversation.cite_clicked.connect(self._on_cite)
        self.conversation.regenerate_requested.connect(self._regenerate)
        self.conversation.stop_requested.connect(self.stop_requested)
        self.question = QPlainTextEdit()
        self.question.setPlaceholderText(self.tr("Ask a question about your PDFs… (Ctrl+Enter)"))
        self.question.setMaximumHeight(70)
        self.reference = QLineEdit()
        self.reference.setPlaceholderText(
            self.tr("Optional reference answer: shows the cosine similarity"))
        self.ask_btn = QPushButton(self.tr("Ask"))
        self.ask_btn.setDefault(True)
        self.ask_btn.clicked.connect(self.request_ask)
        self.stop_btn = QPushButton(self.tr("Stop"))
        self.stop_btn.clicked.connect(self.stop_requested)
        self.status_line = QLabel("")
        self.status_line.setWordWrap(True)
        self.table = self._sources_table()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self._centre())
        self.pdf = PdfPane()
        self.splitter.addWidget(self.pdf)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setStretchFactor(2, 3)
        self.splitter.setSizes([200, 620, 460])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

    def _centre(self) -> QWidget:
        buttons = QVBoxLayout()
        buttons.addWidget(self.ask_btn)
        buttons.addWidget(self.stop_btn)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        row.addLayout(buttons)
        centre = QWidget()
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.conversation, 4)
        lay.addWidget(self.status_line)
        lay.addLayout(row)
        lay.addWidget(self.reference)
        lay.addWidget(QLabel(self.tr("<b>Sources</b> — click one, or a citation such as [1], "
                                     "to see its page")))
        lay.addWidget(self.table, 2)
        return centre

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
        # A long section title would squeeze the snippet; the whole path is its tooltip.
        header.setSectionResizeMode(7, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(7, 150)
        table.clicked.connect(self._on_source_clicked)
        table.activated.connect(self._on_source_clicked)
        return table

    @property
    def metrics(self) -> QLabel:
        """The line under the current answer (the status line before the first one)."""
        return self.current.metrics if self.current is not None else self.status_line

    def answer_text(self) -> str:
        """The current answer's text as shown (streamed so far, or final)."""
        return self.current.text.toPlainText() if self.current is not None else ""

    def waiting_text(self) -> str:
        """What the empty conversation says (startup progress, or how to begin)."""
        return self.conversation.placeholder.text()

    def request_ask(self) -> None:
        """Emit an ask for the typed question (ignored while one runs or when empty)."""
        text = self.question.toPlainText().strip()
        if text and self.ask_btn.isEnabled():
            self.ask_requested.emit(text, self.reference.text().strip())

    def _regenerate(self, turn: int) -> None:
        if self.ask_btn.isEnabled():  # one answer at a time
            self.regenerate_requested.emit(turn)

    def set_running(self, running: bool) -> None:
        """Ask is available when idle; Stop while an answer streams."""
        self.ask_btn.setEnabled(not running)
        self.stop_btn.setEnabled(running)
        for card in self.conversation.cards:
            for block in card.blocks:
                block.regen_btn.setEnabled(not running)

    def set_waiting(self, text: str) -> None:
        """Say what the app is getting ready (startup) where the answers will appear; '' when
        it is ready. The question can be typed meanwhile."""
        self.conversation.placeholder.setText(text or self.tr(
            "Ask a question about your PDFs. Answers stream here with their sources; earlier "
            "conversations are on the left."))

    def new_conversation(self) -> None:
        """An empty conversation: no turns, no sources, no page."""
        self.conversation.clear()
        self.current = None
        self.sources.set_rows([])
        self.pdf.clear()
        self.status_line.clear()

    def show_conversation(self, turns: list[Any]) -> None:
        """A saved conversation's turns; the sources of its last answer."""
        self.new_conversation()
        self.conversation.show_turns(turns)
        if self.conversation.cards:
            self.current = self.conversation.cards[-1].current
            self.sources.set_rows(self.current.answer.sources)
        self.conversation.scroll_to_end()

    def start_answer(self, question: str = "", regenerate: int | None = None) -> None:
        """A new turn for `question` (or a new answer on turn `regenerate`) before tokens
        stream in; the last answer's sources and page go."""
        self.tokens_seen = 0
        view = self.conversation
        card = view.cards[regenerate - 1] if regenerate else view.add_turn(question)
        self.current = view.add_block(card)
        self.current.begin(self.tr("Retrieving and generating…"))
        self.status_line.clear()
        self.sources.set_rows([])
        self.pdf.clear()  # the last answer's page must not stand beside the new sources
        self.set_running(True)

    def show_sources(self, sources: list[Any]) -> None:
        """The sources, as soon as retrieval returns: the reader can look while it streams."""
        self.sources.set_rows(sources)
        generating = self.tr("Generating…")  # lupdate cannot read a tr() inside an f-string
        self.metrics.setText(f"<i>{generating}</i>")

    def append_token(self, piece: str) -> None:
        """Add one streamed piece at the end of the current answer."""
        self.tokens_seen += 1
        if self.current is not None:
            self.current.append(piece)

    def show_answer(self, answer: Any, cosine: float | None) -> None:
        """The final answer (citations linked, unsupported sentences marked), metrics, sources."""
        if self.current is not None:
            n = next(len(c.blocks) for c in self.conversation.cards if self.current in c.blocks)
            self.current.finish(answer, cosine, answer_label(n, n))
        self.sources.set_rows(answer.sources)
        self.set_running(False)

    def show_error(self, message: str) -> None:
        """An ask that failed (or was cancelled): the reason stays under what streamed."""
        if self.current is not None and self.current.streaming:
            self.current.fail(message)
        else:
            self.status_line.setText(f"<span style='color:#b3261e'>{message}</span>")
        self.set_running(False)

    def _on_cite(self, block: AnswerBlock, n: int) -> None:
        """A citation [n]: that answer's sources in the table, row n chosen, its page shown."""
        if block.answer is None or not 1 <= n <= len(block.answer.sources):
            return
        self.sources.set_rows(block.answer.sources)
        self.table.selectRow(n - 1)
        self.source_activated.emit(block.answer.sources[n - 1])

    def _on_source_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.source_activated.emit(self.sources.record(index.row()))
