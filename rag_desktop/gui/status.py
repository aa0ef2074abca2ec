"""The status bar's permanent labels (library, model, backend, GPU layers) and the startup
narration: what the app is doing while it opens the library, loads the model and indexes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QStatusBar

from rag_desktop.gui.jobs import Job, JobKind

if TYPE_CHECKING:
    from rag_desktop.llm.client import ModelInfo

CPU_ONLY = "CPU only (this llama.cpp build cannot offload)"
READY = "Ready: ask a question about your PDFs."


def offload_supported(info: ModelInfo | None) -> bool | None:
    """Whether the loaded model's llama.cpp build can offload layers to a GPU; None when no
    model is loaded. The runner names its backend "CPU" exactly when it cannot offload."""
    if info is None:
        return None
    return info.backend.upper() != "CPU"


def gpu_layers_text(info: ModelInfo) -> str:
    """'GPU layers: 12/30', or that the build is CPU only (then 'all (auto)' would mislead)."""
    if not offload_supported(info):
        return f"GPU layers: none, {CPU_ONLY}"
    layers = f"{info.n_gpu_layers}/{info.n_layers}" if info.n_layers else str(info.n_gpu_layers)
    return f"GPU layers: {layers}"


class StatusLabels:
    """The permanent labels on the right of the status bar."""

    def __init__(self, bar: QStatusBar) -> None:
        self.model = QLabel("No model")
        self.backend = QLabel("")
        self.layers = QLabel("")
        self.library = QLabel("No library")
        for label in (self.library, self.model, self.backend, self.layers):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)

    def show_library(self, name: str, n_documents: int) -> None:
        """'Library: manuals (3 documents)'."""
        plural = "s" * (n_documents != 1)
        self.library.setText(f"Library: {name} ({n_documents} document{plural})")

    def show_model(self, info: ModelInfo) -> None:
        """The loaded model, its backend and its offloaded layers."""
        self.model.setText(f"Model: {info.id} ({info.quant})")
        self.model.setToolTip("")
        self.backend.setText(f"Backend: {info.backend}")
        self.layers.setText(gpu_layers_text(info))

    def show_unloaded(self, model_id: str) -> None:
        """The runner lost the chosen model."""
        self.model.setText(f"Model: {model_id} — not loaded")
        self.model.setToolTip("The model runner stopped; the next question loads the "
                              "model again.")


class Startup:
    """Which jobs belong to the app's start, and how to say what each one is doing.

    A new user otherwise sees an unexplained "Loading…" for several seconds on a first start.
    """

    def __init__(self) -> None:
        self.jobs: set[int] = set()
        self.sample_jobs: set[int] = set()
        self.names: dict[str, str] = {}  # model id -> catalog name ("SmolLM2 135M Instruct")

    @property
    def active(self) -> bool:
        """Whether a startup job is still queued or running."""
        return bool(self.jobs)

    def track(self, job: Job, sample: bool = False) -> None:
        """A job the start made (opening the library, loading the model, the sample's index)."""
        self.jobs.add(job.id)
        if sample:
            self.sample_jobs.add(job.id)

    def model_name(self, model_id: str) -> str:
        """The catalog's name for a model id, else the id."""
        return self.names.get(model_id) or model_id

    def describe(self, job: Job) -> str:
        """The status line while `job` runs."""
        if job.kind is JobKind.OPEN_LIBRARY:
            return f"Opening library {job.detail}…"
        if job.kind is JobKind.LOAD_MODEL:
            return f"Loading model {self.model_name(job.detail)}…"
        if job.id in self.sample_jobs:
            return "Indexing the sample manual (first start only)…"
        return f"{job.label}…"

    def finish(self, job_id: int) -> bool:
        """Forget a finished job; True when it was the last startup job."""
        if job_id not in self.jobs:
            return False
        self.jobs.discard(job_id)
        self.sample_jobs.discard(job_id)
        return not self.jobs
