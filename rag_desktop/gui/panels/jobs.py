"""The job queue strip: shown while more than one job is queued or running, each with a Cancel."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from rag_desktop.gui.jobs import JobQueue, JobState
from rag_desktop.gui.status import job_label


class JobsView(QFrame):
    """One row per active job: its label, whether it runs or waits, and its own Cancel button.

    With a single job the panel that started it already shows its progress and its Stop, so
    the strip stays hidden until a second job queues up behind the first. A Cancel emits
    `cancel_requested(job_id)`; the window hands it to the engine client.
    """

    cancel_requested = Signal(int)

    def __init__(self, queue: JobQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 2, 6, 2)
        self._layout.setSpacing(2)
        self.rows: dict[int, QWidget] = {}
        self.cancel_buttons: dict[int, QPushButton] = {}
        queue.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the rows from the queue (a handful of jobs at most)."""
        for row in self.rows.values():
            self._layout.removeWidget(row)
            row.deleteLater()
        self.rows.clear()
        self.cancel_buttons.clear()
        for job in self.queue.active():
            state = self.queue.state(job.id)
            row = QWidget(self)
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            waiting = self.tr("running") if state is JobState.RUNNING else self.tr("waiting")
            line.addWidget(QLabel(f"#{job.id} {job_label(job)} — {waiting}"), 1)
            button = QPushButton(self.tr("Cancelling…") if job.cancel_token.cancelled
                                 else self.tr("Cancel"))
            # A running model load or export can't stop half-way; a queued one can be dropped.
            can_stop = job.kind.cancellable and (
                state is not JobState.RUNNING or job.kind.stoppable_while_running)
            button.setEnabled(can_stop and not job.cancel_token.cancelled)
            button.clicked.connect(lambda _=False, job_id=job.id: self._cancel(job_id))
            line.addWidget(button)
            self._layout.addWidget(row)
            self.rows[job.id] = row
            self.cancel_buttons[job.id] = button
        self.setVisible(len(self.queue) > 1)

    def _cancel(self, job_id: int) -> None:
        self.cancel_requested.emit(job_id)
        button = self.cancel_buttons.get(job_id)  # still listed: it runs on to its next check
        if button is not None:
            button.setEnabled(False)
            button.setText(self.tr("Cancelling…"))
