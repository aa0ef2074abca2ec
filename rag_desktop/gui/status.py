"""The status bar's permanent labels (library, model, backend, GPU layers) and the startup
narration: what the app is doing while it opens the library, loads the model and indexes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QStatusBar

from rag_desktop.gui.i18n import QT_TRANSLATE_NOOP
from rag_desktop.gui.jobs import Job, JobKind

if TYPE_CHECKING:
    from rag_desktop.llm.client import ModelInfo

# English, as the source text; cpu_only_text() and ready_text() give the UI's language.
CPU_ONLY = QT_TRANSLATE_NOOP("Status", "CPU only (this llama.cpp build cannot offload)")
READY = QT_TRANSLATE_NOOP("Status", "Ready: ask a question about your PDFs.")
STARTING = QT_TRANSLATE_NOOP("Status", "Starting: opening the library and loading the model…")

# lupdate finds translate("Context", "text") calls; a marked constant goes through it too.
translate = QCoreApplication.translate


def cpu_only_text() -> str:
    """CPU_ONLY in the UI's language."""
    return translate("Status", CPU_ONLY)


def ready_text() -> str:
    """READY in the UI's language: what the status bar says when the start is done."""
    return translate("Status", READY)


def starting_text() -> str:
    """STARTING in the UI's language: the status bar and the Ask area as the app starts."""
    return translate("Status", STARTING)


def offload_supported(info: ModelInfo | None) -> bool | None:
    """Whether the loaded model's llama.cpp build can offload layers to a GPU; None when no
    model is loaded. The runner names its backend "CPU" exactly when it cannot offload."""
    if info is None or info.backend.startswith("server:"):  # the server decides, not us
        return None
    return info.backend.upper() != "CPU"


def gpu_layers_text(info: ModelInfo) -> str:
    """'GPU layers: 12/30', or that the build is CPU only (then 'all (auto)' would mislead)."""
    if info.backend.startswith("server:"):
        return translate("Status", "GPU layers: set on the server")
    if not offload_supported(info):
        text = translate("Status", "GPU layers: none, {cpu_only}")
        return text.format(cpu_only=cpu_only_text())
    layers = f"{info.n_gpu_layers}/{info.n_layers}" if info.n_layers else str(info.n_gpu_layers)
    return translate("Status", "GPU layers: {layers}").format(layers=layers)


def job_label(job: Job) -> str:
    """'Loading model gemma3-270m' in the UI's language: the kind's label is translated in
    the "JobKind" context (jobs.py marks the labels with QT_TRANSLATE_NOOP)."""
    kind = translate("JobKind", job.kind.label)
    return f"{kind} {job.detail}".strip()


def failure_text(message: str) -> str:
    """A job's failure as the user reads it: the engine's "cancelled" marker translated, any
    other message (the core's own, in English) as it is."""
    return translate("Status", "cancelled") if message == "cancelled" else message


class StatusLabels:
    """The permanent labels on the right of the status bar."""

    def __init__(self, bar: QStatusBar) -> None:
        self.model = QLabel(translate("Status", "No model"))
        self.backend = QLabel("")
        self.layers = QLabel("")
        self.library = QLabel(translate("Status", "No library"))
        for label in (self.library, self.model, self.backend, self.layers):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)

    def show_library(self, name: str, n_documents: int) -> None:
        """'Library: manuals (3 documents)'."""
        text = (translate("Status", "Library: {name} (1 document)") if n_documents == 1
                else translate("Status", "Library: {name} ({n} documents)"))
        self.library.setText(text.format(name=name, n=n_documents))

    def show_model(self, info: ModelInfo) -> None:
        """The loaded model, its backend and its offloaded layers."""
        model = translate("Status", "Model: {id} ({quant})")
        self.model.setText(model.format(id=info.id, quant=info.quant))
        self.model.setToolTip("")
        backend = translate("Status", "Backend: {backend}")
        self.backend.setText(backend.format(backend=info.backend))
        self.layers.setText(gpu_layers_text(info))

    def show_unloaded(self, model_id: str) -> None:
        """The runner lost the chosen model."""
        self.model.setText(translate("Status", "Model: {id} — not loaded").format(id=model_id))
        self.model.setToolTip(translate(
            "Status", "The model runner stopped; the next question loads the model again."))


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

    def loading(self, model_id: str) -> str:
        """'Loading SmolLM2 135M…': the model picker's line while a model loads."""
        return translate("Status", "Loading {name}…").format(name=self.model_name(model_id))

    def describe(self, job: Job) -> str:
        """The status line while `job` runs."""
        if job.kind is JobKind.OPEN_LIBRARY:
            return translate("Status", "Opening library {name}…").format(name=job.detail)
        if job.kind is JobKind.LOAD_MODEL:
            text = translate("Status", "Loading model {name}…")
            return text.format(name=self.model_name(job.detail))
        if job.id in self.sample_jobs:
            return translate("Status", "Indexing the sample manual (first start only)…")
        return f"{job_label(job)}…"

    def finish(self, job_id: int) -> bool:
        """Forget a finished job; True when it was the last startup job."""
        if job_id not in self.jobs:
            return False
        self.jobs.discard(job_id)
        self.sample_jobs.discard(job_id)
        return not self.jobs
