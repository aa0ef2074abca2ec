"""The bundle's `--smoke-test`: open the window on the sample library, report, quit.

`make package-test` runs it in the frozen app; each step is a JSON line on stdout.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

from rag_desktop.frozen import SMOKE_IDLE_S, SMOKE_TIMEOUT_S


def _emit(event: str, **fields: Any) -> None:
    """One JSON line on stdout, flushed, for the parent script to read as it happens."""
    print(json.dumps({"smoke": event, **fields}), flush=True)


def _since_launch() -> float:
    """Seconds since this process was started (the OS's start time, so imports count too)."""
    from rag_desktop.gui.app import process_age

    return process_age()


def _rss_mb(pid: int | None = None) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


class _Smoke:
    """Waits for the window's library (with documents) and model, then measures and quits."""

    def __init__(self, window: Any, app: Any, quit_later: Callable[[float, Callable[[], None]],
                                                                   None]) -> None:
        self.window, self.app, self.later = window, app, quit_later
        self.documents = 0
        self.model: str | None = None
        self.error: str | None = None
        self.ready = False
        self.code = 1

    def on_documents(self, documents: list[Any]) -> None:
        self.documents = len(documents)
        self.check()

    def on_model(self, _job_id: int, info: Any) -> None:
        self.model = str(info.id)
        self.check()

    def on_failed(self, _job_id: int, message: str) -> None:
        self.error = message
        _emit("failed", message=message)
        self.finish(1)

    def check(self) -> None:
        if self.ready or not (self.documents and self.model):
            return
        self.ready = True
        _emit("ready", since_launch_s=round(_since_launch(), 2), documents=self.documents,
              model=self.model)
        self.later(SMOKE_IDLE_S, self.measure)

    def measure(self) -> None:
        import psutil

        children = psutil.Process().children(recursive=True)
        _emit("idle", window_rss_mb=round(_rss_mb(), 1),
              runner_rss_mb=round(sum(_rss_mb(c.pid) for c in children), 1),
              children=len(children))
        self.finish(0)

    def finish(self, code: int) -> None:
        self.code = code
        self.window.close()  # closeEvent stops the engine and the runner
        self.app.quit()


def smoke_test(timeout_s: float = SMOKE_TIMEOUT_S) -> int:
    """Open the window, load the sample library and the default model, report, quit: 0 if ok.

    Uses the GUI's public pieces only (make_app, open_settings, build_window and the window's
    client's signals). Lines on stdout: window_shown, ready, idle, then exit; failed or timeout
    on error.
    """
    from rag_desktop import config, samples

    config.set_offline(True)
    from PySide6.QtCore import QTimer

    from rag_desktop.gui.app import build_window, make_app, open_settings

    app = make_app([sys.argv[0] if sys.argv else "rag-desktop"])
    window = build_window(open_settings())  # as the app starts: the model loads at once

    def later(seconds: float, fn: Callable[[], None]) -> None:
        QTimer.singleShot(int(seconds * 1000), fn)

    smoke = _Smoke(window, app, later)
    client = window.client
    client.documents_changed.connect(smoke.on_documents)
    client.library_opened.connect(lambda _j, _p, docs: smoke.on_documents(docs))
    client.model_loaded.connect(smoke.on_model)
    client.failed.connect(smoke.on_failed)

    def timed_out() -> None:
        if not smoke.ready:
            _emit("timeout", seconds=timeout_s, documents=smoke.documents, model=smoke.model)
            smoke.finish(1)

    window.show()
    # The first event-loop turn after show(): the window has been laid out and exposed.
    later(0, lambda: _emit("window_shown", since_launch_s=round(_since_launch(), 2)))
    later(timeout_s, timed_out)
    # The sample library, explicitly: a remembered library must not change what is tested.
    window.start(library=samples.sample_library_dir())
    app.exec()
    _emit("exit", code=smoke.code, pid=os.getpid())
    return smoke.code
