"""The Ask area's conversations: routes questions, regenerates and the sidebar to the engine,
and the engine's tokens, sources, answers and conversation lists back to the Ask panel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

if TYPE_CHECKING:
    from rag_desktop.gui.client import EngineClient
    from rag_desktop.gui.files import Folders
    from rag_desktop.gui.messages import AskResult
    from rag_desktop.gui.panels.ask import AskPanel

Notify = Callable[[str], None]
ShowSource = Callable[..., None]


class ChatController(QObject):
    """Owns which conversation is on screen and which ask job streams into it."""

    def __init__(self, panel: AskPanel, client: EngineClient, folders: Folders,
                 notify: Notify, show_source: ShowSource) -> None:
        super().__init__(panel)
        self.panel, self.client, self.folders = panel, client, folders
        self.notify, self.show_source = notify, show_source
        self.conversation_id: str | None = None  # None: a new conversation, saved at its answer
        self.ask_job = 0  # the ask whose tokens the Ask panel shows
        self.streaming = False  # until its answer (or failure) arrives
        side = panel.sidebar
        side.new_requested.connect(self.new_conversation)
        side.open_requested.connect(self.open_conversation)
        side.rename_requested.connect(client.rename_conversation)
        side.delete_requested.connect(self._delete)
        side.export_requested.connect(self.export_conversation)
        panel.ask_requested.connect(self.ask)
        panel.regenerate_requested.connect(self.regenerate)
        client.token.connect(self._on_token)
        client.sources_found.connect(self._on_sources)
        client.answered.connect(self._on_answered)
        client.conversations_listed.connect(self._on_listed)
        client.conversation_opened.connect(self._on_opened)

    def ask(self, question: str, reference: str = "") -> None:
        """Ask `question` as the next turn of the conversation on screen."""
        self.panel.start_answer(question)
        self.panel.question.clear()
        self.streaming = True
        self.ask_job = self.client.ask(question, reference, self.conversation_id).id

    def regenerate(self, turn: int) -> None:
        """Ask turn `turn` again with the current model; its earlier answer stays above."""
        if self.conversation_id is None:
            return
        self.panel.start_answer(regenerate=turn)
        self.streaming = True
        self.ask_job = self.client.ask("", "", self.conversation_id, turn).id

    def new_conversation(self) -> None:
        """An empty conversation; it is saved when its first answer is."""
        if self._busy():
            return
        self.conversation_id = None
        self.panel.new_conversation()
        self.panel.sidebar.select(None)
        self.panel.question.setFocus()

    def open_conversation(self, conversation_id: str) -> None:
        """Show a saved conversation (read in the engine thread)."""
        if self._busy():
            self.panel.sidebar.select(self.conversation_id)
            return
        self.client.open_conversation(conversation_id)

    def export_conversation(self, conversation_id: str) -> None:
        """Save a conversation as Markdown or CSV where the user chooses."""
        path, _ = QFileDialog.getSaveFileName(
            self.panel, self.tr("Export conversation"),
            self.folders.start("exports", "conversation.md"),
            self.tr("Markdown (*.md);;CSV (*.csv)"))
        if path:
            self.folders.remember("exports", path)
            self.client.export_conversation(conversation_id, Path(path))

    def failed(self, job_id: int, message: str) -> None:
        """An ask that failed or was cancelled: the reason under what streamed."""
        if job_id == self.ask_job:
            self.ask_job = 0  # tokens of a question cancelled as it started are dropped
            self.streaming = False
            self.panel.show_error(message)

    def _busy(self) -> bool:
        if self.streaming:
            self.notify(self.tr("An answer is streaming: stop it first (Esc)."))
            return True
        return False

    def _delete(self, conversation_id: str) -> None:
        if conversation_id == self.conversation_id:
            if self._busy():
                return
            self.new_conversation()
        self.client.delete_conversation(conversation_id)

    def _on_token(self, job_id: int, piece: str) -> None:
        if job_id == self.ask_job:
            self.panel.append_token(piece)

    def _on_sources(self, job_id: int, found: list[Any]) -> None:
        if job_id == self.ask_job:
            self.panel.show_sources(found)

    def _on_answered(self, job_id: int, result: AskResult) -> None:
        if job_id != self.ask_job:
            return
        self.streaming = False
        self.panel.show_answer(result.answer, result.cosine)
        self.conversation_id = result.conversation_id
        self.panel.sidebar.select(result.conversation_id)
        self._preview(result.answer.sources)

    def _on_listed(self, infos: list[Any]) -> None:
        self.panel.sidebar.set_conversations(infos, self.conversation_id)

    def _on_opened(self, _job_id: int, conversation: Any) -> None:
        self.conversation_id = conversation.id
        self.panel.show_conversation(conversation.turns)
        self.panel.sidebar.select(conversation.id)
        if conversation.turns:
            self._preview(conversation.turns[-1].answer.sources)

    def _preview(self, sources: list[Any]) -> None:
        """The page view follows the answer (it was cleared when the question was asked)."""
        if sources:
            self.panel.table.selectRow(0)
            self.show_source(sources[0], preview=True)
