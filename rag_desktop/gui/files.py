"""Where file dialogs open, and the permissions of the files the GUI exports.

File dialogs open in the folder last used for the same purpose, else the user's Documents
(or home) folder: never the process's working directory, which for a desktop launcher is
somewhere the user never chose. Exported files get the permissions any other program would
give them (0666 less the umask), not the 0600 of the temp files that atomic writes rename.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

KEY_PREFIX = "folders/"


def default_folder() -> str:
    """The user's Documents folder when it exists, else the home folder."""
    for kind in (QStandardPaths.StandardLocation.DocumentsLocation,
                 QStandardPaths.StandardLocation.HomeLocation):
        where = QStandardPaths.writableLocation(kind)
        # One stat before a modal dialog that lists the folder anyway.
        if where and Path(where).is_dir():
            return where
    return str(Path.home())


class Folders:
    """The last folder used per purpose ("pdfs", "exports"…), kept in QSettings when given."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.settings = settings
        self._memory: dict[str, str] = {}

    def start(self, purpose: str, name: str = "") -> str:
        """Where a dialog for `purpose` opens; with `name`, the file name suggested there."""
        value = self.settings.value(KEY_PREFIX + purpose) if self.settings else None
        folder = value if isinstance(value, str) and value else self._memory.get(purpose)
        folder = folder or default_folder()
        return str(Path(folder) / name) if name else folder

    def remember(self, purpose: str, chosen: str, is_folder: bool = False) -> None:
        """Remember the folder of a chosen file (or, with `is_folder`, the folder itself)."""
        if not chosen:
            return
        folder = chosen if is_folder else str(Path(chosen).parent)
        self._memory[purpose] = folder
        if self.settings is not None:
            self.settings.setValue(KEY_PREFIX + purpose, folder)


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii", errors="replace")
        found = re.search(r"^Umask:\s*([0-7]+)", status, re.MULTILINE)
        if found:
            return int(found.group(1), 8)
    except OSError:
        pass
    # Elsewhere the only way is to set it and put it back (a brief window other threads share).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def normal_permissions(paths: Iterable[Path]) -> None:
    """Give exported files 0666 less the umask (0644 usually). Runs in the engine thread."""
    mode = 0o666 & ~current_umask()
    for path in paths:
        if Path(path).is_file():
            os.chmod(path, mode)
