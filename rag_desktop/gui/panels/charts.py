"""Charts of an evaluation: cosine per question and response time per model (QtCharts).

Model ids are long and differ only at the end ("smollm2-135m-instruct-q4_…"), and question ids
share long prefixes ("lilypond-usage-…"), so at 1024×700 a chart cut them into identical
labels. The charts use short unique labels (M1 w=0.3, lu-01); a key under the charts and
the tooltips give the full model id and configuration.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QValueAxis,
)
from PySide6.QtCore import QCoreApplication, QLocale, Qt
from PySide6.QtGui import QCursor, QPainter
from PySide6.QtWidgets import QLabel, QToolTip

ROTATE_AFTER = 8  # more categories than this: labels turn, so each keeps its width

# lupdate finds translate("Context", "text") calls.
translate = QCoreApplication.translate



def pick(row: Any, *names: str) -> Any:
    """The first of `names` that the row has (evaluation rows are plain dataclasses)."""
    for name in names:
        value = row.get(name) if isinstance(row, dict) else getattr(row, name, None)
        if value is not None:
            return value
    return None


@dataclass(frozen=True)
class Config:
    """One bar set: a model with a retriever setting, shown short with its full name kept."""

    short: str  # "M1 w=0.3"
    model: str  # the full model id
    weight: Any  # the BM25 weight, None when the rows have none
    fusion: str  # "convex" or "rrf"

    @property
    def full(self) -> str:
        """'smollm2-135m-instruct-q4_k_m, BM25 weight 0.3 (rrf fusion)'."""
        weight = fusion = ""
        if self.weight is not None:
            weight = translate("EvalCharts", ", BM25 weight {weight}").format(weight=self.weight)
        if self.fusion != "convex":
            fusion = translate("EvalCharts", " ({fusion} fusion)").format(fusion=self.fusion)
        return f"{self.model}{weight}{fusion}"


def _fusion(row: Any) -> str:
    config = str(pick(row, "config") or "")
    return config.split("-", 1)[0] if config.startswith("rrf") else "convex"


class Labels:
    """Short labels for the configurations, numbered by model in order of appearance."""

    def __init__(self) -> None:
        self.models: dict[str, str] = {}  # full model id -> "M1"
        self.configs: dict[str, Config] = {}  # short label -> its Config

    def of(self, row: Any) -> str:
        """The short label of the row's configuration ('M1 w=0.3', 'M2 w=0.5 rrf')."""
        model = str(pick(row, "model", "model_id"))
        code = self.models.setdefault(model, f"M{len(self.models) + 1}")
        weight = pick(row, "bm25_weight", "weight")
        fusion = _fusion(row)
        short = code if weight is None else f"{code} w={weight:g}" if isinstance(
            weight, float | int) else f"{code} w={weight}"
        short += "" if fusion == "convex" else f" {fusion}"
        self.configs.setdefault(short, Config(short, model, weight, fusion))
        return short


def short_question_labels(ids: list[str]) -> dict[str, str]:
    """Short unique axis labels: 'lilypond-usage-01' -> 'lu-01'; 'Q1'… when that collides."""
    def short(qid: str) -> str:
        words = [w for w in re.split(r"[-_\s]+", qid) if w]
        if len(qid) <= 8 or len(words) < 2:
            return qid
        head = "".join(w[0] for w in words[:-1])
        return f"{head}-{words[-1][:4]}"

    labels = {qid: short(qid) for qid in ids}
    if len(set(labels.values())) == len(labels) and all(len(v) <= 8 for v in labels.values()):
        return labels
    return {qid: f"Q{i}" for i, qid in enumerate(ids, start=1)}


def config_name(row: Any, labels: Labels | None = None) -> str:
    """The bar set a row belongs to: one per model, BM25 weight and fusion (short label)."""
    return (labels or Labels()).of(row)


