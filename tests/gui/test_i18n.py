"""The Korean UI: LANG picks it, Settings' choice is used at the next start, and the committed
translations are complete and up to date with the source."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale, QSettings
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from rag_desktop.gui import i18n, i18n_tool
from rag_desktop.gui.params import Params, load_params, save_params
from rag_desktop.language import REFUSALS
from tests.conftest import REPO

KO: dict[str, str] = json.loads(i18n_tool.MAPPING.read_text(encoding="utf-8"))

# One start of the app's GUI in a fresh process: make_app (which installs the language), the
# Settings dialog and the Library panel, then the main window on a fake session. With a
# language in argv[1] it is chosen in Settings and applied as the window applies an OK.
START = r"""
import json, os, sys
from pathlib import Path
from PySide6.QtWidgets import QDialogButtonBox
from rag_desktop.gui import i18n
from rag_desktop.gui.app import make_app, open_settings
from rag_desktop.gui.panels.library import LibraryPanel
from rag_desktop.gui.panels.settings import SettingsDialog
from rag_desktop.gui.params import load_params

choose = sys.argv[1]
app = make_app([])
settings = open_settings()
dialog = SettingsDialog(load_params(settings), [])
ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
panel = LibraryPanel()
state = {"language": i18n.ui_language(), "add_pdfs": panel.add_btn.text(),
         "settings_title": dialog.windowTitle(), "ok_button": ok.text(),
         "choices": [dialog.language.itemText(i) for i in range(dialog.language.count())],
         "choice": dialog.language.currentData()}
try:
    from rag_desktop.gui.client import EngineClient
    from rag_desktop.gui.main_window import MainWindow
    from rag_desktop.gui.params import Params
    from tests.gui.test_jobs import FakeSession

    session = FakeSession(Path(os.environ["RAG_DESKTOP_HOME"]))
    window = MainWindow(settings, EngineClient(Params(), session_factory=lambda: session))
    state["menus"] = [a.text() for a in window.menuBar().actions()]
    if choose:
        dialog.language.setCurrentIndex(dialog.language.findData(choose))
        window.apply_params(dialog.params())
except Exception as exc:
    state["window_error"] = repr(exc)
