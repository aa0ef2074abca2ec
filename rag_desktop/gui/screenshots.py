"""`python -m rag_desktop.gui.screenshots DIR`: PNGs of each area with a real answer on screen.

Drives the real window like a user: sample library, default model, a conversation of three
turns (the last in Korean), a citation's page with its passage highlighted, a three-question
evaluation, and the same conversation again with the UI in Korean. Run offscreen (`make
screenshots` sets QT_QPA_PLATFORM).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from rag_desktop import samples

QUESTION = "What output file does LilyPond produce by default when it processes filename.ly?"
REFERENCE = "It produces filename.pdf by default."
FOLLOW_UPS = ["Can it write PNG images instead?", "출력 파일의 이름은 어떻게 바꿀 수 있나요?"]
SIZE = (1360, 860)


def wait_for(signal: Any, timeout_s: float = 900) -> list[Any]:
    """Run the event loop until `signal` fires; its arguments (TimeoutError after timeout_s)."""
    loop, got = QEventLoop(), []

    def done(*args: Any) -> None:
        got.append(args)
        loop.quit()

    signal.connect(done)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(done)
    if not got:
        raise TimeoutError(f"no {signal} within {timeout_s} s")
    return list(got[0])


def settle(ms: int = 300) -> None:
    """Let layouts and paints finish."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def grab(widget: QWidget, path: Path) -> Path:
    """Save a PNG of `widget`."""
    settle()
    widget.grab().save(str(path))
    print(f"wrote {path}")
    return path


def _ready(window: Any) -> None:
    """Wait until the library has documents and a model is loaded."""
    while not window.documents or window.model_info is None or window.client.working_on:
        settle(200)


def _ask(window: Any) -> None:
    """Three turns; then the first answer's page-4 source, its passage highlighted."""
    panel = window.ask_panel
    first = None
    for question, reference in [(QUESTION, REFERENCE), *((q, "") for q in FOLLOW_UPS)]:
        panel.question.setPlainText(question)
        panel.reference.setText(reference)
        panel.request_ask()
        result = wait_for(window.client.answered)[1]  # (job id, AskResult)
        first = first or result.answer
    assert first is not None
    best = next((i for i, s in enumerate(first.sources) if s.page == 4), 0)
    if first.sources:
        panel.sources.set_rows(first.sources)
        panel.table.selectRow(best)
        window.show_source(first.sources[best])


def _korean(out: Path, settings: Any, conversation_id: str | None) -> None:
    """The same conversation in a window whose UI is Korean (as Settings → Language does)."""
    from rag_desktop.gui.i18n import apply_language
    from rag_desktop.gui.main_window import MainWindow

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_language(app, "ko")
    window = MainWindow(settings)
    window.resize(*SIZE)
    window.show()
    window.start(library=samples.sample_library_dir())
    _ready(window)
    if conversation_id:
        window.chat.open_conversation(conversation_id)
        wait_for(window.client.conversation_opened)
    grab(window, out / "ask-ko.png")
    window.close()
    QApplication.processEvents()


def _evaluate(window: Any) -> None:
    window.tabs.setCurrentWidget(window.eval_panel)
    panel = window.eval_panel
    panel.models.set_checked([window.model_info.id])
    panel.weights.setText("0.3 0.7")
    panel.limit.setValue(3)
    panel.max_tokens.setValue(48)
    panel.run_btn.click()
    wait_for(window.client.eval_finished)
    panel.tabs.setCurrentIndex(0)


MAX_LOAD = 1.5  # above it the pictures show a slow machine, not the app (say --force to go on)


def main(argv: list[str] | None = None) -> int:
    """Write library.png, ask.png, ask-ko.png, evaluate.png, evaluate-charts.png, settings.png
    to DIR,
    and CAPTIONS.md with the date and the load average they were taken at.

    Refuses (exit 2) above a load average of MAX_LOAD unless --force is given.
    """
    args = sys.argv[1:] if argv is None else argv
    force = "--force" in args
    args = [a for a in args if a != "--force"]
    out = Path(args[0] if args else "docs/screenshots")
    load = os.getloadavg()[0]
    if load > MAX_LOAD and not force:
        print(f"the load average is {load:.2f} (above {MAX_LOAD}): the pictures would show a "
              "busy machine's timings; wait for it to settle, or pass --force", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    from rag_desktop import config
    from rag_desktop.gui.app import make_app, open_settings
    from rag_desktop.gui.main_window import MainWindow
    from rag_desktop.gui.panels.settings import SettingsDialog
    from rag_desktop.gui.status import offload_supported

    config.set_offline(True)
    make_app([])
    settings = open_settings(config.home_dir() / "screenshot-settings.ini")
    settings.setValue("ui/language", "en")
    window = MainWindow(settings)
    window.resize(*SIZE)
    window.show()
    window.start(library=samples.sample_library_dir())
    _ready(window)
    window.tabs.setCurrentWidget(window.ask_panel)
    _ask(window)
    grab(window, out / "ask.png")
    window.tabs.setCurrentWidget(window.library_panel)
    grab(window, out / "library.png")
    _evaluate(window)
    grab(window, out / "evaluate.png")
    window.eval_panel.tabs.setCurrentIndex(2)
    grab(window, out / "evaluate-charts.png")
    # As the window opens it: the GPU-layers row says what this llama.cpp build can do.
    dialog = SettingsDialog(window.params, [window.params.embedding_model], window,
                            gpu_offload=offload_supported(window.model_info))
    dialog.show()
    grab(dialog, out / "settings.png")
    dialog.close()
    conversation_id = window.chat.conversation_id
    window.close()
    QApplication.processEvents()
    _korean(out, settings, conversation_id)
    _write_captions(out, load)
    return 0


def _write_captions(out: Path, load_before: float) -> None:
    """CAPTIONS.md: when and at what load the pictures were taken, so timings can be judged."""
    from datetime import UTC, datetime

    from rag_desktop.fsutil import atomic_write_text

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    atomic_write_text(out / "CAPTIONS.md", (
        f"Taken {stamp} by `make screenshots` on {os.cpu_count()} CPUs; load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after.\n"))


if __name__ == "__main__":
    raise SystemExit(main())
