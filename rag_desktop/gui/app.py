"""The GUI's composition root: QApplication, fonts, settings, engine thread and main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from rag_desktop import config

APP_NAME = "rag-desktop"


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

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    install_hangul_fallback(app)
    return app


def main(argv: list[str] | None = None) -> int:
    """Open the window with the last (or sample) library and model, ready to ask."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config.set_offline(True)
    app = make_app(argv)
    from rag_desktop.gui.main_window import MainWindow

    window = MainWindow(open_settings())
    window.show()
    window.start()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
