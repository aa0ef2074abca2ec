"""Hangul everywhere: register a bundled Korean font as a fallback for the app's UI font."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)


def nanum_gothic_path() -> Path | None:
    """NanumGothic.ttf shipped inside koreanize_matplotlib, when that package is installed."""
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.rglob("NanumGothic.ttf"))
    return found[0] if found else None


def install_hangul_fallback(app: QApplication) -> str | None:
    """Register NanumGothic and put it after the UI font in the fallback chain; its family."""
    path = nanum_gothic_path()
    if path is None:
        log.warning("no Korean font found; Hangul may show as boxes")
        return None
    font_id = QFontDatabase.addApplicationFont(str(path))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        return None
    family = families[0]
    font = app.font()
    font.setFamilies([font.family(), family])
    app.setFont(font)
    # Qt consults substitutes for characters the first family lacks.
    for base in {font.family(), "Sans Serif", "DejaVu Sans"}:
        QFont.insertSubstitution(base, family)
    return family
