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
    state["menu_items"] = [a.text() for m in window.menuBar().actions()
                           for a in m.menu().actions() if a.text()]
    state["tabs"] = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    state["title"] = window.windowTitle()
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
    assert korean_start["menu_items"][:2] == ["PDF 추가(&A)…", "기록을 CSV로 내보내기(&C)…"]
    assert all(item in KO.values() for item in korean_start["menu_items"])
    assert korean_start["tabs"] == ["라이브러리", "질문", "평가"]
    assert korean_start["title"] == KO["rag-desktop — answers from your PDF manuals"]


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


def test_ask_area_jobs_and_models_follow_korean(korean: None, qtbot: Any) -> None:
    """The Ask area, the answer's metrics line, the job labels, the model picker and the page
    view: each string in Korean, the numbers formatted as in English."""
    from dataclasses import replace

    from PySide6.QtCore import QCoreApplication, Qt

    from rag_desktop.gui.jobs import Job, JobKind
    from rag_desktop.gui.panels.answer_text import metrics_text
    from rag_desktop.gui.panels.ask import AskPanel
    from rag_desktop.gui.panels.model_picker import ModelPicker
    from rag_desktop.gui.status import Startup, failure_text, job_label
    from rag_desktop.llm.catalog import ModelEntry
    from tests.gui.test_models import SOURCES, answer

    panel = AskPanel()
    qtbot.addWidget(panel)
    assert (panel.ask_btn.text(), panel.stop_btn.text()) == ("질문", "중지")
    assert panel.pdf.title.text() == "출처를 누르면 여기에 해당 페이지가 보입니다."
    panel.sources.set_rows(SOURCES)
    headers = [panel.sources.headerData(c, Qt.Orientation.Horizontal) for c in range(8)]
    assert headers == ["#", "파일", "페이지", "발췌", "BM25", "밀집", "융합", "섹션"]
    assert panel.sources.index(0, 2).data() == "1 (PDF 4페이지)"
    line = metrics_text(answer(), 0.9123)
    assert "전체 <b>0.52초</b>" in line and "22.0 토큰/초" in line and "검색 10 ms" in line
    assert "참조 답변과의 코사인 <b>0.912</b>" in line and "total" not in line
    gate = metrics_text(replace(answer(), refused=True), None)
    assert gate.startswith("<b>문서에 없음</b>") and "관련성 게이트" in gate
    untranslated = [k.label for k in JobKind
                    if QCoreApplication.translate("JobKind", k.label) == k.label]
    assert untranslated == []  # every kind is marked in jobs.py and has Korean
    assert job_label(Job(JobKind.LOAD_MODEL, "smol")) == "모델 불러오는 중 smol"
    assert failure_text("cancelled") == "취소됨" and failure_text("disk full") == "disk full"
    assert Startup().loading("smol") == "smol 불러오는 중…"
    picker = ModelPicker()
    qtbot.addWidget(picker)
    picker.set_entries([ModelEntry("b", "Model B", "b.gguf", "x", "chatml")], "")
    assert picker.manage.text() == "모델 관리…"
    assert picker.combo.itemText(0).endswith("이 컴퓨터에 없음 — 모델 관리…에서 받을 수 있음")


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
