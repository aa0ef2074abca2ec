"""GUI test setup: offscreen Qt (set before Qt is imported), an isolated home, a gap probe."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import gc  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402


def dev_pdf() -> Path:
    """The LilyPond usage manual: ../shared's copy, else the packaged sample (the same file)."""
    from tests.conftest import dev_pdf as shared_dev_pdf

    return shared_dev_pdf()


class GapProbe:
    """A 20 ms QTimer in the GUI thread that records the longest gap between its ticks."""

    def __init__(self, interval_ms: int = 20) -> None:
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.max_gap = 0.0
        self.ticks = 0
        self.where = ""  # what the other threads were doing at the longest gap
        self.longest_gc = 0.0
        self._gc_start = 0.0
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last and now - self._last > self.max_gap:
            self.max_gap = now - self._last
            if self.max_gap > 0.06:
                self.where = _other_threads()
        self._last = now
        self.ticks += 1

    def _gc(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.longest_gc = max(self.longest_gc, time.perf_counter() - self._gc_start)

    def start(self) -> GapProbe:
        """Start measuring."""
        gc.callbacks.append(self._gc)
        self._last = time.perf_counter()
        self.timer.start()
        return self

    def stop(self) -> float:
        """Stop; the longest gap in seconds."""
        self.timer.stop()
        gc.callbacks.remove(self._gc)
        self.where += f"\nlongest garbage collection: {self.longest_gc * 1000:.0f} ms"
        return self.max_gap


def _other_threads() -> str:
    """The innermost frames of every other thread (diagnostics for a long gap)."""
    import sys
    import threading
    import traceback

    me = threading.get_ident()
    frames = [traceback.format_stack(f)[-2:] for tid, f in sys._current_frames().items()
              if tid != me]
    return "\n".join("".join(f) for f in frames)


@pytest.fixture(scope="module")
def gui_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """RAG_DESKTOP_HOME in a tmp dir for a whole module (the window outlives one test)."""
    home = tmp_path_factory.mktemp("rag-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_DESKTOP_HOME", str(home))
        from rag_desktop.config import OFFLINE_VARS

        for var in OFFLINE_VARS:
            mp.setenv(var, "1")
        yield home


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    """A QSettings INI file in a tmp dir."""
    return tmp_path / "gui-settings.ini"
