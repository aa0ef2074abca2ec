"""Hangul everywhere: register a bundled Korean font as a fallback for the app's UI font."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase, QFontInfo
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)


def _package_dir(name: str) -> Path | None:
    """A package's folder, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def nanum_gothic_path() -> Path | None:
    """NanumGothic.ttf shipped inside koreanize_matplotlib, when that package is installed."""
    root = _package_dir("koreanize_matplotlib")
    found = sorted(root.rglob("NanumGothic.ttf")) if root else []
    return found[0] if found else None


def _register(path: Path) -> str | None:
    """Add a font file to the application; its family name."""
    font_id = QFontDatabase.addApplicationFont(str(path))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    return families[0] if families else None


def install_hangul_fallback(app: QApplication) -> str | None:
    """Register NanumGothic and put it after the UI font in the fallback chain; its family."""
    # The resolved family: "Sans Serif" is only an alias, and listing an alias first lets the
    # Korean font take over Latin text too.
    base = QFontInfo(app.font()).family()
    path = nanum_gothic_path()
    family = _register(path) if path is not None else None
    if family is None:
        log.warning("no Korean font found; Hangul may show as boxes")
        return None
    font = app.font()
    font.setFamilies([base, family])
    app.setFont(font)
    # Widgets that ask for the base family by name (rich text) get the fallback too.
    QFont.insertSubstitution(base, family)
    return family