settings.sync()
print(json.dumps(state, ensure_ascii=False), flush=True)
os._exit(0)  # the engine thread may still be importing the core; nothing else is pending
"""


def start_app(home: Path, lang: str, choose: str = "") -> dict[str, Any]:
    """Start the GUI in a process whose only locale variable is LANG=`lang`; its state."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LC_") and k not in ("LANG", "LANGUAGE")}
    env.update(LANG=lang, QT_QPA_PLATFORM="offscreen", RAG_DESKTOP_HOME=str(home))
    done = subprocess.run([sys.executable, "-c", START, choose], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def korean_start(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The app started with LANG=ko_KR.UTF-8 and nothing chosen in Settings."""
    return start_app(tmp_path_factory.mktemp("ko-home"), "ko_KR.UTF-8")


@pytest.fixture
def korean(qapp: QApplication) -> Iterator[None]:
    """Korean installed in this process, and English again afterwards for the other tests."""
    i18n.apply_language(qapp, "ko")
    yield
    i18n.remove_language(qapp)


def test_lang_ko_starts_the_app_in_korean(korean_start: dict[str, Any]) -> None:
    assert korean_start["language"] == "ko"
    assert korean_start["add_pdfs"] == KO["Add PDFs…"] == "PDF 추가…"
    assert korean_start["settings_title"] == "설정"
    assert korean_start["ok_button"] == "확인"  # Qt's own qtbase_ko translation
    assert korean_start["choices"] == ["시스템 설정", "English", "한국어"]
    assert korean_start["choice"] == "system"


def test_lang_ko_gives_korean_menus(korean_start: dict[str, Any]) -> None:
    """The menus are built in main_window.py; they are Korean once it wraps them in tr()."""
    assert "window_error" not in korean_start, korean_start.get("window_error")
    expected = [KO[t] for t in ("&File", "&Ask", "&Tools", "&Help")]
    assert expected == ["파일(&F)", "질문(&A)", "도구(&T)", "도움말(&H)"]
    assert korean_start["menus"] == expected


def test_settings_language_is_saved_and_used_at_the_next_start(tmp_path: Path) -> None:
    first = start_app(tmp_path, "C.UTF-8", choose="ko")
    assert "window_error" not in first, first.get("window_error")
    assert first["language"] == "en" and first["add_pdfs"] == "Add PDFs…"  # applies on restart
    saved = QSettings(str(tmp_path / "gui-settings.ini"), QSettings.Format.IniFormat)
    assert saved.value(i18n.LANGUAGE_KEY) == "ko"
    second = start_app(tmp_path, "C.UTF-8")
    assert second["language"] == "ko" and second["add_pdfs"] == "PDF 추가…"
    assert second["choice"] == "ko"


def test_an_explicit_choice_beats_the_system_locale() -> None:
    assert i18n.resolve("system", QLocale("ko_KR")) == "ko"
    assert i18n.resolve("system", QLocale("en_GB")) == "en"
    assert i18n.resolve("system", QLocale("de_DE")) == "en"  # unsupported: English
    assert i18n.resolve("en", QLocale("ko_KR")) == "en"
    assert i18n.resolve("ko", QLocale("en_US")) == "ko"
    assert i18n.resolve("klingon", QLocale("ko_KR")) == "ko"  # a bad value: the system's


def test_the_language_round_trips_through_qsettings(settings_path: Path) -> None:
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    assert load_params(settings).language == "system"
    save_params(settings, Params(language="ko"))
    assert settings.value("ui/language") == "ko" and i18n.saved_choice(settings) == "ko"
    assert load_params(settings).language == "ko"
    settings.setValue("ui/language", "fr")
    assert load_params(settings).language == "system"


def test_owned_widgets_numbers_dates_and_refusal_follow_korean(korean: None, qtbot: Any) -> None:
    from rag_desktop.gui.panels.evaluation import EvalPanel
    from rag_desktop.gui.panels.library import documents_model
    from rag_desktop.gui.panels.settings import SettingsDialog
    from rag_desktop.gui.status import cpu_only_text, ready_text

    dialog = SettingsDialog(Params(language="ko"), [], gpu_offload=False)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "설정" and dialog.language.currentText() == "한국어"
    assert dialog.gpu_layers.text() == cpu_only_text()
    assert "CPU 전용" in cpu_only_text() and ready_text().startswith("준비 완료")
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons.button(QDialogButtonBox.StandardButton.Cancel).text() == "취소"
    panel = EvalPanel(Path("questions.jsonl"))
    qtbot.addWidget(panel)
    assert panel.run_btn.text() == "평가 실행"
    assert [panel.tabs.tabText(i) for i in range(3)] == ["결과", "요약", "차트"]
    model = documents_model()
    from PySide6.QtCore import Qt

    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)]
    assert headers == ["이름", "페이지", "청크", "추가한 날짜", "상태"]
    assert QLocale().language() == QLocale.Language.Korean
    assert i18n.format_timestamp("2026-01-02T15:04:00").startswith("2026. 1. 2.")
    assert "오후" in i18n.format_timestamp("2026-01-02T15:04:00")
    assert i18n.refusal_text() == REFUSALS["ko"]


def test_english_is_the_source_text(qapp: QApplication) -> None:
    i18n.apply_language(qapp, "en")
    try:
        assert i18n.ui_language() == "en" and i18n.refusal_text() == REFUSALS["en"]
        when = i18n.format_timestamp("2026-01-02T15:04:00")
        assert when.startswith("1/2/2026 3:04") and when.endswith("PM")  # the whole year
    finally:
        i18n.remove_language(qapp)


def test_committed_translations_are_complete_and_up_to_date() -> None:
    """lupdate over the GUI's source into a temp copy: no string lacks Korean, and the
    committed .ts and .qm are what `python -m rag_desktop.gui.i18n --update` writes."""
    assert i18n.qm_file("ko") == i18n_tool.QM and i18n_tool.QM.is_file()
    assert i18n_tool.check() == []


def test_the_check_finds_a_missing_translation_and_a_stale_qm(tmp_path: Path) -> None:
    mapping = dict(KO)
    del mapping["Add PDFs…"]
    (tmp_path / "ko.json").write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    ts, qm = tmp_path / "rag_desktop_ko.ts", tmp_path / "rag_desktop_ko.qm"
    shutil.copyfile(i18n_tool.QM, qm)
    # A .ts without the translation (as one made before it was written) and the mapping lacks it.
    text = i18n_tool.TS.read_text(encoding="utf-8").replace(
        "<translation>PDF 추가…</translation>", '<translation type="unfinished" />')
    ts.write_text(text, encoding="utf-8")
    problems = i18n_tool.check(ts, qm, tmp_path / "ko.json")
    assert any(p.startswith("missing:") and "Add PDFs…" in p for p in problems), problems
    assert any("rag_desktop_ko.qm is stale" in p for p in problems), problems
    assert i18n_tool.problems_of([("C", "{n} added", "추가됨")]) != []  # a lost placeholder
