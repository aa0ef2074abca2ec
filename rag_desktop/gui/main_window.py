"""The main window: three areas (Library, Ask, Evaluate), menus, status bar; routes signals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QTabWidget, QToolBar, QVBoxLayout, QWidget

from rag_desktop import samples
from rag_desktop.gui import status
from rag_desktop.gui.chat_controller import ChatController
from rag_desktop.gui.client import EngineClient
from rag_desktop.gui.files import Folders
from rag_desktop.gui.history import HistoryEntry
from rag_desktop.gui.jobs import Job, JobKind
from rag_desktop.gui.messages import AskResult, EvalRequest, EvalResult
from rag_desktop.gui.panels.about import show_about
from rag_desktop.gui.panels.ask import AskPanel
from rag_desktop.gui.panels.evaluation import EvalPanel
from rag_desktop.gui.panels.jobs import JobsView
from rag_desktop.gui.panels.library import LibraryPanel, dropped_paths
from rag_desktop.gui.panels.model_picker import ModelPicker
from rag_desktop.gui.params import Params, last_library, last_model, load_params, save_params
from rag_desktop.progress import ProgressEvent

if TYPE_CHECKING:
    from rag_desktop.library.library import AddOutcome, DocumentInfo
    from rag_desktop.llm.catalog import ModelEntry
    from rag_desktop.llm.client import ModelInfo

SAMPLE_LIBRARY = "sample"


class MainWindow(QMainWindow):
    """Renders what the engine reports; every request goes to the engine thread."""

    def __init__(self, settings: QSettings, client: EngineClient | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.params: Params = load_params(settings)
        self.client = client or EngineClient(self.params)
        self.history: list[HistoryEntry] = []
        self.documents: list[DocumentInfo] = []
        self.library_path: Path | None = None
        self.model_info: ModelInfo | None = None
        self.model_id = last_model(settings)
        self.startup = status.Startup()
        self.folders = Folders(settings)
        self.setWindowTitle(self.tr("rag-desktop — answers from your PDF manuals"))
        self.setAcceptDrops(True)
        self._build()
        self._connect_engine()
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)

    # -- building -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.library_panel = LibraryPanel()
        self.ask_panel = AskPanel()
        self.eval_panel = EvalPanel(samples.sample_questions())
        self.library_panel.folders = self.eval_panel.folders = self.folders
        self.tabs = QTabWidget()
        self.tabs.addTab(self.library_panel, self.tr("Library"))
        self.tabs.addTab(self.ask_panel, self.tr("Ask"))
        self.tabs.addTab(self.eval_panel, self.tr("Evaluate"))
        self.tabs.setCurrentWidget(self.ask_panel)
        self.jobs_view = JobsView(self.client.jobs)
        self.jobs_view.cancel_requested.connect(self.client.cancel)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.jobs_view)
        self.setCentralWidget(central)
        self.picker = ModelPicker()
        toolbar = QToolBar(self.tr("Model"))
        toolbar.setObjectName("model-toolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.picker)
        self.addToolBar(toolbar)
        self.status = status.StatusLabels(self.statusBar())
        self._build_menus(toolbar)
        self.library_panel.add_requested.connect(self.add_pdfs)
        self.library_panel.remove_requested.connect(self.client.remove)
        self.library_panel.library_requested.connect(self.open_library)
        # Each Stop names the jobs of its own panel; the queue strip cancels any single one.
        self.library_panel.cancel_requested.connect(lambda: self.cancel(JobKind.ADD_PDFS))
        self.chat = ChatController(self.ask_panel, self.client, self.folders,
                                   lambda m: self.statusBar().showMessage(m, 5000),
                                   self.show_source)
        self.ask_panel.stop_requested.connect(self.stop_answer)
        self.ask_panel.source_activated.connect(self.show_source)
        self.ask_panel.pdf.viewer_failed.connect(lambda m: self.statusBar().showMessage(m, 20000))
        self.eval_panel.run_requested.connect(self.evaluate)
        self.eval_panel.cancel_requested.connect(lambda: self.cancel(JobKind.EVALUATE))
        self.eval_panel.export_requested.connect(self.export_evaluation)
        self.picker.model_chosen.connect(self.load_model)
        self.picker.manage_requested.connect(self.open_models)

    def _action(self, text: str, slot: Any, *keys: str) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work whichever tab has focus
        return action

    def _build_menus(self, toolbar: QToolBar) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&File"))
        file_menu.addAction(self._action(self.tr("&Add PDFs…"), self.library_panel.choose_pdfs,
                                         "Ctrl+O"))
        file_menu.addAction(self._action(self.tr("Export history as &CSV…"),
                                         lambda: self._export_as("history.csv", "*.csv")))
        file_menu.addAction(self._action(self.tr("Export history as &Markdown…"),
                                         lambda: self._export_as("history.md", "*.md")))
        file_menu.addSeparator()
        file_menu.addAction(self._action(self.tr("&Quit"), self.close, "Ctrl+Q"))
        ask_menu = menu.addMenu(self.tr("&Ask"))
        self.ask_action = self._action(self.tr("&Ask"), self.ask_panel.request_ask,
                                       "Ctrl+Return", "Ctrl+Enter")
        self.stop_action = self._action(self.tr("&Stop"), self.stop_answer, "Esc")
        ask_menu.addActions([self.ask_action, self.stop_action])
        tools = menu.addMenu(self.tr("&Tools"))
        self.settings_action = self._action(self.tr("&Settings…"), self.open_settings, "Ctrl+,")
        tools.addAction(self.settings_action)
        tools.addAction(self._action(self.tr("&Rescan models"), self.client.refresh_catalog))
        about = self._action(self.tr("&About rag-desktop"), lambda: show_about(
            self, self.model_info.backend if self.model_info else None))
        menu.addMenu(self.tr("&Help")).addAction(about)
        toolbar.addSeparator()
        toolbar.addAction(self.settings_action)

    def _connect_engine(self) -> None:
        e = self.client
        e.started.connect(self._on_started)
        e.finished.connect(self._on_finished)
        e.progress.connect(self._on_progress)
        e.library_opened.connect(self._on_library_opened)
        e.library_details.connect(self.library_panel.set_details)
        e.documents_changed.connect(self._on_documents)
        e.ingest_finished.connect(self._on_ingested)
        e.model_loaded.connect(self._on_model_loaded)
        e.model_unloaded.connect(self._on_model_unloaded)
        e.catalog_changed.connect(self._on_catalog)
        e.answered.connect(self._on_answered)
        e.eval_row.connect(lambda _job_id, row: self.eval_panel.add_row(row))
        e.eval_finished.connect(self._on_eval_finished)
        e.exported.connect(self._on_exported)
        e.eval_restored.connect(lambda _job_id, result: self.eval_panel.restore(result))
        e.failed.connect(self._on_failed)

    # -- starting -----------------------------------------------------------------------------
    def start(self, library: Path | None = None, model_id: str | None = None) -> None:
        """Open the last (or sample) library, load the last (or default) model, reload the last
        evaluation; say what each step does, and stay on Ask, where the user starts."""
        remembered = last_library(self.settings)
        path = library or (Path(remembered) if remembered else samples.sample_library_dir())
        self.tabs.setCurrentWidget(self.ask_panel)
        self.statusBar().showMessage(status.starting_text())
        self.ask_panel.set_waiting(status.starting_text())
        self.startup.track(self.client.open_library(str(path)))
        self.startup.track(self.load_model(model_id or self.model_id))
        self.client.restore_evaluation()
        self.client.list_conversations()

    # -- requests -----------------------------------------------------------------------------
    def open_library(self, path: str) -> None:
        """Switch to (or create) the library at `path`."""
        self.client.open_library(path)

    def add_pdfs(self, paths: list[str], show: bool = True) -> Job:
        """Ingest files and folders in the background (`show`: switch to the Library tab)."""
        if show:
            self.tabs.setCurrentWidget(self.library_panel)
        self.library_panel.set_ingesting(True, len(paths))
        return self.client.add_pdfs(paths)

    def load_model(self, model_id: str) -> Job:
        """Load a model in the background (the busy indicator shows meanwhile)."""
        self.model_id = model_id
        self.picker.select(model_id)
        self.picker.set_loading(self.startup.loading(model_id))
        return self.client.load_model(model_id)

    def ask(self, question: str, reference: str = "") -> None:
        """Ask in the background, as the next turn of the conversation on screen."""
        self.chat.ask(question, reference)

    @property
    def _ask_job(self) -> int:
        """The ask whose tokens the Ask panel shows."""
        return self.chat.ask_job

    @_ask_job.setter
    def _ask_job(self, job_id: int) -> None:
        self.chat.ask_job = job_id

    def stop_answer(self) -> None:
        """Stop the answer that streams (Esc, Stop); an ingestion or evaluation goes on."""
        self.cancel(JobKind.ASK)

    def cancel(self, kind: JobKind) -> None:
        """Cancel the active jobs of one kind, by their ids."""
        for job_id in self.client.cancel_kind(kind):
            self.statusBar().showMessage(self.tr("Cancelling job #{id}…").format(id=job_id), 3000)

    def evaluate(self, request: EvalRequest) -> None:
        """Run an evaluation in the background."""
        self.eval_panel.set_running(True)
        self.client.evaluate(request)

    def show_source(self, source: Any, preview: bool = False) -> None:
        """Open a source's PDF at its page in the page view. `preview`: an answer's first
        source, shown unasked, so it never opens a viewer window or reports a missing file."""
        doc = {d.name: d for d in self.documents}.get(source.file)
        if doc is not None:
            self.ask_panel.pdf.show_page(Path(doc.path), source.page, source.page_label,
                                         fallback=not preview, passage=source.text,
                                         scanned=(self.library_path, doc.sha256))
        elif not preview:
            gone = self.tr("{file} is no longer in this library").format(file=source.file)
            self.statusBar().showMessage(gone, 5000)

    def open_models(self) -> None:
        """The Models dialog: download catalog models, add a local .gguf."""
        from rag_desktop.gui.panels.models import open_model_manager

        open_model_manager(self, self.client, self.picker.entries)

    def open_settings(self) -> None:
        """The settings dialog; OK applies and saves the parameters."""
        from rag_desktop.gui.panels.settings import SettingsDialog
        from rag_desktop.library.embeddings import available_embedding_models

        dialog = SettingsDialog(self.params, available_embedding_models(), self,
                                gpu_offload=status.offload_supported(self.model_info))
        if dialog.exec():
            self.apply_params(dialog.params())

    def apply_params(self, params: Params) -> None:
        """Use and remember new parameters (the engine reloads the model when needed)."""
        if params.needs_reload(self.params) and self.model_info is not None:
            self.picker.set_loading(self.tr("Reloading…"))
        self.params = params
        save_params(self.settings, params)
        self.client.set_params(params)

    # -- engine events ------------------------------------------------------------------------
    def _on_started(self, job_id: int) -> None:
        job = self.client.jobs.get(job_id)
        if job is None or job.kind in (JobKind.RESTORE_EVAL, JobKind.CONVERSATIONS):
            return  # quick, and no news to the user
        self.statusBar().showMessage(self.startup.describe(job))
        if job.id in self.startup.jobs:  # also where the answer will appear, until it is ready
            self.ask_panel.set_waiting(self.startup.describe(job))
        if job.kind is JobKind.LOAD_MODEL:  # the catalog's name is known by now
            self.picker.set_loading(self.startup.loading(job.detail))

    def _on_finished(self, job_id: int) -> None:
        if self.startup.finish(job_id):
            self.ask_panel.set_waiting("")
            if self.statusBar().currentMessage().endswith("…"):
                self.statusBar().showMessage(status.ready_text(), 8000)
            return
        # Only the "working on" line goes: a failure or "Wrote …" just shown stays readable.
        if self.client.jobs.running() is None and self.statusBar().currentMessage().endswith("…"):
            self.statusBar().clearMessage()

    def _on_progress(self, job_id: int, event: ProgressEvent) -> None:
        kind = self.client.jobs.kind_of(job_id)
        if kind is JobKind.EVALUATE:
            self.eval_panel.on_progress(event)
        elif kind is JobKind.ADD_PDFS:
            self.library_panel.on_progress(event)

    def _on_library_opened(self, _job_id: int, path: str, documents: list[DocumentInfo]) -> None:
        self.library_path = Path(path)
        self.settings.setValue("session/library", path)
        self.library_panel.set_libraries(self.library_path)
        self._on_documents(documents)
        if not documents and self.library_path.name == SAMPLE_LIBRARY:
            # The first start indexes the sample behind the scenes; the user stays on Ask.
            job = self.add_pdfs([str(samples.sample_pdf())], show=False)
            self.startup.track(job, sample=True)

    def _on_documents(self, documents: list[DocumentInfo]) -> None:
        self.documents = documents
        self.library_panel.set_documents(documents)
        self.status.show_library(self.library_path.name if self.library_path else "?",
                                 len(documents))

    def _ingest_done(self, job_id: int) -> None:
        """Hide the ingest progress unless another ingestion waits behind this one."""
        others = [j for j in self.client.jobs.active(JobKind.ADD_PDFS) if j.id != job_id]
        if not others:
            self.library_panel.set_ingesting(False)

    def _on_ingested(self, job_id: int, outcomes: list[AddOutcome]) -> None:
        self._ingest_done(job_id)
        self.library_panel.show_outcomes(outcomes, self.documents)

    def _on_model_loaded(self, _job_id: int, info: ModelInfo) -> None:
        self.model_info = info
        self.picker.set_loading("")
        self.picker.select(info.id)
        self.settings.setValue("session/model", info.id)
        self.status.show_model(info)

    def _on_model_unloaded(self, model_id: str) -> None:
        """The runner lost the chosen model (it died, or a load failed after freeing it)."""
        self.model_info = None
        self.status.show_unloaded(model_id)

    def _on_catalog(self, entries: list[ModelEntry]) -> None:
        self.startup.names.update({e.id: e.name for e in entries})
        self.picker.set_entries(entries, self.model_id)
        self.eval_panel.set_models(entries, [self.model_id])

    def _on_answered(self, job_id: int, result: AskResult) -> None:
        self.history.append(HistoryEntry(result.answer, self.params.k, self.params.bm25_weight,
                                         result.reference, result.cosine))

    def _on_eval_finished(self, _job_id: int, result: EvalResult) -> None:
        self.eval_panel.show_result(result)

    def _on_exported(self, job_id: int, where: str) -> None:
        if self.client.jobs.kind_of(job_id) is JobKind.EXPORT_REPORTS:
            self.eval_panel.status.setText(self.tr("Exported to {where}").format(where=where))
        self.statusBar().showMessage(self.tr("Wrote {where}").format(where=where), 5000)

    def _on_failed(self, job_id: int, message: str) -> None:
        job = self.client.jobs.get(job_id)
        if job is None:
            return
        message = status.failure_text(message)  # the engine's "cancelled", translated
        self.statusBar().showMessage(f"{status.job_label(job)}: {message}", 10000)
        match job.kind:
            case JobKind.ASK:
                self.chat.failed(job_id, message)
            case JobKind.ADD_PDFS:
                self._ingest_done(job_id)
                self.library_panel.show_error(message)
            case JobKind.LOAD_MODEL | JobKind.SETTINGS:
                self.picker.show_error(message)
            case JobKind.EVALUATE:
                self.eval_panel.set_running(False)
                self.eval_panel.status.setText(message)
            case JobKind.EXPORT_REPORTS:
                self.eval_panel.status.setText(self.tr("Export failed: {message}").format(
                    message=message))
            case _:  # the status bar message above is the whole report
                pass

    # -- exports (written in the engine thread) -----------------------------------------------
    def export_history(self, path: Path) -> None:
        """Write the session's answers; .md gives Markdown, anything else CSV."""
        self.client.export_history(path, self.history)

    def _export_as(self, name: str, pattern: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export history"),
                                              self.folders.start("exports", name), pattern)
        if path:
            self.folders.remember("exports", path)
            self.export_history(Path(path))

    def export_evaluation(self, folder: str) -> None:
        """Write the CLI's report files for the last evaluation into `folder`."""
        result = self.eval_panel.result
        if result is None:
            return
        self.eval_panel.status.setText(self.tr("Exporting to {folder}…").format(folder=folder))
        self.client.export_reports(folder, result)

    # -- window events ------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept PDFs and folders dropped anywhere on the window."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Add dropped PDFs and folders to the current library."""
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.add_pdfs(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember the geometry; stop the engine (frees the model)."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()
        self.client.close()
        super().closeEvent(event)
