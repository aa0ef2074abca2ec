"""The engine's conversation jobs: ask a turn, regenerate one, list, open, rename, delete and
export conversations. A mixin of Engine (gui/engine.py), which declares the signals used here.

Every turn goes through chat/service.py, the code the CLI's `ask --conversation` and `chat`
use, and is saved in the session's ConversationStore as it ends (a stopped answer too).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag_desktop.gui.files import normal_permissions
from rag_desktop.gui.job_wrapper import as_job
from rag_desktop.gui.jobs import Job
from rag_desktop.gui.messages import AskResult

if TYPE_CHECKING:
    from rag_desktop.chat.store import ConversationStore
    from rag_desktop.gui.params import Params
    from rag_desktop.library.library import Library
    from rag_desktop.session import Session


class ChatJobs:
    """Conversation jobs; `Engine` supplies the session, the parameters and the signals."""

    if TYPE_CHECKING:  # provided by Engine
        params: Params
        _chosen: str | None
        started: Any
        failed: Any
        finished: Any
        token: Any
        sources_found: Any
        answered: Any
        exported: Any
        conversations_listed: Any
        conversation_opened: Any

        @property
        def session(self) -> Session: ...
        @property
        def library(self) -> Library: ...
        def _load(self, job: Job, model_id: str) -> None: ...
        def _report_model(self, job: Job) -> None: ...

    def _store(self) -> ConversationStore:
        return self.session.conversations()

    def _listed(self) -> None:
        self.conversations_listed.emit(self._store().list())

    @as_job
    def ask(self, job: Job, question: str, reference: str, conversation_id: str | None = None,
            regenerate: int = 0) -> None:
        """Answer `question` as the next turn of `conversation_id` (a new conversation when
        None), or turn `regenerate` again with the current model; tokens stream, sources come
        as soon as retrieval returns, the turn is saved, and the cosine to a reference is given."""
        from rag_desktop.chat.service import ask_in_conversation, regenerate_turn

        if not self.library.documents():
            _searchable, coming = self.library.page_coverage()
            raise RuntimeError(
                f"nothing is searchable yet: {coming} pages are still being added (scanned "
                "pages take seconds each); ask again when the ingestion ends" if coming
                else "the library is empty; add a PDF first")
        if self.session.llm.info is None and self._chosen is not None:
            self._load(job, self._chosen)  # the runner died or a load was lost: load it again
        pipe = self.session.pipeline(self.params.retrieval(), self.params.generation(),
                                     use_cache=False)
        options: dict[str, Any] = {
            "on_token": lambda piece: self.token.emit(job.id, piece),
            "on_sources": lambda found: self.sources_found.emit(job.id, found),
            "cancel": job.cancel_token, "k": self.params.k,
            "bm25_weight": self.params.bm25_weight, "use_cache": False}
        if regenerate and conversation_id is not None:
            turn = regenerate_turn(pipe, self._store(), conversation_id, regenerate, **options)
            cid, number = conversation_id, regenerate
        else:
            cid, turn = ask_in_conversation(pipe, self._store(), question, conversation_id,
                                            **options)
            number = len(self._store().get(cid).turns)
        cosine = None
        if reference.strip() and turn.answer.text:
            from rag_desktop.evaluation.scoring import cosine as cosine_of

            # The evaluation's multilingual scorer, so the Ask tab and results.csv agree.
            cosine = float(cosine_of(self.session.scorer(), turn.answer.text, reference))
        self.answered.emit(job.id, AskResult(turn.answer, reference, cosine, cid, number))
        self._listed()

    @as_job
    def list_conversations(self, job: Job) -> None:
        """The saved conversations, newest first."""
        self._listed()

    @as_job
    def open_conversation(self, job: Job, conversation_id: str) -> None:
        """A saved conversation with all its turns."""
        self.conversation_opened.emit(job.id, self._store().get(conversation_id))

    @as_job
    def rename_conversation(self, job: Job, conversation_id: str, title: str) -> None:
        """Give a conversation a new title."""
        self._store().rename(conversation_id, title)
        self._listed()

    @as_job
    def delete_conversation(self, job: Job, conversation_id: str) -> None:
        """Delete a conversation and its turns."""
        self._store().delete(conversation_id)
        self._listed()

    @as_job
    def export_conversation(self, job: Job, conversation_id: str, path: str) -> None:
        """Write a conversation as Markdown (.md) or CSV (anything else)."""
        from rag_desktop.chat.service import export_conversation

        target = Path(path)
        fmt = "md" if target.suffix.lower() in (".md", ".markdown") else "csv"
        export_conversation(self._store(), conversation_id, fmt, target)
        normal_permissions([target])
        self.exported.emit(job.id, path)
