"""What the CLI (and the GUI) call for conversations: ask a turn and save it, list, export, chat.

`ask --conversation ID`, `ask --json`, `conversations [--json]`, `conversations export` and the
`chat` REPL are thin wrappers over these; none of them prints or reads a terminal itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag_desktop.answer import source_ref
from rag_desktop.chat.export import render, write_export
from rag_desktop.chat.store import ConversationStore
from rag_desktop.chat.turns import Turn

if TYPE_CHECKING:
    from rag_desktop.pipeline import Pipeline

Write = Callable[[str], None]


def ask_in_conversation(pipe: Pipeline, store: ConversationStore, question: str,
                        conversation_id: str | None = None, **ask: Any) -> tuple[str, Turn]:
    """Ask `question` as the next turn of the saved conversation `conversation_id` (an id or a
    unique prefix; a new conversation when None), save the turn, and return (id, turn).

    Keyword arguments go to Pipeline.ask_turn (on_token, cancel, k, bm25_weight, fusion,
    strategy, use_cache). A stopped answer is saved too, as the user saw it.
    """
    cid = store.resolve(conversation_id) if conversation_id else store.create().id
    turns = store.get(cid).turns
    turn = pipe.ask_turn(question, turns, **ask)
    store.append_turn(cid, turn)
    return cid, turn


def regenerate_turn(pipe: Pipeline, store: ConversationStore, conversation_id: str, n: int,
                    **ask: Any) -> Turn:
    """Ask turn `n` (1-based) of a saved conversation again, with the turns before it as the
    conversation and the pipeline's current model; the new answer replaces the turn's answer,
    which is kept in `Turn.earlier` (so two models can be compared on one question).

    Keyword arguments go to Pipeline.ask_turn, as in ask_in_conversation.
    """
    turns = store.get(conversation_id).turns
    if not 1 <= n <= len(turns):
        raise ValueError(f"the conversation has {len(turns)} turns; there is no turn {n}")
    old = turns[n - 1]
    fresh = pipe.ask_turn(old.question, turns[: n - 1], **ask)
    turn = replace(fresh, earlier=[*old.earlier, old.answer], created_at=old.created_at)
    store.replace_turn(conversation_id, n, turn)
    return turn


def turn_json(conversation_id: str, turn: Turn) -> dict[str, Any]:
    """`ask --json`'s document: the answer's, plus `conversation` and the retrieved `query`."""
    return {**turn.answer.to_json(), "conversation": conversation_id, "query": turn.query,
            "strategy": turn.strategy}


def list_json(store: ConversationStore) -> list[dict[str, Any]]:
    """`conversations --json`: every conversation, newest first, with title and turn count."""
    return [info.to_json() for info in store.list()]


def list_lines(store: ConversationStore) -> list[str]:
    """`conversations`: one line a conversation: short id, turns, last change, title."""
    return [f"{info.id[:8]}  {info.n_turns:3d} turns  {info.updated_at[:16]}  {info.title}"
            for info in store.list()]


def export_conversation(store: ConversationStore, conversation_id: str, fmt: str,
                        path: Path | None = None) -> str:
    """`conversations export ID --format md|csv [--output PATH]`: the text, also written to
    `path` when given (CSV with a BOM there, for spreadsheet apps)."""
    conv = store.get(store.resolve(conversation_id))
    if path is not None:
        write_export(path, conv, fmt)
    return render(conv, fmt)


@dataclass
class ChatRepl:
    """`rag-desktop chat`: lines in, text out, on one pipeline and store.

    A line is a question, or a command: /new, /sources, /model ID, /save PATH, /help, /quit.
    Answers stream through `write` as they are generated; every turn is saved as it ends.
    """

    pipe: Pipeline
    store: ConversationStore
    write: Write
    conversation_id: str | None = None
    last: Turn | None = None
    ask: dict[str, Any] = field(default_factory=dict)

    def run(self, lines: Iterable[str]) -> None:
        """Handle every line until /quit or the end of input."""
        for line in lines:
            if not self.handle(line):
                break

    def handle(self, line: str) -> bool:
        """Handle one line; False when the REPL should end."""
        text = line.strip()
        if not text:
            return True
        if not text.startswith("/"):
            self._question(text)
            return True
        command, _, arg = text.partition(" ")
        action = {"/new": self._new, "/sources": self._sources, "/model": self._model,
                  "/save": self._save, "/help": self._help}.get(command)
        if command in ("/quit", "/exit"):
            return False
        if action is None:
            self.write(f"unknown command {command}; /help lists them\n")
        else:
            action(arg.strip())
        return True

    def _question(self, question: str) -> None:
        cid, turn = ask_in_conversation(self.pipe, self.store, question, self.conversation_id,
                                        on_token=self.write, **self.ask)
        self.conversation_id, self.last = cid, turn
        self.write("\n")
        if turn.answer.dropped_turns:
            self.write(f"({turn.answer.dropped_turns} earlier turns left out of the prompt)\n")

    def _new(self, _: str) -> None:
        self.conversation_id, self.last = None, None
        self.write("new conversation\n")

    def _sources(self, _: str) -> None:
        if self.last is None:
            self.write("no answer yet\n")
            return
        if self.last.query != self.last.question:
            self.write(f"searched for: {self.last.query}\n")
        for s in self.last.answer.sources:
            self.write(f"[{s.rank}] {source_ref(s)}\n")

    def _model(self, model_id: str) -> None:
        if not model_id:
            info = self.pipe.llm.info
            self.write(f"model: {info.id if info else 'none'}\n")
            return
        info = self.pipe.load_model(model_id)
        self.write(f"model: {info.id}\n")

    def _save(self, path: str) -> None:
        if self.conversation_id is None or not path:
            self.write("usage: /save PATH.md|PATH.csv after a question\n")
            return
        out = write_export(Path(path).expanduser(), self.store.get(self.conversation_id))
        self.write(f"saved {out}\n")

    def _help(self, _: str) -> None:
        self.write("/new  /sources  /model [ID]  /save PATH.md|.csv  /quit\n")
