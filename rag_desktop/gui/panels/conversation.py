"""The conversation view: the turns scroll, each answer streams in place with its citations.

A turn card shows the question and its answers: the current one last, and the ones it had
before a Regenerate above it, each with its own model and timings line, so two models can be
compared on one question. Citations [1], [2] are links; a click names the source.
"""

from __future__ import annotations

import html
import re
from typing import Any

from PySide6.QtCore import QCoreApplication, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QResizeEvent, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from rag_desktop.answer import source_ref
from rag_desktop.grounding import with_citations
from rag_desktop.gui.panels.answer_text import (
    answer_grounding,
    answer_html,
    answer_label,
    metrics_text,
)

_LINKABLE = re.compile(r"\[(\d{1,2})\]")
CITE_SCHEME = "cite"


def linked_citations(answer_markup: str, n_sources: int) -> str:
    """Turn every "[n]" naming one of the sources into a link the view can follow."""
    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if not 1 <= n <= n_sources:
            return m.group(0)
        return f"<a href='{CITE_SCHEME}:{n}'>[{n}]</a>"

    return _LINKABLE.sub(link, answer_markup)


def display_html(answer: Any) -> str:
    """A finished answer as the view shows it: citations added where the model left them out,
    linked, and the sentences no passage supports highlighted."""
    passages = [s.text for s in answer.sources]
    text = (with_citations(answer.text, passages) if answer.text
            else QCoreApplication.translate("AnswerBlock", "(no answer)"))
    return linked_citations(answer_html(text, answer_grounding(answer)), len(passages))


def copy_text(answer: Any) -> str:
    """What Copy puts on the clipboard: the answer, then its numbered sources."""
    lines = [answer.text.strip()]
    if answer.sources:
        lines.append("")
        lines += [f"[{s.rank}] {source_ref(s)}" for s in answer.sources]
    return "\n".join(lines)


class AnswerText(QTextBrowser):
    """A read-only answer as tall as its text, so the turns scroll together, not one by one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().contentsChanged.connect(self._fit)
        self._fit()

    def _fit(self) -> None:
        self.document().setTextWidth(self.viewport().width())
        self.setFixedHeight(int(self.document().size().height()) + 6)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-wrap at the new width and take the height the text needs."""
        super().resizeEvent(event)
        self._fit()

    def sizeHint(self) -> QSize:
        """As wide as offered, as tall as the text."""
        return QSize(super().sizeHint().width(), self.height())


class AnswerBlock(QFrame):
    """One answer: its text (streamed, then rendered with links), its line of metrics, and
    Copy, Regenerate and Stop."""

    cite_clicked = Signal(int)  # 1-based source number
    regenerate_requested = Signal()
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.answer: Any = None
        self.streaming = False
        self.text = AnswerText()
        self.text.anchorClicked.connect(self._on_link)
        self.metrics = QLabel("")
        self.metrics.setTextFormat(Qt.TextFormat.RichText)
        self.metrics.setWordWrap(True)
        self.metrics.setStyleSheet("color:#555")
        self.copy_btn = QPushButton(self.tr("Copy"))
        self.copy_btn.clicked.connect(self.copy)
        self.regen_btn = QPushButton(self.tr("Regenerate"))
        self.regen_btn.setToolTip(self.tr("Ask this question again with the current model; "
                                          "this answer is kept above the new one"))
        self.regen_btn.clicked.connect(self.regenerate_requested)
        self.stop_btn = QPushButton(self.tr("Stop"))
        self.stop_btn.clicked.connect(self.stop_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.metrics, 1)
        for button in (self.stop_btn, self.copy_btn, self.regen_btn):
            button.setFlat(True)
            buttons.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.set_streaming(False)

    def set_streaming(self, streaming: bool) -> None:
        """Stop while it streams; Copy and Regenerate once it is done."""
        self.streaming = streaming
        self.stop_btn.setVisible(streaming)
        self.copy_btn.setVisible(not streaming)
        self.regen_btn.setVisible(not streaming)

    def begin(self, status: str) -> None:
        """Start streaming: empty text and a line that says what is happening."""
        self.answer = None
        self.text.clear()
        self.metrics.setText(f"<i>{html.escape(status)}</i>")
        self.set_streaming(True)

    def append(self, piece: str) -> None:
        """One streamed piece at the end."""
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)

    def finish(self, answer: Any, cosine: float | None = None, label: str = "") -> None:
        """The final answer: citations linked, unsupported sentences marked, its metrics."""
        self.answer = answer
        self.text.setHtml(display_html(answer))
        line = metrics_text(answer, cosine, answer_grounding(answer))
        self.metrics.setText(f"{label}{line}")
        self.set_streaming(False)

    def fail(self, message: str) -> None:
        """A failed or cancelled answer: whatever streamed stays, with the reason."""
        self.metrics.setText(f"<span style='color:#b3261e'>{html.escape(message)}</span>")
        self.set_streaming(False)
        self.regen_btn.setVisible(True)
        self.copy_btn.setVisible(False)

    def copy(self) -> None:
        """The answer and its sources to the clipboard."""
        if self.answer is not None:
            QGuiApplication.clipboard().setText(copy_text(self.answer))

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == CITE_SCHEME and url.path().isdigit():
            self.cite_clicked.emit(int(url.path()))


