"""Plain progress callbacks and cancellation tokens that the core reports through (no Qt)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class Cancelled(Exception):
    """Raised inside long work when the user asked to stop it."""


@dataclass(frozen=True)
class ProgressEvent:
    """One step of long work: `done` of `total` units of `stage` (e.g. pages, chunks)."""

    stage: str
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        """Share of the stage that is done, 0.0 to 1.0."""
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


ProgressCallback = Callable[[ProgressEvent], None]


class StageRate:
    """Units per second and seconds left of the current stage, from this run's events only.

    The stage's first event is the base, so the pages a resumed OCR kept from before (its
    first event's `done`) do not make the rate look fast. `clock` is injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._base: tuple[str, int, float] | None = None

    def update(self, event: ProgressEvent) -> tuple[float, float] | None:
        """(units per second, seconds left) after `event`; None until there is a rate."""
        now = self._clock()
        base = self._base
        if base is None or base[0] != event.stage or event.done < base[1]:
            self._base = (event.stage, event.done, now)
            return None
        done, seconds = event.done - base[1], now - base[2]
        if done <= 0 or seconds <= 0:
            return None
        rate = done / seconds
        return rate, max(0, event.total - event.done) / rate


def no_progress(event: ProgressEvent) -> None:
    """A progress callback that ignores every event."""


class CancelToken:
    """A thread-safe flag: the GUI or a signal handler sets it, the core checks it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        """Ask the work that holds this token to stop at its next check."""
        with self._lock:
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` when cancel() is called (at once if it already was); returns a remover."""
        with self._lock:
            already = self._event.is_set()
            if not already:
                self._callbacks.append(callback)
        if already:
            callback()

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    @property
    def cancelled(self) -> bool:
        """True once cancel() was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise Cancelled if cancel() was called."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")
