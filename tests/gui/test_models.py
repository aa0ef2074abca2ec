"""The Qt models pass pytest-qt's model tester; plain helpers that the panels rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSortFilterProxyModel, Qt

from rag_desktop.answer import Answer, Source, Timings
from rag_desktop.config import parse_weights
from rag_desktop.evaluation.results import EvalRow
from rag_desktop.gui.history import HistoryEntry, write_csv, write_markdown
from rag_desktop.gui.panels.ask import sources_model
from rag_desktop.gui.panels.charts import cosine_by_question, mean_time_by_model
from rag_desktop.gui.panels.evaluation import records_model
from rag_desktop.gui.panels.library import DocumentRow, documents_model, overall_fraction
from rag_desktop.gui.table_models import SORT_ROLE, CheckableListModel
from rag_desktop.llm.client import ModelInfo
from rag_desktop.progress import ProgressEvent

SOURCES = [
    Source(1, "manual.pdf", 4, "1", "lilypond filename.ly produces filename.pdf", 7.5, 0.61,
           0.032),
    Source(2, "설명서.pdf", 12, None, "한국어 텍스트 조각", 0.0, 0.48, 0.016),
]


def eval_row(qid: str, cosine: float | None, total: float, model: str = "m1") -> EvalRow:
    """An evaluation row as the core writes it."""
    return EvalRow(
        run_id="r", started_at="t", model_id=model, model_file="f.gguf", quant="Q4_1",
        n_gpu_layers=0, backend="CPU", n_threads=2, config="w0.30", bm25_weight=0.3, k=4,
        question_id=qid, question=f"q {qid}", answer="a", reference_answer="ref",
        cosine=cosine, page_hit=True, first_hit_rank=1, refused=False, response_time_s=total,
        retrieval_s=0.01, first_token_s=0.2, generation_s=total - 0.2, prompt_tokens=100,
        completion_tokens=10, tokens_per_s=50.0, cache_hit=False, error="")


def answer(text: str = "It writes filename.pdf.") -> Answer:
    """A finished answer with two sources."""
    info = ModelInfo("smollm2", "s.gguf", "Q4_1", 0, "CPU", 2, 2048, 30)
    return Answer("What does it write?", text, SOURCES, info,
                  Timings(0.01, 0.2, 0.5, 0.52, 300, 12, 22.0))


def test_documents_model(qtmodeltester: Any) -> None:
    model = documents_model()
    model.set_rows([DocumentRow("a.pdf", 3, 9, "2026-01-01T10:00:00"),
                    DocumentRow("bad.pdf", None, None, "", "error", "not a PDF")])
    qtmodeltester.check(model)
    assert model.index(1, 4).data() == "not a PDF"
    assert model.index(1, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    model.append(DocumentRow("b.pdf", 1, 1, "2026-01-02"))
    qtmodeltester.check(model)


def test_sources_model(qtmodeltester: Any) -> None:
    model = sources_model()
    model.set_rows(SOURCES)
    qtmodeltester.check(model)
    # the printed label, with the PDF's page where they differ; the same in every export
    assert model.index(0, 2).data() == "1 (PDF p. 4)"
    assert model.index(1, 2).data() == "12"
    assert model.index(1, 1).data() == "설명서.pdf"
    assert model.index(0, 6).data(SORT_ROLE) == pytest.approx(0.032)


def test_eval_rows_model_with_sort_and_filter(qtmodeltester: Any) -> None:
    rows = [eval_row("q1", 0.8, 1.5), eval_row("q2", None, 0.5), eval_row("q3", 0.2, 3.0)]
    model = records_model(rows)
    qtmodeltester.check(model)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterKeyColumn(-1)
    qtmodeltester.check(proxy)
    col = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    proxy.sort(col.index("response_time_s"), Qt.SortOrder.DescendingOrder)
    assert proxy.index(0, col.index("question_id")).data() == "q3"
    proxy.setFilterFixedString("q2")
    assert proxy.rowCount() == 1


def test_checkable_list_model(qtmodeltester: Any) -> None:
    model = CheckableListModel()
    model.set_items([("a", "Model A"), ("b", "Model B"), ("c", "Missing")], disabled={"c"})
    qtmodeltester.check(model)
    model.set_checked(["a", "c"])
    assert model.checked() == ["a"]
    assert model.setData(model.index(1), Qt.CheckState.Checked.value,
                         Qt.ItemDataRole.CheckStateRole)
    assert model.checked() == ["a", "b"]
    assert not model.setData(model.index(2), Qt.CheckState.Checked.value,
                             Qt.ItemDataRole.CheckStateRole)
    assert not model.flags(model.index(2)) & Qt.ItemFlag.ItemIsEnabled


def test_summary_model_over_core_summary(qtmodeltester: Any) -> None:
    from rag_desktop.evaluation.results import summarize

    model = records_model(summarize([eval_row("q1", 0.8, 1.5), eval_row("q2", 0.4, 0.5)]))
    qtmodeltester.check(model)
    assert model.rowCount() == 1


def test_chart_data() -> None:
    rows = [eval_row("q1", 0.8, 1.0), eval_row("q2", None, 3.0),
            eval_row("q1", 0.4, 2.0, model="m2")]
    questions, sets = cosine_by_question(rows)
    assert questions == ["q1", "q2"]
    assert sets == {"M1 w=0.3": [0.8, 0.0], "M2 w=0.3": [0.4, 0.0]}
    assert mean_time_by_model(rows) == {"M1 w=0.3": 2.0, "M2 w=0.3": 2.0}


def test_parse_weights() -> None:
    assert parse_weights("0, 0.3 0.7") == [0.0, 0.3, 0.7]
    with pytest.raises(ValueError):
        parse_weights("1.5")
    with pytest.raises(ValueError):
        parse_weights("")


def test_overall_fraction_reaches_one() -> None:
    assert overall_fraction(ProgressEvent("pages", 73, 73), 0, 1) == pytest.approx(0.3)
    assert overall_fraction(ProgressEvent("chunks", 0, 10), 1, 2) == pytest.approx(0.65)
    assert overall_fraction(ProgressEvent("files", 2, 2), 2, 2) == 1.0


def test_history_exports(tmp_path: Path) -> None:
    entries = [HistoryEntry(answer(), 4, 0.3, "filename.pdf", 0.91),
               HistoryEntry(answer("한국어 답"), 4, 0.5)]
    write_csv(tmp_path / "h.csv", entries)
    write_markdown(tmp_path / "h.md", entries)
    text = (tmp_path / "h.csv").read_text(encoding="utf-8-sig")
    assert "manual.pdf p. 1 (PDF p. 4); 설명서.pdf p. 12" in text and "0.91" in text
    md = (tmp_path / "h.md").read_text(encoding="utf-8")
    assert "## 2. What does it write?" in md and "한국어 답" in md
