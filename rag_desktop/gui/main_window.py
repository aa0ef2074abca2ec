"""The main window: three areas (Library, Ask, Evaluate), menus, status bar; routes signals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QTabWidget, QToolBar

from rag_desktop import samples
from rag_desktop.gui.engine import AskResult, EngineClient, EvalRequest, EvalResult
from rag_desktop.gui.history import HistoryEntry, write_csv, write_markdown
from rag_desktop.gui.panels.ask import AskPanel
from rag_desktop.gui.panels.evaluation import EvalPanel
from rag_desktop.gui.panels.library import LibraryPanel, dropped_paths
from rag_desktop.gui.panels.model_picker import ModelPicker
from rag_desktop.gui.params import Params, last_library, last_model, load_params, save_params
from rag_desktop.progress import ProgressEvent

SAMPLE_LIBRARY = "sample"


class MainWindow(QMainWindow):
    """Renders what the engine reports; every request goes to the engine thread."""

    def __init__(self, settings: QSettings, client: EngineClient | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.params: Params = load_params(settings)
        self.client = client or EngineClient(self.params)
        self.history: list[HistoryEntry] = []
        self.documents: list[Any] = []
        self.library_path: Path | None = None
        self.model_info: Any = None
        self.model_id = last_model(settings)
        self._job = ""
        self.setWindowTitle("rag-desktop — answers from your PDF manuals")
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
        self.tabs = QTabWidget()
        self.tabs.addTab(self.library_panel, "Library")
        self.tabs.addTab(self.ask_panel, "Ask")
        self.tabs.addTab(self.eval_panel, "Evaluate")
        self.tabs.setCurrentWidget(self.ask_panel)
        self.setCentralWidget(self.tabs)
        self.picker = ModelPicker()
        toolbar = QToolBar("Model")
        toolbar.setObjectName("model-toolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.picker)
        self.addToolBar(toolbar)
        self._build_status_bar()
        self._build_menus(toolbar)
        self.library_panel.add_requested.connect(self.add_pdfs)
        self.library_panel.remove_requested.connect(self.client.remove)
        self.library_panel.library_requested.connect(self.open_library)
        self.library_panel.cancel_requested.connect(self.client.stop)
        self.ask_panel.ask_requested.connect(self.ask)
        self.ask_panel.stop_requested.connect(self.client.stop)
        self.ask_panel.source_activated.connect(self.show_source)
        self.eval_panel.run_requested.connect(self.evaluate)
        self.eval_panel.cancel_requested.connect(self.client.stop)
        self.eval_panel.export_requested.connect(self.export_evaluation)
        self.picker.model_chosen.connect(self.load_model)

    def _build_status_bar(self) -> None:
        self.status_model = QLabel("No model")
        self.status_backend = QLabel("")
        self.status_layers = QLabel("")
        self.status_library = QLabel("No library")
        bar = self.statusBar()
        for label in (self.status_library, self.status_model, self.status_backend,
                      self.status_layers):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)

    def _action(self, text: str, slot: Any, *keys: str) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work whichever tab has focus
        return action

    def _build_menus(self, toolbar: QToolBar) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self._action("&Add PDFs…", self.library_panel.choose_pdfs, "Ctrl+O"))
        file_menu.addAction(self._action("Export history as &CSV…", self._export_csv))
        file_menu.addAction(self._action("Export history as &Markdown…", self._export_md))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, "Ctrl+Q"))
        ask_menu = menu.addMenu("&Ask")
        self.ask_action = self._action("&Ask", self.ask_panel.request_ask,
                                       "Ctrl+Return", "Ctrl+Enter")
        self.stop_action = self._action("&Stop", self.client.stop, "Esc")
        ask_menu.addActions([self.ask_action, self.stop_action])
        tools = menu.addMenu("&Tools")
        self.settings_action = self._action("&Settings…", self.open_settings, "Ctrl+,")
        tools.addAction(self.settings_action)
        tools.addAction(self._action("&Rescan models", self.client.refresh_catalog))
        toolbar.addSeparator()
        toolbar.addAction(self.settings_action)

    def _connect_engine(self) -> None:
        e = self.client
        e.busy.connect(self._on_busy)
        e.progress.connect(self._on_progress)
        e.library_opened.connect(self._on_library_opened)
        e.library_details.connect(self.library_panel.set_details)
        e.documents_changed.connect(self._on_documents)
        e.ingest_finished.connect(self._on_ingested)
        e.model_loaded.connect(self._on_model_loaded)
        e.catalog_changed.connect(self._on_catalog)
        e.token.connect(self.ask_panel.append_token)
        e.answered.connect(self._on_answered)
        e.eval_row.connect(self.eval_panel.add_row)
        e.eval_finished.connect(self._on_eval_finished)
        e.failed.connect(self._on_failed)

    # -- starting -----------------------------------------------------------------------------
    def start(self, library: Path | None = None, model_id: str | None = None) -> None:
        """Open the last (or sample) library and load the last (or default) model."""
        remembered = last_library(self.settings)
        path = library or (Path(remembered) if remembered else samples.sample_library_dir())
        self.open_library(str(path))
        self.load_model(model_id or self.model_id)

    # -- requests -----------------------------------------------------------------------------
    def open_library(self, path: str) -> None:
        """Switch to (or create) the library at `path`."""
        self.client.open_library(path)

    def add_pdfs(self, paths: list[str]) -> None:
        """Ingest files and folders in the background."""
        self._job = "ingest"
        self.tabs.setCurrentWidget(self.library_panel)
        self.library_panel.set_ingesting(True, len(paths))
        self.client.add_pdfs(paths)

    def load_model(self, model_id: str) -> None:
        """Load a model in the background (the busy indicator shows meanwhile)."""
        self.model_id = model_id
        self.picker.select(model_id)
        self.picker.set_loading("Loading…")
        self.client.load_model(model_id)

    def ask(self, question: str, reference: str) -> None:
        """Ask in the background; tokens stream into the Ask panel."""
        self._job = "ask"
        self.ask_panel.start_answer()
        self.client.ask(question, reference)

    def evaluate(self, request: EvalRequest) -> None:
        """Run an evaluation in the background."""
        self._job = "eval"
        self.eval_panel.set_running(True)
        self.client.evaluate(request)

    def show_source(self, source: Any) -> None:
        """Open a source's PDF at its page in the page view."""
        paths = {d.name: d.path for d in self.documents}
        path = paths.get(source.file)
        if path is None:
            self.statusBar().showMessage(f"{source.file} is no longer in this library", 5000)
            return
        self.ask_panel.pdf.show_page(Path(path), source.page, source.page_label)

    def open_settings(self) -> None:
        """The settings dialog; OK applies and saves the parameters."""
        from rag_desktop.gui.panels.settings import SettingsDialog
        from rag_desktop.library.embeddings import available_embedding_models

        dialog = SettingsDialog(self.params, available_embedding_models(), self)
        if dialog.exec():
            self.apply_params(dialog.params())

    def apply_params(self, params: Params) -> None:
        """Use and remember new parameters (the engine reloads the model when needed)."""
        if params.needs_reload(self.params) and self.model_info is not None:
            self.picker.set_loading("Reloading…")
        self.params = params
        save_params(self.settings, params)
        self.client.set_params(params)

    # -- engine events ------------------------------------------------------------------------
    def _on_busy(self, what: str) -> None:
        if what:
            self.statusBar().showMessage(f"{what}…")
        else:
            self.statusBar().clearMessage()

    def _on_progress(self, event: ProgressEvent) -> None:
        if self._job == "eval":
            self.eval_panel.on_progress(event)
        else:
            self.library_panel.on_progress(event)

    def _on_library_opened(self, path: str, documents: list) -> None:
        self.library_path = Path(path)
        self.settings.setValue("session/library", path)
        self.library_panel.set_libraries(self.library_path)
        self._on_documents(documents)
        if not documents and self.library_path.name == SAMPLE_LIBRARY:
            self.add_pdfs([str(samples.sample_pdf())])

    def _on_documents(self, documents: list) -> None:
        self.documents = documents
        self.library_panel.set_documents(documents)
        name = self.library_path.name if self.library_path else "?"
        n = len(documents)
        self.status_library.setText(f"Library: {name} ({n} document{'s' * (n != 1)})")

    def _on_ingested(self, outcomes: list) -> None:
        self.library_panel.set_ingesting(False)
        self.library_panel.show_outcomes(outcomes, self.documents)

    def _on_model_loaded(self, info: Any) -> None:
        self.model_info = info
        self.picker.set_loading("")
        self.picker.select(info.id)
        self.settings.setValue("session/model", info.id)
        self.status_model.setText(f"Model: {info.id} ({info.quant})")
        self.status_backend.setText(f"Backend: {info.backend}")
        layers = f"{info.n_gpu_layers}/{info.n_layers}" if info.n_layers else str(
            info.n_gpu_layers)
        self.status_layers.setText(f"GPU layers: {layers}")

    def _on_catalog(self, entries: list) -> None:
        self.picker.set_entries(entries, self.model_id)
        self.eval_panel.set_models(entries, [self.model_id])

    def _on_answered(self, result: AskResult) -> None:
        self.ask_panel.show_answer(result.answer, result.cosine)
        self.history.append(HistoryEntry(result.answer, self.params.k, self.params.bm25_weight,
                                         result.reference, result.cosine))

    def _on_eval_finished(self, result: EvalResult) -> None:
        self.eval_panel.show_result(result)

    def _on_failed(self, what: str, message: str) -> None:
        self.statusBar().showMessage(f"{what}: {message}", 10000)
        if what == "Answering":
            self.ask_panel.show_error(message)
        elif what == "Adding PDFs":
            self.library_panel.set_ingesting(False)
            self.library_panel.progress_label.setText(message)
        elif what == "Loading model":
            self.picker.set_loading("")
            self.picker.busy_label.setText(f"⚠ {message}")
            self.picker.busy_label.setToolTip(message)
        elif what == "Evaluating":
            self.eval_panel.set_running(False)
            self.eval_panel.status.setText(message)

    # -- exports ------------------------------------------------------------------------------
    def export_history(self, path: Path) -> None:
        """Write the session's answers; .md gives Markdown, anything else CSV."""
        writer = write_markdown if path.suffix.lower() in (".md", ".markdown") else write_csv
        writer(path, self.history)
        self.statusBar().showMessage(f"Wrote {path}", 5000)

    def _export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export history", "history.csv", "*.csv")
        if path:
            self.export_history(Path(path))

    def _export_md(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export history", "history.md", "*.md")
        if path:
            self.export_history(Path(path))

    def export_evaluation(self, folder: str) -> None:
        """Write the CLI's report files for the last evaluation into `folder`."""
        from rag_desktop.evaluation.reports import write_reports

        result = self.eval_panel.result
        if result is None:
            return
        run_info = {k: v for k, v in result.run_info.items() if k not in ("rows", "out_dir")}
        write_reports(Path(folder), result.rows, run_info)
        self.eval_panel.status.setText(f"Exported to {folder}")

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
