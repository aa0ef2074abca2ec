"""The GUI's composition root: QApplication, fonts, settings, engine thread and main window."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from rag_desktop import config

if TYPE_CHECKING:
    from rag_desktop.config import GenerationSettings
    from rag_desktop.gui.engine import SessionFactory
    from rag_desktop.gui.main_window import MainWindow
    from rag_desktop.session import Session

log = logging.getLogger(__name__)
APP_NAME = "rag-desktop"
# Startup milestones as JSON lines (benchmarks/gui_start.py reads them), and quitting once usable.
STARTUP_LOG_ENV = "RAG_DESKTOP_STARTUP_LOG"
QUIT_WHEN_READY_ENV = "RAG_DESKTOP_QUIT_WHEN_READY"


def settings_file() -> Path:
    """QSettings live under the app's home, so RAG_DESKTOP_HOME isolates them too."""
    return config.home_dir() / "gui-settings.ini"


def open_settings(path: Path | None = None) -> QSettings:
    """The app's QSettings in INI format at `path` (default: settings_file())."""
    path = path or settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def make_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused when one exists), with the Hangul font fallback."""
    from rag_desktop.gui.fonts import install_hangul_fallback
    from rag_desktop.gui.i18n import install_language

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    install_hangul_fallback(app)
    install_language(app, open_settings())  # Settings' language, else the system's (LANG)
    return app


def preloading_session(model_id: str, generation: GenerationSettings) -> SessionFactory:
    """The engine's session factory: a session that starts loading `model_id` at once.

    The engine makes its session as its thread starts, before the window's first job, so the
    runner loads the model while the engine opens the library (as `open_session` does for the
    CLI) instead of after it; the window's load job of the same model then only waits for it.
    """

    def make() -> Session:
        from rag_desktop.session import Session

        session = Session.create(use_cache=False)  # the GUI always answers afresh
        try:
            session.preload_model(model_id, generation)
        except Exception as exc:  # an unknown model: the window's own load job reports it
            log.info("not preloading %s: %s", model_id, exc)
        return session

    return make


def build_window(settings: QSettings) -> MainWindow:
    """The main window, its engine loading the model the window will start with (last_model)
    from the moment the engine thread starts."""
    from rag_desktop.gui.client import EngineClient
    from rag_desktop.gui.main_window import MainWindow
    from rag_desktop.gui.params import last_model, load_params

    params = load_params(settings)
    client = EngineClient(params, preloading_session(last_model(settings), params.generation()))
    return MainWindow(settings, client)


def process_age() -> float:
    """Seconds since the OS started this process, so that the interpreter and imports count.

    On Linux from the process's start tick and the boot-time clock: psutil's create_time()
    adds the boot time, which /proc gives in whole seconds, and read 0.8 s high on this VM.
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        import psutil

        return time.time() - psutil.Process().create_time()


class StartupLog:
    """Appends one JSON line per startup milestone: {"event", "t": seconds since the process
    started, "at": time.time()}, so that a parent can also count from its own launch.

    Milestones: window_shown, library_open, model_loaded, usable (library open, model loaded,
    the start's jobs done and Ask enabled); each job's start and end too, to see where the time
    goes. With `quit_when_ready` the window closes once usable (or on a failed startup job).
    """

    def __init__(self, path: Path, quit_when_ready: bool = False) -> None:
        self.path = path
        self.quit_when_ready = quit_when_ready
        self.done = False

    def mark(self, event: str, **fields: Any) -> None:
        """Append one line, flushed: a parent may read the file while the app runs."""
        line = json.dumps({"event": event, "t": round(process_age(), 4),
                           "at": round(time.time(), 4), **fields})
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    def watch(self, window: MainWindow) -> None:
        """Connect to the window's engine client; call right after window.show()."""
        client = window.client
        # The first event-loop turn after show(): the window has been laid out and exposed.
        QTimer.singleShot(0, lambda: self.mark("window_shown"))
        client.library_opened.connect(lambda *_: self.mark("library_open"))
        client.model_loaded.connect(lambda *_: self.mark("model_loaded"))
        client.started.connect(lambda job_id: self._job("job_started", window, job_id))
        # Connected after the window's own slots, so the window has handled the end first.
        client.finished.connect(lambda job_id: self._finished(window, job_id))
        client.failed.connect(lambda job_id, message: self._failed(window, job_id, message))

    def _job(self, event: str, window: MainWindow, job_id: int) -> None:
        kind = window.client.jobs.kind_of(job_id)
        self.mark(event, job=job_id, kind=kind.name if kind else None)

    def _finished(self, window: MainWindow, job_id: int) -> None:
        self._job("job_finished", window, job_id)
        if self.done or not usable(window):
            return
        self.done = True
        self.mark("usable")
        if self.quit_when_ready:
            QTimer.singleShot(0, window.close)

    def _failed(self, window: MainWindow, job_id: int, message: str) -> None:
        self.mark("failed", job=job_id, message=message)
        if self.quit_when_ready and job_id in window.startup.jobs:
            QTimer.singleShot(0, window.close)


def usable(window: MainWindow) -> bool:
    """Whether a question can be asked now: library open, model loaded, start done, Ask on."""
    return (window.library_path is not None and window.model_info is not None
            and not window.startup.active and window.ask_panel.ask_btn.isEnabled())


def startup_log_from_env() -> StartupLog | None:
    """The StartupLog that RAG_DESKTOP_STARTUP_LOG names, if any."""
    path = os.environ.get(STARTUP_LOG_ENV)
    if not path:
        return None
    return StartupLog(Path(path), os.environ.get(QUIT_WHEN_READY_ENV) == "1")


def main(argv: list[str] | None = None) -> int:
    """Open the window with the last (or sample) library and model, ready to ask."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config.set_offline(True)
    startup_log = startup_log_from_env()
    if startup_log is not None:
        startup_log.mark("main")
    app = make_app(argv)
    window = build_window(open_settings())
    if startup_log is not None:
        startup_log.mark("window_built")
    window.show()
    if startup_log is not None:
        startup_log.watch(window)
    window.start()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