class TurnCard(QFrame):
    """A question and its answers (earlier ones first, the current one last)."""

    def __init__(self, number: int, question: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = number
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.question = QLabel(f"<b>{html.escape(question)}</b>")
        self.question.setWordWrap(True)
        self.question.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.blocks: list[AnswerBlock] = []
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.question)

    def add_block(self) -> AnswerBlock:
        """A new (current) answer at the bottom; the ones above become earlier answers."""
        block = AnswerBlock()
        self.blocks.append(block)
        self._layout.addWidget(block)
        return block

    @property
    def current(self) -> AnswerBlock:
        """The answer shown last: the one follow-ups build on."""
        return self.blocks[-1]


class ConversationView(QScrollArea):
    """The turns of one conversation; emits what the user clicks on an answer."""

    cite_clicked = Signal(object, int)  # the AnswerBlock, 1-based source number
    regenerate_requested = Signal(int)  # turn number
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.placeholder = QLabel()
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color:#777")
        inner = QWidget()
        self._layout = QVBoxLayout(inner)
        self._layout.addWidget(self.placeholder)
        self._layout.addStretch(1)
        self.setWidget(inner)
        self.cards: list[TurnCard] = []
        self._at_end = True
        self.verticalScrollBar().rangeChanged.connect(self._follow)
        self.verticalScrollBar().valueChanged.connect(self._moved)

    def clear(self) -> None:
        """No turns (a new conversation)."""
        for card in self.cards:
            card.setParent(None)
            card.deleteLater()
        self.cards = []
        self.placeholder.show()

    def add_turn(self, question: str) -> TurnCard:
        """A card for the next turn (its answers are added by the caller)."""
        card = TurnCard(len(self.cards) + 1, question)
        self._layout.insertWidget(self._layout.count() - 1, card)
        self.cards.append(card)
        self.placeholder.hide()
        self._at_end = True
        return card

    def add_block(self, card: TurnCard) -> AnswerBlock:
        """A new answer on `card`, wired to the view's signals."""
        block = card.add_block()
        block.cite_clicked.connect(lambda n, b=block: self.cite_clicked.emit(b, n))
        block.regenerate_requested.connect(lambda c=card: self.regenerate_requested.emit(c.number))
        block.stop_requested.connect(self.stop_requested)
        return block

    def show_turns(self, turns: list[Any]) -> None:
        """A saved conversation: every turn with its earlier and current answers."""
        self.clear()
        for turn in turns:
            card = self.add_turn(turn.question)
            answers = [*turn.earlier, turn.answer]
            for i, answer in enumerate(answers, start=1):
                self.add_block(card).finish(answer, label=answer_label(i, len(answers)))

    def _follow(self, _low: int, high: int) -> None:
        """Keep the newest text in sight while it streams, unless the user scrolled up."""
        if self._at_end:
            self.verticalScrollBar().setValue(high)

    def _moved(self, value: int) -> None:
        self._at_end = value >= self.verticalScrollBar().maximum() - 4

    def scroll_to_end(self) -> None:
        """Show the latest turn."""
        self._at_end = True
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
