"""Starting the app: `rag-desktop` with no arguments opens the window on the sample library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from rag_desktop import samples
from rag_desktop.cli import main as cli
from rag_desktop.config import DEFAULT_MODEL_ID
from rag_desktop.gui import app as gui_app
from rag_desktop.gui.jobs import Job, JobKind
from rag_desktop.gui.main_window import MainWindow


def test_no_arguments_opens_the_window(monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    started: list[tuple[Any, ...]] = []
    shown: list[MainWindow] = []

    def fake_start(self: MainWindow, library: Path | None = None,
                   model_id: str | None = None) -> None:
        started.append((library, model_id))
        shown.append(self)
        QTimer.singleShot(0, self.close)  # closing the last window ends app.exec()

    monkeypatch.setattr(MainWindow, "start", fake_start)
    assert cli.main([]) == 0
    assert started == [(None, None)]
    assert shown[0].settings.fileName() == str(gui_app.settings_file())


def test_first_start_builds_the_sample_library(qtbot: Any, tmp_path: Path) -> None:
    window = MainWindow(gui_app.open_settings(tmp_path / "s.ini"))
    qtbot.addWidget(window)
    requests: list[tuple[str, Any]] = []

    def stub(name: str, kind: JobKind) -> Any:
        return lambda *args: (requests.append((name, *map(str, args))), Job(kind))[1]

    window.client.open_library = stub("open", JobKind.OPEN_LIBRARY)  # type: ignore
    window.client.load_model = stub("model", JobKind.LOAD_MODEL)  # type: ignore
    window.client.add_pdfs = stub("add", JobKind.ADD_PDFS)  # type: ignore
    window.client.restore_evaluation = stub("restore", JobKind.RESTORE_EVAL)  # type: ignore
    window.start()
    assert requests == [("open", str(samples.sample_library_dir())),
                        ("model", DEFAULT_MODEL_ID), ("restore",)]
    # The engine reports the new, empty sample library: the window ingests the manual.
    window.client.library_opened.emit(0, str(samples.sample_library_dir()), [])
    assert requests[-1] == ("add", str([str(samples.sample_pdf())]))
    assert window.library_panel.progress.isVisibleTo(window.library_panel)
    window.client.close()
    QApplication.processEvents()
