"""The CLI's one progress display: a tqdm bar a stage on stderr, fed by the core's events."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from typing import Any, TextIO

from rag_desktop.progress import ProgressEvent, StageRate

# "pages: 3/12 (25%) |###       | 00:02<00:06, manual.pdf": the count first, so that a log reads
# the same on a terminal and in a file.
BAR_FORMAT = ("{desc}: {n_fmt}/{total_fmt} ({percentage:.0f}%) |{bar}| "
              "{elapsed}<{remaining}{postfix}")
# Stages whose pace is shown: OCR reads a page in seconds, so its rate is worth a look.
PACED = {"ocr": "pages/s"}


class ProgressBar:
    """A ProgressCallback that draws each stage (pages, chunks, eval, download) as a tqdm bar.

    A new bar starts when the stage changes or its count goes back, with the first count as
    tqdm's `initial`: the rate and the ETA then come from this session's work only, so the rows
    a resumed evaluation finished before do not make it look fast. `unit="B"` shows bytes.
    Use it as a context manager: log warnings (a skipped page) are then printed above the bar,
    not into it, and a bar cut short by an error or Ctrl-C still ends its line.
    """

    def __init__(self, stream: TextIO | None = None, unit: str = "it") -> None:
        self.stream = stream or sys.stderr
        self.unit = unit
        self.bar: Any = None  # the current stage's tqdm
        self._stage = ""
        self._log_handler: logging.Handler | None = None
        self._rate = StageRate()

    def __call__(self, event: ProgressEvent) -> None:
        if event.stage in PACED:
            event = self._paced(event)
        bar = self.bar
        if bar is None or event.stage != self._stage or event.done < bar.n:
            self.close()
            bar = self.bar = self._new(event)
            self._stage = event.stage
        else:
            new_message = bool(event.message) and event.message != bar.postfix
            if new_message:
                bar.set_postfix_str(event.message, refresh=False)
            if event.total != bar.total:
                bar.total = event.total
            if event.done > bar.n:
                bar.update(event.done - bar.n)
            elif new_message:
                bar.refresh()  # "loading the model": news even though the count stands still
        if event.total > 0 and event.done >= event.total:
            self.close()

    def _paced(self, event: ProgressEvent) -> ProgressEvent:
        """The event with this run's pace in front of its message ("0.18 pages/s, a.pdf")."""
        rate = self._rate.update(event)
        if rate is None:
            return event
        pace = f"{rate[0]:.2f} {PACED[event.stage]}"
        return replace(event, message=f"{pace}, {event.message}" if event.message else pace)

    def _new(self, event: ProgressEvent) -> Any:
        from tqdm import tqdm  # here, not at import: `ask` and the GUI never draw a bar

        tty = self.stream.isatty()
        is_bytes = self.unit == "B"
        return tqdm(
            total=event.total, initial=event.done, desc=event.stage, postfix=event.message or None,
            # A log or a pipe gets every step on a line of its own, as `eval` under nohup
            # wants it (and tests count them); a terminal gets one line redrawn in place.
            file=self.stream if tty else _Lines(self.stream), mininterval=0.1 if tty else 0,
            miniters=None if tty else 1, unit=self.unit, unit_scale=is_bytes,
            unit_divisor=1024 if is_bytes else 1000, bar_format=BAR_FORMAT, dynamic_ncols=tty,
            ascii=not tty)

    def close(self) -> None:
        """End the current bar's line (it stays on screen)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> ProgressBar:
        root = logging.getLogger()
        if not any(getattr(h, "stream", None) in (sys.stderr, sys.stdout) for h in root.handlers):
            # In place of logging's last-resort handler, which would write into the bar's line.
            self._log_handler = _AboveTheBar(self.stream)
            root.addHandler(self._log_handler)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        if self._log_handler is not None:
            logging.getLogger().removeHandler(self._log_handler)
            self._log_handler = None


class _AboveTheBar(logging.Handler):
    """Prints log warnings on lines of their own above the bars (tqdm.write), to `stream`."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.WARNING)  # what logging.lastResort shows
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            if self.stream.isatty():
                tqdm.write(self.format(record), file=self.stream)  # clears the bar, redraws it
            else:
                self.stream.write(self.format(record) + "\n")
            self.stream.flush()
        except Exception:
            self.handleError(record)


class _Lines:
    """tqdm's output for a log or a pipe: each redraw a line of its own, not after a carriage
    return (tqdm's way on a terminal), and without the repeat of the last one at close."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last = ""

    def write(self, text: str) -> int:
        for part in text.split("\r"):
            line = part.strip()  # tqdm pads a redraw with spaces over the longer one before
            if line and line != self._last:
                self.stream.write(line + "\n")
                self._last = line
        return len(text)

    def flush(self) -> None:
        self.stream.flush()
