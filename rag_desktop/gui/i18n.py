"""The UI language: English or Korean, chosen in Settings or following the system locale.

`install_language()` installs the app's translator (translations/rag_desktop_ko.qm, shipped in
the wheel) and Qt's own (qtbase_ko: the standard dialog buttons), and makes QLocale's default
the UI language's, so that numbers and dates in the GUI follow the UI and not the system.
A change in Settings applies at the next start: the widgets are built with their text once.

The build step, `python -m rag_desktop.gui.i18n --update` (or `make translations`), refreshes
the .ts from the source, fills it from translations/ko.json and builds the .qm (i18n_tool).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QDateTime,
    QLibraryInfo,
    QLocale,
    QSettings,
    Qt,
    QTranslator,
)

from rag_desktop.language import refusal_sentence


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name lupdate reads
    """Mark `text` for lupdate in `context`; it is translated where it is shown. PySide6's
    own marker is typed as returning `object`, this one `str`."""
    return text


LANGUAGE_KEY = "ui/language"  # QSettings: "system", "en" or "ko"
SUPPORTED = ("en", "ko")
# What Settings lists. A language's own name is never translated (a reader who cannot read the
# current UI still finds theirs); "System" is.
CHOICES = {
    "system": QT_TRANSLATE_NOOP("Language", "System"),
    "en": "English",
    "ko": "한국어",
}
CATALOG = "rag_desktop"  # translations/rag_desktop_<lang>.qm
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

_installed: list[QTranslator] = []  # kept referenced: Qt does not own installed translators
_language = "en"


def normal_choice(value: object) -> str:
    """A saved choice as one of CHOICES ("system" for anything else)."""
    text = str(value or "system").strip().lower()
    return text if text in CHOICES else "system"


def saved_choice(settings: QSettings) -> str:
    """The choice saved in Settings ("system" when none is)."""
    return normal_choice(settings.value(LANGUAGE_KEY))


def choice_label(choice: str) -> str:
    """How Settings names a choice: "System", "English", "한국어"."""
    return QCoreApplication.translate("Language", CHOICES[normal_choice(choice)])


def resolve(choice: str, system: QLocale | None = None) -> str:
    """The UI language for a choice: "system" follows the locale's UI languages (LANGUAGE,
    LC_ALL, LC_MESSAGES, LANG on Linux), English when none of them is supported."""
    choice = normal_choice(choice)
    if choice in SUPPORTED:
        return choice
    for tag in (system or QLocale.system()).uiLanguages():
        code = tag.replace("_", "-").split("-")[0].lower()
        if code in SUPPORTED:
            return code
    return "en"


def ui_locale(language: str) -> QLocale:
    """The locale for numbers and dates: the system's when it speaks `language` (keeps its
    region: en_GB stays British), else the language's own (ko_KR, en_US)."""
    system = QLocale.system()
    wanted = QLocale(language)
    return system if system.language() == wanted.language() else wanted


def qm_file(language: str) -> Path:
    """The packaged translation of the app's own strings."""
    return TRANSLATIONS / f"{CATALOG}_{language}.qm"


def qt_translations_dirs() -> list[Path]:
    """Where Qt's own .qm files are: Qt's configured path, else PySide6's folder."""
    dirs = [Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))]
    pyside = sys.modules.get("PySide6")
    if pyside is not None and pyside.__file__:
        dirs.append(Path(pyside.__file__).parent / "Qt" / "translations")
    return dirs


def _translators(language: str) -> list[QTranslator]:
    """The loaded translators for `language`: ours, and Qt's qtbase when found."""
    found = []
    ours = QTranslator()
    if ours.load(str(qm_file(language))):
        found.append(ours)
    for folder in qt_translations_dirs():
        qt = QTranslator()
        if qt.load(f"qtbase_{language}", str(folder)):
            found.append(qt)
            break
    return found


def apply_language(app: QCoreApplication, language: str) -> str:
    """Use `language` ("en" or "ko") from now on; returns it. Widgets built later show it."""
    global _language
    remove_language(app)
    language = language if language in SUPPORTED else "en"
    QLocale.setDefault(ui_locale(language))
    _language = language
    if language != "en":  # the source strings are English
        for translator in _translators(language):
            app.installTranslator(translator)
            _installed.append(translator)
    return language


def install_language(app: QCoreApplication, settings: QSettings) -> str:
    """Install the translators for the language saved in `settings` (or the system's)."""
    return apply_language(app, resolve(saved_choice(settings)))


def remove_language(app: QCoreApplication) -> None:
    """Back to English and the system locale (a test's cleanup; a second install's start)."""
    global _language
    while _installed:
        app.removeTranslator(_installed.pop())
    QLocale.setDefault(QLocale.system())
    _language = "en"


def ui_language() -> str:
    """The language the UI shows: "en" or "ko"."""
    return _language


def refusal_text() -> str:
    """The "not in the documents" sentence in the UI's language (language.REFUSALS)."""
    return refusal_sentence(_language)


def format_number(value: float, decimals: int = 3) -> str:
    """A number as the UI's locale writes it, with `decimals` digits after the point."""
    return QLocale().toString(float(value), "f", decimals)


def format_timestamp(iso: str) -> str:
    """An ISO date and time ("2026-01-01T10:00:00+00:00") in local time, as the UI's locale
    writes it, with the whole year; the text itself when it is no ISO timestamp."""
    when = QDateTime.fromString(iso.strip(), Qt.DateFormat.ISODateWithMs)
    if not when.isValid():
        return iso[:16].replace("T", " ")
    when = when.toLocalTime()  # no-op without an offset
    locale = QLocale()
    pattern = locale.dateTimeFormat(QLocale.FormatType.ShortFormat)
    if "yyyy" not in pattern:  # short formats write two-digit years ("1/1/26")
        pattern = pattern.replace("yy", "yyyy")
    return locale.toString(when, pattern)


def main(argv: list[str] | None = None) -> int:
    """`python -m rag_desktop.gui.i18n --update | --check` (the build step, i18n_tool)."""
    from rag_desktop.gui.i18n_tool import main as tool_main

    return tool_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
