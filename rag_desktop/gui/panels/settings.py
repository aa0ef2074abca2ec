"""The settings dialog: load-time model settings, generation, retrieval, embeddings and the
UI language."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QWidget,
)

from rag_desktop.gui.i18n import CHOICES, QT_TRANSLATE_NOOP, choice_label, format_number
from rag_desktop.gui.params import Params
from rag_desktop.gui.status import cpu_only_text

SLIDER_STEPS = 100
FUSIONS = {
    "convex": QT_TRANSLATE_NOOP("SettingsDialog", "Normalised scores (default)"),
    "rrf": QT_TRANSLATE_NOOP("SettingsDialog",
                             "Reciprocal rank, LangChain EnsembleRetriever (as specified)"),
}
OCR_CHOICES = {
    "auto": QT_TRANSLATE_NOOP("SettingsDialog", "Automatic (English; Korean by Tesseract)"),
    "en": QT_TRANSLATE_NOOP("SettingsDialog", "English (RapidOCR)"),
    "ko": QT_TRANSLATE_NOOP("SettingsDialog", "Korean (Tesseract)"),
    "off": QT_TRANSLATE_NOOP("SettingsDialog", "Off: leave scanned pages out"),
}
# Filled in from docs/retrieval.md's measurements when the default was chosen.
FUSION_NOTE = QT_TRANSLATE_NOOP(
    "SettingsDialog",
    "The specified BM25 0.3 / dense 0.7 reciprocal-rank fusion lets BM25 only reorder the dense "
    "leg's top 20: on the dev manuals it found fewer reference pages in the top 4 (LilyPond "
    "0.85, R-admin 0.83) than the default (0.92, 0.86), which mixes normalised scores and keeps "
    "each leg's best hit. docs/retrieval.md has every number."
)


class SettingsDialog(QDialog):
    """Edits a Params; `params()` reads the result back."""

    def __init__(self, params: Params, embedding_models: list[str],
                 parent: QWidget | None = None, gpu_offload: bool | None = None) -> None:
        """`gpu_offload`: whether the loaded model's llama.cpp build can offload (None: no
        model loaded, so not known)."""
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        form = QFormLayout(self)
        self.gpu_layers = self._spin(-1, 999, params.n_gpu_layers, self.tr("all (auto)"))
        self._kept_gpu_layers = params.n_gpu_layers
        if gpu_offload is False:
            # "all (auto)" would promise a GPU that this build never uses. The saved value is
            # kept (params() returns it), so it still applies with a build that can offload.
            self.gpu_layers.setSpecialValueText(cpu_only_text())
            self.gpu_layers.setValue(-1)
            self.gpu_layers.setEnabled(False)
            self.gpu_layers.setToolTip(self.tr(
                "The llama.cpp build in use has no GPU backend; every layer runs on the CPU "
                "whatever this is set to."))
        self.threads = self._spin(0, 256, params.n_threads, self.tr("auto"))
        self.n_ctx = self._spin(256, 131072, params.n_ctx)
        self.n_ctx.setSingleStep(512)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setValue(params.temperature)
        self.max_tokens = self._spin(1, 8192, params.max_tokens)
        self.k = self._spin(1, 50, params.k)
        self.bm25 = QSlider(Qt.Orientation.Horizontal)
        self.bm25.setRange(0, SLIDER_STEPS)
        self.bm25.setValue(round(params.bm25_weight * SLIDER_STEPS))
        self.bm25_label = QLabel()
        self.bm25.valueChanged.connect(self._show_weight)
        self._show_weight(self.bm25.value())
        weight_row = QHBoxLayout()
        weight_row.addWidget(self.bm25, 1)
        weight_row.addWidget(self.bm25_label)
        self.fusion = QComboBox()
        for key, text in FUSIONS.items():
            self.fusion.addItem(self.tr(text), key)
        self.fusion.setCurrentIndex(max(0, self.fusion.findData(params.fusion)))
        self.fusion.setToolTip(self.tr(FUSION_NOTE))
        self.gate = QCheckBox(self.tr("say \"not in the documents\" when nothing relevant is "
                                      "found"))
        self.gate.setChecked(params.gate)
        self.embedding = QComboBox()
        self.embedding.setEditable(True)
        self.embedding.addItems(sorted(set(embedding_models) | {params.embedding_model}))
        self.embedding.setCurrentText(params.embedding_model)
        self.ocr = QComboBox()
        for key, text in OCR_CHOICES.items():
            self.ocr.addItem(self.tr(text), key)
        self.ocr.setCurrentIndex(max(0, self.ocr.findData(params.ocr_language)))
        self.ocr.setToolTip(self.tr("How pages without a text layer (scans) are read when a "
                                    "PDF is added"))
        self.language = QComboBox()
        for choice in CHOICES:
            self.language.addItem(choice_label(choice), choice)
        self._select_language(params.language)
        form.addRow(self.tr("GPU layers (n_gpu_layers)"), self.gpu_layers)
        form.addRow(self.tr("CPU threads"), self.threads)
        form.addRow(self.tr("Context size (tokens)"), self.n_ctx)
        form.addRow(self.tr("Temperature"), self.temperature)
        form.addRow(self.tr("Max answer tokens"), self.max_tokens)
        form.addRow(self.tr("Chunks retrieved (k)"), self.k)
        form.addRow(self.tr("BM25 weight (dense = 1 − w)"), weight_row)
        form.addRow(self.tr("Fusion"), self.fusion)
        fusion_note = QLabel(self.tr(FUSION_NOTE))
        fusion_note.setWordWrap(True)
        fusion_note.setStyleSheet("color: palette(mid);")
        form.addRow(fusion_note)
        form.addRow(self.tr("Relevance gate"), self.gate)
        form.addRow(self.tr("Embedding model (new libraries)"), self.embedding)
        form.addRow(self.tr("Scanned pages (OCR)"), self.ocr)
        form.addRow(self.tr("Language"), self.language)
        note = QLabel(self.tr("GPU layers, threads and context size apply when the model is "
                              "loaded again (done for you on OK). The language applies when "
                              "rag-desktop starts again."))
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid);")
        form.addRow(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(lambda: self._load(Params()))
        form.addRow(buttons)

    @staticmethod
    def _spin(low: int, high: int, value: int, special: str = "") -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        if special:
            box.setSpecialValueText(special)
        box.setValue(value)
        return box

    def _show_weight(self, value: int) -> None:
        self.bm25_label.setText(format_number(value / SLIDER_STEPS, 2))

    def _load(self, p: Params) -> None:
        self._kept_gpu_layers = p.n_gpu_layers
        if self.gpu_layers.isEnabled():
            self.gpu_layers.setValue(p.n_gpu_layers)
        self.threads.setValue(p.n_threads)
        self.n_ctx.setValue(p.n_ctx)
        self.temperature.setValue(p.temperature)
        self.max_tokens.setValue(p.max_tokens)
        self.k.setValue(p.k)
        self.bm25.setValue(round(p.bm25_weight * SLIDER_STEPS))
        self.fusion.setCurrentIndex(max(0, self.fusion.findData(p.fusion)))
        self.gate.setChecked(p.gate)
        self.embedding.setCurrentText(p.embedding_model)
        self._select_language(p.language)
        self.ocr.setCurrentIndex(max(0, self.ocr.findData(p.ocr_language)))

    def _select_language(self, choice: str) -> None:
        self.language.setCurrentIndex(max(0, self.language.findData(choice)))

    def params(self) -> Params:
        """The edited parameters."""
        return Params(
            n_gpu_layers=self.gpu_layers.value() if self.gpu_layers.isEnabled()
            else self._kept_gpu_layers, n_threads=self.threads.value(),
            n_ctx=self.n_ctx.value(), temperature=round(self.temperature.value(), 3),
            max_tokens=self.max_tokens.value(), k=self.k.value(),
            bm25_weight=self.bm25.value() / SLIDER_STEPS,
            fusion=str(self.fusion.currentData()), gate=self.gate.isChecked(),
            embedding_model=self.embedding.currentText().strip(),
            language=str(self.language.currentData()),
            ocr_language=str(self.ocr.currentData()),
        )
