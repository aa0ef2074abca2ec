"""`as_job`: how every engine slot reports its job (started, failed, finished), in one place.

Kept apart from engine.py so that the engine's mixins (chat_jobs) can use it too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from rag_desktop.gui.jobs import Job
from rag_desktop.progress import Cancelled

log = logging.getLogger(__name__)
P = ParamSpec("P")


class JobHost(Protocol):
    """What a job runs on: the engine's life-cycle signals and its model report."""

    started: Any
    failed: Any
    finished: Any

    def _report_model(self, job: Job) -> None: ...


H = TypeVar("H", bound=JobHost)


def as_job(method: Callable[Concatenate[H, Job, P], None]
                       ) -> Callable[Concatenate[H, Job, P], None]:
    """Run a method as one job: started, then failed (errors and cancels), then finished.

    A job cancelled while it waited in the queue never starts. Any core error is shown and
    never kills the thread.
    """

    @functools.wraps(method)
    def run(self: H, job: Job, *args: P.args, **kwargs: P.kwargs) -> None:
        if job.cancel_token.cancelled:
            self.failed.emit(job.id, "cancelled")
            self.finished.emit(job.id)
            return
        self.started.emit(job.id)
        try:
            method(self, job, *args, **kwargs)
        except Cancelled:
            self.failed.emit(job.id, "cancelled")
        except Exception as exc:
            log.exception("%s failed", job.label)
            self.failed.emit(job.id, str(exc) or type(exc).__name__)
        finally:
            self._report_model(job)
            self.finished.emit(job.id)

    return run
