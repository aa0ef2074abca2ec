"""Jobs with identity: every request to the engine is a Job with an id, a kind and its own cancel.

The GUI thread makes a Job per request and keeps the queue (`JobQueue`); the engine thread reports
by job id (started, progress, results, failed, finished). Cancel names one job, so asking a
question while a file is ingesting leaves the ingestion alone unless that is the job cancelled.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from enum import Enum

from PySide6.QtCore import QObject, Signal

from rag_desktop.gui.i18n import QT_TRANSLATE_NOOP
from rag_desktop.progress import CancelToken


class JobKind(Enum):
    """What a job does; its value is the label the status bar and the queue show (English;
    status.job_label translates it in the "JobKind" context, where lupdate finds it)."""

    OPEN_LIBRARY = QT_TRANSLATE_NOOP("JobKind", "Opening library")
    ADD_PDFS = QT_TRANSLATE_NOOP("JobKind", "Adding PDFs")
    REMOVE = QT_TRANSLATE_NOOP("JobKind", "Removing document")
    LOAD_MODEL = QT_TRANSLATE_NOOP("JobKind", "Loading model")
    SETTINGS = QT_TRANSLATE_NOOP("JobKind", "Applying settings")
    CATALOG = QT_TRANSLATE_NOOP("JobKind", "Rescanning models")
    ASK = QT_TRANSLATE_NOOP("JobKind", "Answering")
    EVALUATE = QT_TRANSLATE_NOOP("JobKind", "Evaluating")
    EXPORT_REPORTS = QT_TRANSLATE_NOOP("JobKind", "Exporting evaluation")
    EXPORT_HISTORY = QT_TRANSLATE_NOOP("JobKind", "Exporting history")
    RESTORE_EVAL = QT_TRANSLATE_NOOP("JobKind", "Reloading the last evaluation")
    DOWNLOAD_MODEL = QT_TRANSLATE_NOOP("JobKind", "Downloading model")
    ADD_MODEL = QT_TRANSLATE_NOOP("JobKind", "Adding model")
    CONVERSATIONS = QT_TRANSLATE_NOOP("JobKind", "Listing conversations")
    OPEN_CONVERSATION = QT_TRANSLATE_NOOP("JobKind", "Opening conversation")
    RENAME_CONVERSATION = QT_TRANSLATE_NOOP("JobKind", "Renaming conversation")
    DELETE_CONVERSATION = QT_TRANSLATE_NOOP("JobKind", "Deleting conversation")
    EXPORT_CONVERSATION = QT_TRANSLATE_NOOP("JobKind", "Exporting conversation")

    @property
    def label(self) -> str:
        """The human-readable name of the kind."""
        return self.value

    @property
    def cancellable(self) -> bool:
        """Whether the user may cancel it: settings always apply, in the order they were made."""
        return self is not JobKind.SETTINGS

    @property
    def stoppable_while_running(self) -> bool:
        """Whether the core checks the token while the job runs (any job can be dropped while
        it is still queued)."""
        return self in (JobKind.ADD_PDFS, JobKind.ASK, JobKind.EVALUATE,
                        JobKind.DOWNLOAD_MODEL, JobKind.ADD_MODEL)


_ids = itertools.count(1)
_ids_lock = threading.Lock()  # next() on a shared count is not documented as thread-safe


def _next_id() -> int:
    with _ids_lock:
        return next(_ids)


@dataclass(frozen=True)
class Job:
    """One request: `id` names it in every signal, `cancel_token` cancels only this job."""

    kind: JobKind
    detail: str = ""  # e.g. the model id or the file count, shown in the queue
    id: int = field(default_factory=_next_id)
    cancel_token: CancelToken = field(default_factory=CancelToken, compare=False)
    in_lane: bool = False  # run by the ingest lane's thread (client.IngestLane)

    @property
    def label(self) -> str:
        """'Loading model gemma3-270m', for the status bar and the queue."""
        return f"{self.kind.label} {self.detail}".strip()


class JobState(Enum):
    """Where a job is in the engine's queue."""

    QUEUED = "queued"
    RUNNING = "running"


class JobQueue(QObject):
    """The GUI thread's view of the engine's jobs: queued and running ones, in request order.

    Finished jobs are kept in a short tail so that a late event (the `failed` that precedes
    `finished`, say) still finds its job's kind.
    """

    changed = Signal()
    RECENT = 64

    def __init__(self) -> None:
        super().__init__()
        self._active: OrderedDict[int, tuple[Job, JobState]] = OrderedDict()
        self._recent: deque[Job] = deque(maxlen=self.RECENT)

    def add(self, job: Job) -> Job:
        """A job was sent to the engine; it waits until the engine starts it."""
        self._active[job.id] = (job, JobState.QUEUED)
        self.changed.emit()
        return job

    def start(self, job_id: int) -> None:
        """The engine started the job."""
        if job_id in self._active:
            self._active[job_id] = (self._active[job_id][0], JobState.RUNNING)
            self.changed.emit()

    def finish(self, job_id: int) -> None:
        """The engine is done with the job (whether it succeeded, failed or was cancelled)."""
        item = self._active.pop(job_id, None)
        if item is not None:
            self._recent.append(item[0])
            self.changed.emit()

    def get(self, job_id: int) -> Job | None:
        """The job with this id, active or recently finished."""
        if job_id in self._active:
            return self._active[job_id][0]
        return next((j for j in self._recent if j.id == job_id), None)

    def kind_of(self, job_id: int) -> JobKind | None:
        """The kind of the job with this id (None for an id this queue never saw)."""
        job = self.get(job_id)
        return job.kind if job is not None else None

    def state(self, job_id: int) -> JobState | None:
        """QUEUED or RUNNING while active, else None."""
        item = self._active.get(job_id)
        return item[1] if item is not None else None

    def active(self, kind: JobKind | None = None) -> list[Job]:
        """Queued and running jobs in request order, optionally of one kind."""
        return [j for j, _ in self._active.values() if kind is None or j.kind is kind]

    def running(self) -> Job | None:
        """The job the engine is working on now (the first, when the ingest lane runs one
        too)."""
        return next((j for j, s in self._active.values() if s is JobState.RUNNING), None)

    def cancel(self, job_id: int) -> bool:
        """Cancel one job by id; False when it is no longer active."""
        item = self._active.get(job_id)
        if item is None or not item[0].kind.cancellable:
            return False
        item[0].cancel_token.cancel()
        return True

    def cancel_kind(self, kind: JobKind) -> list[int]:
        """Cancel every active job of one kind (a panel's Stop button); the ids cancelled."""
        jobs = [j for j in self.active(kind) if j.kind.cancellable]
        for job in jobs:
            job.cancel_token.cancel()
        return [j.id for j in jobs]

    def __len__(self) -> int:
        return len(self._active)