def cosine_by_question(rows: list[Any], labels: Labels | None = None
                       ) -> tuple[list[str], dict[str, list[float]]]:
    """Question ids in order, and per configuration the cosine for each question (0 if none)."""
    labels = labels or Labels()
    questions: list[str] = []
    values: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        qid = str(pick(row, "question_id", "id", "qid"))
        if qid not in questions:
            questions.append(qid)
        values[labels.of(row)][qid] = float(pick(row, "cosine", "score") or 0.0)
    return questions, {c: [v.get(q, 0.0) for q in questions] for c, v in values.items()}


def mean_time_by_model(rows: list[Any], labels: Labels | None = None) -> dict[str, float]:
    """Mean response time (total seconds) per configuration."""
    labels = labels or Labels()
    times: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        total = pick(row, "total_s", "response_time_s", "response_s")
        if total is not None:
            times[labels.of(row)].append(float(total))
    return {c: sum(v) / len(v) for c, v in times.items() if v}


def key_html(labels: Labels, questions: dict[str, str]) -> str:
    """The key under the charts: each short label with the full model id and configuration."""
    if not labels.configs:
        return ""
    lines = [f"<b>{html.escape(c.short)}</b> = {html.escape(c.full)}"
             for c in labels.configs.values()]
    renamed = [f"{html.escape(s)} = {html.escape(q)}" for q, s in questions.items() if q != s]
    if renamed:
        title = html.escape(translate("EvalCharts", "Questions:"))
        lines.append(f"<b>{title}</b> " + ", ".join(renamed))
    return "<br>".join(lines)


def _bar_chart(title: str, categories: list[str], sets: dict[str, list[float]],
               y_title: str, y_max: float | None, tips: dict[str, str]) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    series = QBarSeries()
    for name, values in sets.items():
        bar = QBarSet(name)
        bar.append(values)
        series.append(bar)

    def hovered(status: bool, index: int, bar: QBarSet) -> None:
        # The full model id and configuration of the bar under the mouse.
        if status:
            QToolTip.showText(QCursor.pos(), f"{tips.get(bar.label(), bar.label())}\n"
                                             f"{categories[index]}: "
                                             f"{QLocale().toString(bar.at(index), 'f', 3)}")

    series.hovered.connect(hovered)
    chart.addSeries(series)
    x = QBarCategoryAxis()
    x.append(categories)
    if len(categories) > ROTATE_AFTER:
        x.setLabelsAngle(-60)
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    series.attachAxis(x)
    y = QValueAxis()
    top = max([max(v, default=0.0) for v in sets.values()], default=0.0)
    y.setRange(0.0, y_max if y_max is not None else max(0.1, top * 1.15))
    y.setTitleText(y_title)
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(y)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    return chart


class EvalCharts:
    """Two chart views that redraw from evaluation rows, and the key to their short labels."""

    def __init__(self) -> None:
        self.cosine_view = QChartView()
        self.time_view = QChartView()
        for view in (self.cosine_view, self.time_view):
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setMinimumHeight(200)
        self.key = QLabel("")
        self.key.setWordWrap(True)
        self.key.setTextFormat(Qt.TextFormat.RichText)
        self.key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.labels = Labels()
        self.update([])

    def update(self, rows: list[Any]) -> None:
        """Rebuild both charts and the key."""
        self.labels = Labels()
        questions, cos = cosine_by_question(rows, self.labels)
        short = short_question_labels(questions)
        tips = {c.short: c.full for c in self.labels.configs.values()}
        self.cosine_view.setChart(_bar_chart(
            translate("EvalCharts", "Cosine to the reference, per question"),
            [short[q] for q in questions], cos, translate("EvalCharts", "cosine"), 1.0, tips))
        times = mean_time_by_model(rows, self.labels)
        self.time_view.setChart(_bar_chart(
            translate("EvalCharts", "Mean response time per configuration"),
            [translate("EvalCharts", "mean total")], {c: [t] for c, t in times.items()},
            translate("EvalCharts", "seconds"), None, tips))
        text = key_html(self.labels, short)
        self.key.setText(text)
        self.key.setVisible(bool(text))
        for view in (self.cosine_view, self.time_view):
            view.setToolTip(text)
