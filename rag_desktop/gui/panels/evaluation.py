"""The Evaluate area: question file, models, weights; progress; results, summary, charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from rag_desktop.config import parse_weights
from rag_desktop.gui.files import Folders
from rag_desktop.gui.i18n import QT_TRANSLATE_NOOP, format_timestamp
from rag_desktop.gui.messages import EvalRequest, EvalResult
from rag_desktop.gui.panels.charts import EvalCharts
from rag_desktop.gui.table_models import (
    SORT_ROLE,
    CheckableListModel,
    Column,
    RecordTableModel,
    scalar_columns,
)
from rag_desktop.progress import ProgressEvent

# The default fusion, the design card's EnsembleRetriever, or both side by side.
FUSION_CHOICES = {
    QT_TRANSLATE_NOOP("EvalPanel", "Normalised scores (default)"): ["convex"],
    QT_TRANSLATE_NOOP("EvalPanel", "Reciprocal rank (EnsembleRetriever, as specified)"): ["rrf"],
    QT_TRANSLATE_NOOP("EvalPanel", "Both, side by side"): ["convex", "rrf"],
}
# The evaluation's progress stages and messages (anything else is shown as the core wrote it).
PROGRESS_WORDS = {
    "eval": QT_TRANSLATE_NOOP("EvalPanel", "Evaluating"),
    "starting": QT_TRANSLATE_NOOP("EvalPanel", "starting"),
    "resuming": QT_TRANSLATE_NOOP("EvalPanel", "resuming"),
    "done": QT_TRANSLATE_NOOP("EvalPanel", "done"),
}


MAX_COLUMN_PX = 280  # answers and questions are long; the tooltip-free cell shows their start
# What a reader looks at first; the other fields follow in the core's order.
FIRST_COLUMNS = ("question_id", "model_id", "config", "n", "cosine", "cosine_mean",
                 "response_time_s", "response_time_mean_s", "first_token_s", "tokens_per_s",
                 "tokens_per_s_mean", "page_hit", "page_hit_rate", "refused", "grounded",
                 "grounded_mean", "answer", "error")

# The results.csv and summary.csv fields, marked so that the headers show translated (the
# header tooltip keeps the field name); a field added later shows as it is.
FIELD_HEADERS = (
    QT_TRANSLATE_NOOP("Column", "run_id"), QT_TRANSLATE_NOOP("Column", "started_at"),
    QT_TRANSLATE_NOOP("Column", "model_id"), QT_TRANSLATE_NOOP("Column", "model_file"),
    QT_TRANSLATE_NOOP("Column", "quant"), QT_TRANSLATE_NOOP("Column", "n_gpu_layers"),
    QT_TRANSLATE_NOOP("Column", "backend"), QT_TRANSLATE_NOOP("Column", "n_threads"),
    QT_TRANSLATE_NOOP("Column", "config"), QT_TRANSLATE_NOOP("Column", "bm25_weight"),
    QT_TRANSLATE_NOOP("Column", "k"), QT_TRANSLATE_NOOP("Column", "question_id"),
    QT_TRANSLATE_NOOP("Column", "question"), QT_TRANSLATE_NOOP("Column", "answer"),
    QT_TRANSLATE_NOOP("Column", "reference_answer"), QT_TRANSLATE_NOOP("Column", "cosine"),
    QT_TRANSLATE_NOOP("Column", "page_hit"), QT_TRANSLATE_NOOP("Column", "first_hit_rank"),
    QT_TRANSLATE_NOOP("Column", "refused"), QT_TRANSLATE_NOOP("Column", "response_time_s"),
    QT_TRANSLATE_NOOP("Column", "retrieval_s"), QT_TRANSLATE_NOOP("Column", "first_token_s"),
    QT_TRANSLATE_NOOP("Column", "generation_s"), QT_TRANSLATE_NOOP("Column", "prompt_tokens"),
    QT_TRANSLATE_NOOP("Column", "completion_tokens"), QT_TRANSLATE_NOOP("Column", "tokens_per_s"),
    QT_TRANSLATE_NOOP("Column", "cache_hit"), QT_TRANSLATE_NOOP("Column", "error"),
    QT_TRANSLATE_NOOP("Column", "ref_pages"), QT_TRANSLATE_NOOP("Column", "source_pages"),
    QT_TRANSLATE_NOOP("Column", "grounded"), QT_TRANSLATE_NOOP("Column", "n"),
    QT_TRANSLATE_NOOP("Column", "errors"), QT_TRANSLATE_NOOP("Column", "response_time_mean_s"),
    QT_TRANSLATE_NOOP("Column", "response_time_median_s"),
    QT_TRANSLATE_NOOP("Column", "response_time_p95_s"),
    QT_TRANSLATE_NOOP("Column", "tokens_per_s_mean"), QT_TRANSLATE_NOOP("Column", "cosine_mean"),
    QT_TRANSLATE_NOOP("Column", "page_hit_rate"), QT_TRANSLATE_NOOP("Column", "refusal_accuracy"),
    QT_TRANSLATE_NOOP("Column", "cache_hits"), QT_TRANSLATE_NOOP("Column", "grounded_mean"),
)


def records_model(records: list[Any]) -> RecordTableModel[Any]:
    """A table over dataclass rows (or dicts), one column per scalar field, key ones first."""
    if records and isinstance(records[0], dict):
        columns: list[Column[Any]] = [Column(k, _getter(k)) for k in records[0]]
    else:
        columns = scalar_columns(type(records[0])) if records else []
    rank = {name: i for i, name in enumerate(FIRST_COLUMNS)}
    columns.sort(key=lambda c: rank.get(c.header, len(rank)))
    return RecordTableModel(columns, records)


def _getter(key: str) -> Any:
    """Read `key` from a dict row."""
    return lambda row: row.get(key)


class EvalPanel(QWidget):
    """Emits `run_requested(EvalRequest)`, `cancel_requested` and `export_requested(dir)`."""

    run_requested = Signal(object)
    cancel_requested = Signal()
    export_requested = Signal(str)

    def __init__(self, default_questions: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = CheckableListModel()
        self.rows_model: RecordTableModel[Any] = RecordTableModel([])
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)  # match any column
        self.proxy.setSourceModel(self.rows_model)
        self.result: EvalResult | None = None
        self.folders = Folders()  # the main window gives it the app's settings
        self._build(default_questions)
        self.set_running(False)

    def _build(self, default_questions: Path) -> None:
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._form(default_questions))
        splitter.addWidget(self._results())
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _form(self, default_questions: Path) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        self.questions = QLineEdit(str(default_questions))
        browse = QPushButton("…")
        browse.setToolTip(self.tr("Choose a question file"))
        browse.setMaximumWidth(32)
        browse.clicked.connect(self._browse)
        qrow = QHBoxLayout()
        qrow.addWidget(self.questions, 1)
        qrow.addWidget(browse)
        self.model_list = QListView()
        self.model_list.setModel(self.models)
        self.model_list.setMaximumHeight(130)
        self.weights = QLineEdit("0.3")
        self.fusions = QComboBox()
        for text, keys in FUSION_CHOICES.items():
            self.fusions.addItem(self.tr(text), keys)
        self.k = self._spin(1, 50, 4)
        self.max_tokens = self._spin(1, 4096, 64)
        self.limit = self._spin(0, 100000, 0)
        self.limit.setSpecialValueText(self.tr("all"))
        self.run_btn = QPushButton(self.tr("Run evaluation"))
        self.run_btn.clicked.connect(self._request_run)
        self.cancel_btn = QPushButton(self.tr("Cancel"))
        self.cancel_btn.clicked.connect(self.cancel_requested)
        self.export_btn = QPushButton(self.tr("Export CSV…"))
        self.export_btn.clicked.connect(self._choose_export)
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        form.addRow(self.tr("Questions"), qrow)
        form.addRow(self.tr("Models"), self.model_list)
        form.addRow(self.tr("BM25 weights"), self.weights)
        form.addRow(self.tr("Fusion"), self.fusions)
        form.addRow(self.tr("k"), self.k)
        form.addRow(self.tr("Max tokens"), self.max_tokens)
        form.addRow(self.tr("Limit questions"), self.limit)
        buttons = QHBoxLayout()
        for b in (self.run_btn, self.cancel_btn):
            buttons.addWidget(b)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.status)
        form.addRow(self.export_btn)
        return box

    @staticmethod
    def _spin(low: int, high: int, value: int) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setValue(value)
        return box

    def _results(self) -> QWidget:
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(self.tr("Filter rows (any column)…"))
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Interactive)
        self.summary_table = QTableView()
        self.summary_table.verticalHeader().hide()
        self.summary_table.setAlternatingRowColors(True)
        self.charts = EvalCharts()
        tabs = QTabWidget()
        table_box = QWidget()
        lay = QVBoxLayout(table_box)
        lay.addWidget(self.filter)
        lay.addWidget(self.table)
        tabs.addTab(table_box, self.tr("Results"))
        tabs.addTab(self.summary_table, self.tr("Summary"))
        charts = QSplitter(Qt.Orientation.Vertical)
        charts.addWidget(self.charts.cosine_view)
        charts.addWidget(self.charts.time_view)
        charts.addWidget(self.charts.key)
        tabs.addTab(charts, self.tr("Charts"))
        self.tabs = tabs
        return tabs

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Question file"), self.questions.text(),
            self.tr("Questions (*.jsonl *.csv)"))
        if path:
            self.questions.setText(path)

    def set_models(self, entries: list[Any], checked: list[str]) -> None:
        """List the models that can run, with `checked` ticked."""
        self.models.set_items([(e.id, e.name) for e in entries],
                              disabled={e.id for e in entries if not e.present})
        self.models.set_checked(checked)

    def request(self) -> EvalRequest:
        """The request the form describes (raises ValueError for bad weights)."""
        return EvalRequest(
            questions=Path(self.questions.text().strip()), models=self.models.checked(),
            bm25_weights=parse_weights(self.weights.text()), k=self.k.value(),
            max_tokens=self.max_tokens.value(), limit=self.limit.value() or None,
            fusions=list(self.fusions.currentData()))

    def _request_run(self) -> None:
        try:
            request = self.request()
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        if not request.models:
            self.status.setText(self.tr("Tick at least one model."))
            return
        self.rows_model.set_rows([])
        self.run_requested.emit(request)

    def _choose_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Export the evaluation to a folder"), self.folders.start("exports"))
        if folder:
            self.folders.remember("exports", folder, is_folder=True)
            self.export_requested.emit(folder)

    def set_running(self, running: bool) -> None:
        """Run while idle, Cancel while running; export when there are rows."""
        self.run_btn.setEnabled(not running)
        self.cancel_btn.setEnabled(running)
        self.export_btn.setEnabled(not running and self.result is not None
                                   and bool(self.result.rows))
        if running:
            self.progress.setValue(0)
            self.status.setText(self.tr("Running…"))

    def on_progress(self, event: ProgressEvent) -> None:
        """Render a progress event of the evaluation."""
        self.progress.setValue(round(event.fraction * 100))
        stage, message = (self._word(w) for w in (event.stage, event.message))
        self.status.setText(f"{stage} {event.done}/{event.total} {message}".strip())

    def _word(self, word: str) -> str:
        """A progress stage or message in the UI's language (a model id stays as it is)."""
        return self.tr(PROGRESS_WORDS[word]) if word in PROGRESS_WORDS else word

    def add_row(self, row: Any) -> None:
        """A row arrived: the first one fixes the columns."""
        if self.rows_model.columnCount() == 0:
            self._set_rows([row])
        else:
            self.rows_model.append(row)

    def _set_rows(self, rows: list[Any]) -> None:
        self.rows_model = records_model(rows)
        self.proxy.setSourceModel(self.rows_model)

    def restore(self, result: EvalResult) -> None:
        """Show the run saved before a restart, unless the user started one meanwhile."""
        if self.result is None and self.run_btn.isEnabled():
            self.show_result(result, restored=True)

    def show_result(self, result: EvalResult, restored: bool = False) -> None:
        """Final rows, the summary and the charts; `restored`: a run saved before a restart."""
        self.result = result
        self._set_rows(result.rows)
        summary = list(result.summary) if isinstance(result.summary, list) else []
        self.summary_model = records_model(summary)  # the view does not own its model
        self.summary_table.setModel(self.summary_model)
        for view in (self.table, self.summary_table):
            view.resizeColumnsToContents()
            for column in range(view.model().columnCount()):
                view.setColumnWidth(column, min(view.columnWidth(column), MAX_COLUMN_PX))
        self.charts.update(result.rows)
        n = len(result.rows)
        self.status.setText(self.tr("{n} rows, cancelled.").format(n=n) if result.cancelled
                            else self.tr("{n} rows, done.").format(n=n))
        if restored:
            where = result.run_info.get("out_dir", "")
            when = str(result.run_info.get("started_at", ""))
            text = (self.tr("The last run ({n} rows, {when}), reloaded from {where}.") if when
                    else self.tr("The last run ({n} rows), reloaded from {where}."))
            self.status.setText(text.format(n=n, when=format_timestamp(when), where=where))
        self.progress.setValue(100 if not result.cancelled else self.progress.value())
        self.set_running(False)
