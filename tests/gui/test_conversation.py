"""A conversation in the real window: three turns with the real model, inline citations that
open their page, regenerate with another model, the sidebar (new, open, rename, search,
delete, export), and the conversation still there after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication

from rag_desktop.gui import chat_controller
from rag_desktop.gui.app import make_app, open_settings
from rag_desktop.gui.main_window import MainWindow
from rag_desktop.gui.panels import conversations as sidebar_module
from rag_desktop.gui.params import Params
from tests.pdfs import make_pdf

PAGES = [
    "Installing the Zephyr printer driver. Open the Zephyr setup program, accept the licence "
    "and click Install. The driver is copied to the system folder.",
    "Removing the Zephyr printer driver. To remove the printer driver, open Settings, choose "
    "Apps, select Zephyr printer driver and click Uninstall. Restart the computer afterwards.",
    "Warranty. The Zephyr hardware is covered for two years from the date of purchase.",
]
FIRST = "How do I install the Zephyr printer driver?"
SECOND = "and how do I remove it again?"
THIRD = "제피르 하드웨어의 보증 기간은 얼마나 됩니까?"
OTHER_MODEL = "gemma3-270m-q4_k_m"


@pytest.fixture(scope="module")
def window(gui_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MainWindow]:
    """The window on a new library holding a three-page manual, the default model loaded."""
    make_app([])
    pdf = make_pdf(tmp_path_factory.mktemp("pdf") / "zephyr.pdf", PAGES)
    win = MainWindow(open_settings(gui_home / "gui-settings.ini"))
    win.apply_params(Params(max_tokens=24))
    win.show()
    win.start(library=gui_home / "libraries" / "zephyr")
    win.add_pdfs([str(pdf)])
    yield win
    win.close()
    QApplication.processEvents()


def ask(window: MainWindow, qtbot: Any, question: str) -> Any:
    """Type and ask `question`; the AskResult once it is answered."""
    panel = window.ask_panel
    qtbot.waitUntil(lambda: window.model_info is not None and bool(window.documents)
                    and panel.ask_btn.isEnabled(), timeout=120000)
    panel.question.setPlainText(question)
    with qtbot.waitSignal(window.client.answered, timeout=120000) as blocker:
        panel.request_ask()
    with qtbot.waitSignal(window.client.conversations_listed, timeout=60000, raising=False):
        pass
    return blocker.args[1]


def test_three_turns_scroll_in_one_conversation_and_are_saved(window: MainWindow,
                                                              qtbot: Any) -> None:
    results = [ask(window, qtbot, q) for q in (FIRST, SECOND, THIRD)]
    cards = window.ask_panel.conversation.cards
    assert [c.question.text() for c in cards] == [f"<b>{q}</b>" for q in (FIRST, SECOND, THIRD)]
    assert len({r.conversation_id for r in results}) == 1 and results[0].conversation_id
    assert [r.turn for r in results] == [1, 2, 3]
    for card, result in zip(cards, results, strict=True):
        assert card.current.answer == result.answer  # each answer stayed in its own card
        assert result.answer.model.id in card.current.metrics.text()
    assert window.ask_panel.question.toPlainText() == ""  # the box is ready for the next one
    qtbot.waitUntil(lambda: window.ask_panel.sidebar.list.count() == 1, timeout=10000)
    assert window.ask_panel.sidebar.titles() == [FIRST]
    assert window.ask_panel.sidebar.current_id == results[0].conversation_id


def test_a_citation_link_opens_its_page(window: MainWindow, qtbot: Any) -> None:
    panel = window.ask_panel
    block = panel.conversation.cards[1].current  # "remove it": page 2 must be a source
    pages = [s.page for s in block.answer.sources]
    assert 2 in pages
    n = pages.index(2) + 1
    block.text.anchorClicked.emit(QUrl(f"cite:{n}"))
    qtbot.waitUntil(lambda: panel.pdf.path is not None, timeout=5000)
    assert panel.pdf.current_page() == 2
    assert panel.table.selectionModel().isRowSelected(n - 1)
    html = block.text.toHtml()
    assert "href=\"cite:" in html  # the view shows citations as links


def test_regenerate_asks_the_turn_again_with_another_model(window: MainWindow,
                                                           qtbot: Any) -> None:
    with qtbot.waitSignal(window.client.model_loaded, timeout=120000):
        window.load_model(OTHER_MODEL)
    card = window.ask_panel.conversation.cards[1]
    with qtbot.waitSignal(window.client.answered, timeout=120000) as blocker:
        card.current.regen_btn.click()
    result = blocker.args[1]
    assert result.turn == 2 and result.answer.model.id == OTHER_MODEL
    assert len(card.blocks) == 2 and card.blocks[0].answer.model.id != OTHER_MODEL
    assert "answer 2/2" in card.current.metrics.text()
    assert len(window.ask_panel.conversation.cards) == 3  # no new turn


def test_sidebar_new_open_rename_search_and_export(window: MainWindow, qtbot: Any,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    panel, side = window.ask_panel, window.ask_panel.sidebar
    saved = side.current_id
    side.new_btn.click()
    assert panel.conversation.cards == [] and window.chat.conversation_id is None
    ask(window, qtbot, "How long is the warranty?")
    qtbot.waitUntil(lambda: side.list.count() == 2, timeout=10000)
    side.search.setText("zephyr printer")
    assert side.titles() == [FIRST]
    side.search.clear()
    item = next(side.list.item(i) for i in range(2) if side.list.item(i).text() == FIRST)
    with qtbot.waitSignal(window.client.conversation_opened, timeout=10000):
        side.list.itemClicked.emit(item)
    assert window.chat.conversation_id == saved
    assert [len(c.blocks) for c in panel.conversation.cards] == [1, 2, 1]  # as saved
    side.list.setCurrentItem(item)
    monkeypatch.setattr(sidebar_module, "ask_title", lambda _parent, _title: "Zephyr driver")
    with qtbot.waitSignal(window.client.conversations_listed, timeout=10000):
        side.rename_btn.click()
    assert "Zephyr driver" in side.titles()
    target = tmp_path / "zephyr.md"
    monkeypatch.setattr(chat_controller.QFileDialog, "getSaveFileName",
                        lambda *_args: (str(target), ""))
    side.list.setCurrentItem(next(side.list.item(i) for i in range(2)
                                  if side.list.item(i).text() == "Zephyr driver"))
    with qtbot.waitSignal(window.client.exported, timeout=10000):
        side.export_btn.click()
    text = target.read_text(encoding="utf-8")
    assert FIRST in text and THIRD in text


def test_the_conversation_survives_a_restart_and_delete_asks_first(
        window: MainWindow, gui_home: Path, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = window.client.engine.session.conversations().path
    monkeypatch.setenv("RAG_DESKTOP_HOME", str(saved.parent))  # this test's home is a new one
    window.close()  # as the user quits; a new window on the same home
    again = MainWindow(open_settings(gui_home / "gui-settings.ini"))
    again.show()
    again.start()
    side = again.ask_panel.sidebar
    qtbot.waitUntil(lambda: side.list.count() == 2, timeout=60000)
    assert "Zephyr driver" in side.titles()
    side.list.setCurrentRow(side.titles().index("Zephyr driver"))
    assert side.delete_btn.isEnabled()
    monkeypatch.setattr(sidebar_module, "confirm_delete", lambda _parent, _title: False)
    side.delete_btn.click()
    QApplication.processEvents()
    assert side.list.count() == 2  # said no: nothing deleted
    monkeypatch.setattr(sidebar_module, "confirm_delete", lambda _parent, _title: True)
    with qtbot.waitSignal(again.client.conversations_listed, timeout=10000):
        side.delete_btn.click()
    assert "Zephyr driver" not in side.titles() and side.list.count() == 1
    again.close()
    QApplication.processEvents()
