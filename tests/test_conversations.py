"""Conversations on real SQLite: round trip, list, rename, delete, exports, kill -9 durability."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag_desktop.answer import Answer, Source, Timings
from rag_desktop.chat.export import CSV_FIELDS, render, write_export
from rag_desktop.chat.store import ConversationNotFound, ConversationStore, default_path
from rag_desktop.chat.turns import Turn, title_from
from rag_desktop.llm.client import ModelInfo

REPO = Path(__file__).resolve().parents[1]
MODEL = ModelInfo("smollm2-135m-instruct-q4_1", "SmolLM2.gguf", "Q4_1", 0, "CPU", 2, 2048)


def make_turn(question: str, text: str = "Run make uninstall [1].", page: int = 14,
              query: str | None = None, dropped_turns: int = 0) -> Turn:
    """A turn with one source, timings and settings, as Pipeline.ask_turn makes them."""
    source = Source(1, "R-admin.pdf", page, str(page - 5), "You can uninstall R by make "
                    "uninstall.", 3.5, 0.61, 0.9, "2 Installing R > 2.5 Uninstallation")
    timings = Timings(0.02, 0.5, 1.5, 1.6, 300, 12, 8.0)
    answer = Answer(question, text, [source], MODEL, timings, grounded=1.0,
                    dropped_turns=dropped_turns)
    return Turn(question, query or question, answer, "prepend+sources",
                {"retrieval": {"k": 4, "bm25_weight": 0.3}}, rewrite="prepend", rewrite_s=0.001)


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    s = ConversationStore(tmp_path / "conversations.sqlite")
    yield s
    s.close()


def test_a_conversation_round_trips_every_field(store: ConversationStore, tmp_path: Path) -> None:
    info = store.create()
    first = make_turn("How do I install R under my own directory?", page=12)
    second = make_turn("and how do I undo that?", query="How do I install R under my own "
                       "directory? and how do I undo that?", dropped_turns=1)
    assert store.append_turn(info.id, first) == 1
    assert store.append_turn(info.id, second) == 2
    store.close()
    reopened = ConversationStore(tmp_path / "conversations.sqlite")  # as after a restart
    try:
        conv = reopened.get(info.id)
    finally:
        reopened.close()
    assert conv.turns == [first, second]  # frozen dataclasses: every field compared
    assert conv.turns[1].answer.dropped_turns == 1
    assert conv.turns[1].answer.sources[0].page_label == "9"
    assert conv.title == "How do I install R under my own directory?"


def test_the_store_lives_in_the_user_data_dir_and_holds_json_not_pickles() -> None:
    path = default_path()
    assert path.parent == Path(os.environ["RAG_DESKTOP_HOME"])
    with ConversationStore() as s:
        s.append_turn(s.create("t").id, make_turn("q?"))
    rows = sqlite3.connect(path).execute("SELECT data FROM turns").fetchall()
    assert json.loads(rows[0][0])["answer"]["model"]["id"] == MODEL.id


def test_list_is_newest_first_with_titles_and_turn_counts(store: ConversationStore) -> None:
    a, b = store.create("Alpha"), store.create()
    store.append_turn(b.id, make_turn("Typing R in my Mac terminal does nothing"))
    store.append_turn(a.id, make_turn("first"))
    store.append_turn(a.id, make_turn("second"))
    listed = store.list()
    assert [(c.id, c.title, c.n_turns) for c in listed] == [
        (a.id, "Alpha", 2), (b.id, "Typing R in my Mac terminal does nothing", 1)]
    c = store.create()
    assert store.list()[0].id == c.id and store.list()[0].n_turns == 0


def test_rename_delete_and_unknown_ids(store: ConversationStore) -> None:
    a, b = store.create("old"), store.create("keep")
    store.append_turn(a.id, make_turn("q"))
    store.rename(a.id, "  new\n title ")
    assert store.get(a.id).title == "new title"
    store.delete(a.id)
    assert [c.id for c in store.list()] == [b.id]
    assert store.resolve(b.id[:6]) == b.id
    for call in (lambda: store.get(a.id), lambda: store.rename(a.id, "x"),
                 lambda: store.delete(a.id), lambda: store.append_turn(a.id, make_turn("q")),
                 lambda: store.resolve("zz")):
        with pytest.raises(ConversationNotFound):
            call()
    # the deleted conversation's turns went with it
    assert store._db.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 0


def test_titles_are_cut_at_a_word() -> None:
    long = "How do I make LilyPond write a PNG image instead of a PDF when I run it from a shell?"
    title = title_from(long)
    assert title.endswith("…") and len(title) <= 61 and long.startswith(title[:-1])
    assert title_from("  short\nquestion ") == "short question"


def test_csv_export_has_the_gui_columns_and_a_bom(store: ConversationStore,
                                                  tmp_path: Path) -> None:
    from rag_desktop.gui.history import CSV_FIELDS as GUI_FIELDS

    info = store.create("Uninstalling")
    store.append_turn(info.id, make_turn("Wie deinstalliere ich R?"))
    store.append_turn(info.id, make_turn("윈도우에서는요?", text="제어판에서 [1]."))
    path = write_export(tmp_path / "out.csv", store.get(info.id))
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and CSV_FIELDS == GUI_FIELDS
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == CSV_FIELDS and len(rows) == 2
    assert rows[1]["question"] == "윈도우에서는요?"
    assert rows[1]["sources"] == "R-admin.pdf p. 9 (PDF p. 14)"  # printed label, then the PDF's
    assert rows[0]["k"] == "4" and rows[0]["bm25_weight"] == "0.3" and rows[0]["model"] == MODEL.id
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # the user's usual mode, not a temp's


def test_markdown_export_shows_queries_answers_and_dropped_turns(
        store: ConversationStore, tmp_path: Path) -> None:
    info = store.create("R")
    store.append_turn(info.id, make_turn("How do I install R?"))
    store.append_turn(info.id, make_turn("and how do I undo that?",
                                         query="How do I install R? and how do I undo that?",
                                         dropped_turns=1))
    text = write_export(tmp_path / "r.md", store.get(info.id)).read_text(encoding="utf-8")
    assert text.startswith("# R\n") and "## 2. and how do I undo that?" in text
    assert "*Searched for: How do I install R? and how do I undo that?*" in text
    assert text.count("Searched for") == 1  # a turn retrieved as asked does not repeat itself
    assert "1 earlier turns did not fit" in text
    assert "- R-admin.pdf p. 9 (PDF p. 14) (fused 0.9000)" in text
    with pytest.raises(ValueError, match="unknown export format"):
        render(store.get(info.id), "pdf")


CHILD = r"""
import sys, time
sys.path.insert(0, {repo!r})
from tests.test_conversations import make_turn
from rag_desktop.chat.store import ConversationStore
store = ConversationStore({db!r})
cid = store.create("durable").id
print(cid, flush=True)
n = 0
while True:  # append turns as fast as possible until killed, mid-transaction at some point
    n += 1
    store.append_turn(cid, make_turn(f"question {{n}}", text="x" * 20000))
    print(n, flush=True)
"""


@pytest.mark.parametrize("settle", [0.0, 0.3])
def test_kill_9_mid_append_leaves_every_saved_turn_intact(tmp_path: Path, settle: float) -> None:
    db = tmp_path / "c.sqlite"
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(repo=str(REPO), db=str(db))],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    cid = child.stdout.readline().strip()
    acknowledged = 0
    while acknowledged < 5:  # let several turns commit, then kill while it keeps appending
        acknowledged = int(child.stdout.readline())
    time.sleep(settle)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    with ConversationStore(db) as store:
        conv = store.get(cid)
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n = len(conv.turns)
        assert n >= acknowledged  # every turn the child was told was saved is there
        assert [t.question for t in conv.turns] == [f"question {i}" for i in range(1, n + 1)]
        assert all(len(t.answer.text) == 20000 for t in conv.turns)
        assert store.list()[0].n_turns == n
        assert store.append_turn(cid, make_turn("after the crash")) == n + 1
