"""plot-summary.png: readable whatever the number and length of the configurations compared.

A new user's exported plot-summary.png had its x labels (wrapped model ids plus the
configuration) drawn over each other. These tests draw the real figure with long model ids and
check, with matplotlib's own text extents, that no two tick labels overlap, that every label
stays inside the figure, and that the key under the plots still names every full model id.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations, product
from pathlib import Path
from typing import Any

import pytest

from rag_desktop.evaluation import reports
from rag_desktop.evaluation.grid import config_label
from rag_desktop.evaluation.reports import write_plots
from rag_desktop.evaluation.results import EvalRow, SummaryRow, summarize

LONG_MODELS = ["smollm2-135m-instruct-q4_k_m", "smollm2-135m-instruct-q4_0",
               "gemma3-270m-it-qat-q4_0-a-very-long-local-file-name"]


def summary_rows(n_models: int, weights: list[float], fusions: list[str]) -> list[SummaryRow]:
    """One summary row per (model, fusion, weight), with plausible numbers."""
    rows = []
    for i, (model, fusion, weight) in enumerate(product(LONG_MODELS[:n_models], fusions,
                                                        weights)):
        rows.append(SummaryRow(
            model_id=model, config=config_label(weight, fusion), bm25_weight=weight, k=4,
            n=10, errors=0, response_time_mean_s=2.0 + i, response_time_median_s=1.9 + i,
            response_time_p95_s=3.0 + i, tokens_per_s_mean=40.0, cosine_mean=0.61,
            page_hit_rate=0.8, refusal_accuracy=1.0, grounded_mean=0.5))
    return rows


def _overlap(a: Any, b: Any, tolerance: float = 0.5) -> bool:
    """Whether two display-space boxes share more than `tolerance` pixels each way."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance
            and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance)


def _drawn(rows: list[SummaryRow]) -> tuple[Any, list[tuple[str, Any]], str]:
    """The summary figure drawn: (figure, [(tick label, its box)], every text in it)."""
    import matplotlib
    from matplotlib.text import Text

    with matplotlib.rc_context(reports.plot_rc()):
        fig = reports.summary_figure(rows)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ticks = [(t.get_text(), t.get_window_extent(renderer))
                 for ax in fig.axes for t in ax.get_xticklabels() if t.get_text()]
    texts = "\n".join(t.get_text() for t in fig.findobj(Text))
    return fig, ticks, texts


@pytest.mark.parametrize("n_models, weights, fusions", [
    (1, [0.3], ["rrf"]),
    (2, [0.3, 0.5], ["rrf"]),
    (2, [0.3, 0.5, 0.7], ["rrf", "convex"]),
    (3, [0.1, 0.3, 0.5, 0.7, 0.9], ["rrf", "convex"]),
])
def test_summary_tick_labels_never_overlap(n_models: int, weights: list[float],
                                           fusions: list[str]) -> None:
    rows = summary_rows(n_models, weights, fusions)
    fig, ticks, texts = _drawn(rows)
    assert len(ticks) == 2 * len(rows)  # both panels label every configuration
    for (text_a, a), (text_b, b) in combinations(ticks, 2):
        assert not _overlap(a, b), f"{text_a!r} overlaps {text_b!r} ({len(rows)} configurations)"
    page = fig.bbox
    for text, box in ticks:
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, f"{text!r} is cut off"
        assert page.y0 - 1 <= box.y0, f"{text!r} is cut off"
    for row, (text, _) in zip(rows, ticks, strict=False):  # short labels; the key: full ids
        assert row.model_id in texts and f"w={row.bm25_weight:g}" in text
        assert len(text.replace("\n", " ")) <= 16


def test_summary_labels_are_unique_per_configuration() -> None:
    rows = summary_rows(3, [0.3, 0.5, 0.7], ["rrf", "convex"])
    _, ticks, _ = _drawn(rows)
    left = [text for text, _ in ticks[:len(rows)]]
    assert len(set(left)) == len(rows)
    # Configurations the short form cannot tell apart (names from another tool) get numbers,
    # and the key spells each one out.
    odd = [replace(rows[0], config="seed-a"), replace(rows[0], config="seed-b")]
    labels, key = reports.summary_labels(odd)
    assert labels == ["C1", "C2"]
    assert f"C1 = {odd[0].model_id}, seed-a" in key and f"C2 = {odd[0].model_id}, seed-b" in key


def eval_row(model: str, weight: float, qid: str, total: float) -> EvalRow:
    """An evaluation row as the core writes it."""
    return EvalRow(
        run_id="r", started_at="t", model_id=model, model_file="f.gguf", quant="Q4_1",
        n_gpu_layers=0, backend="CPU", n_threads=2, config=config_label(weight, "rrf"),
        bm25_weight=weight, k=4, question_id=qid, question=f"q {qid}", answer="a",
        reference_answer="ref", cosine=0.5, page_hit=True, first_hit_rank=1, refused=False,
        response_time_s=total, retrieval_s=0.01, first_token_s=0.2, generation_s=total - 0.2,
        prompt_tokens=100, completion_tokens=10, tokens_per_s=50.0, cache_hit=False, error="")


def test_write_plots_writes_the_summary_png(tmp_path: Path) -> None:
    rows = [eval_row(m, w, f"lilypond-usage-{i:02d}", 1.0 + i)
            for m in LONG_MODELS for w in (0.3, 0.5, 0.7) for i in range(3)]
    paths = write_plots(tmp_path, rows, summarize(rows))
    summary_png = tmp_path / "plot-summary.png"
    assert summary_png in paths and summary_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
