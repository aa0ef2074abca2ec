"""Charts of an evaluation: cosine per question and response time per model (QtCharts)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QValueAxis,
)
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter


def pick(row: Any, *names: str) -> Any:
    """The first of `names` that the row has (evaluation rows are plain dataclasses)."""
    for name in names:
        value = row.get(name) if isinstance(row, dict) else getattr(row, name, None)
        if value is not None:
            return value
    return None


def config_name(row: Any) -> str:
    """'model w=0.3': one bar set per model and BM25 weight."""
    weight = pick(row, "bm25_weight", "weight")
    return f"{pick(row, 'model', 'model_id')} w={weight}" if weight is not None else str(
        pick(row, "model", "model_id"))


def cosine_by_question(rows: list[Any]) -> tuple[list[str], dict[str, list[float]]]:
    """Question ids in order, and per configuration the cosine for each question (0 if none)."""
    questions: list[str] = []
    values: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        qid = str(pick(row, "question_id", "id", "qid"))
        if qid not in questions:
            questions.append(qid)
        values[config_name(row)][qid] = float(pick(row, "cosine", "score") or 0.0)
    return questions, {c: [v.get(q, 0.0) for q in questions] for c, v in values.items()}


def mean_time_by_model(rows: list[Any]) -> dict[str, float]:
    """Mean response time (total seconds) per configuration."""
    times: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        total = pick(row, "total_s", "response_time_s", "response_s")
        if total is not None:
            times[config_name(row)].append(float(total))
    return {c: sum(v) / len(v) for c, v in times.items() if v}


def _bar_chart(title: str, categories: list[str], sets: dict[str, list[float]],
               y_title: str, y_max: float | None) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    series = QBarSeries()
    for name, values in sets.items():
        bar = QBarSet(name)
        bar.append(values)
        series.append(bar)
    chart.addSeries(series)
    x = QBarCategoryAxis()
    x.append(categories)
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
    """Two chart views that redraw from evaluation rows."""

    def __init__(self) -> None:
        self.cosine_view = QChartView()
        self.time_view = QChartView()
        for view in (self.cosine_view, self.time_view):
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setMinimumHeight(220)
        self.update([])

    def update(self, rows: list[Any]) -> None:
        """Rebuild both charts."""
        questions, cos = cosine_by_question(rows)
        self.cosine_view.setChart(_bar_chart(
            "Cosine to the reference, per question", questions, cos, "cosine", 1.0))
        times = mean_time_by_model(rows)
        self.time_view.setChart(_bar_chart(
            "Mean response time per model", ["mean total"],
            {c: [t] for c, t in times.items()}, "seconds", None))
