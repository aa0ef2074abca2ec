"""The evaluation grid on real parts: dev library, MiniLM, SmolLM2 in its runner process.

One module fixture runs a small grid (a broken model and SmolLM2, two BM25 weights, two
questions), cancels it after the first answer and resumes it; the tests read its outputs.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag_desktop.cli import main as cli
from rag_desktop.config import DEFAULT_MODEL_ID, HOME_ENV, SCORER_MODEL
from rag_desktop.evaluation.grid import EvalError, config_label
from rag_desktop.evaluation.questions import NOT_IN_DOCUMENT, Question, load_questions
from rag_desktop.evaluation.reports import PLOT_FILES, ResultsWriter, read_results
from rag_desktop.evaluation.results import (
    RESULTS_COLUMNS,
    SUMMARY_COLUMNS,
    EvalConfig,
    EvalRow,
    summarize,
)
from rag_desktop.evaluation.run import run_evaluation
from rag_desktop.evaluation.scoring import scorer_model
from rag_desktop.progress import Cancelled, CancelToken, ProgressEvent
from tests.conftest import REPO, dev_questions

BROKEN = "broken-model"


@dataclass
class Run:
    out: Path
    cfg: EvalConfig
    first_rows: list[EvalRow]
    rows: list[EvalRow]
    events: list[ProgressEvent]


@pytest.fixture(scope="module")
def run(dev_library, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("eval-home")
    (home / "models").mkdir()
    (home / "models" / f"{BROKEN}.gguf").write_bytes(b"GGUF" + b"\0" * 60)  # truncated header
    out = tmp_path_factory.mktemp("eval") / "out"
    cfg = EvalConfig(library=dev_library.path, questions=load_questions(dev_questions()),
                     models=[BROKEN, DEFAULT_MODEL_ID], out_dir=out, bm25_weights=[0.3, 0.7],
                     k=1, limit=2, max_tokens=6)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(HOME_ENV, str(home))
        cancel, first_rows = CancelToken(), []

        def stop_after_first_answer(row: EvalRow) -> None:
            first_rows.append(row)
            if not row.error:
                cancel.cancel()

        with pytest.raises(Cancelled):
            run_evaluation(cfg, cancel=cancel, on_row=stop_after_first_answer)
        events: list[ProgressEvent] = []
        rows = run_evaluation(replace(cfg, resume=True), progress=events.append)
    yield Run(out, cfg, first_rows, rows, events)


def _records(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def test_config_label_matches_the_seed() -> None:
    assert config_label(0.3) == "bm25-0.3_f-0.7"
    assert config_label(0.0) == "bm25-0_f-1" and config_label(0.25) == "bm25-0.25_f-0.75"


def test_grid_is_complete_and_errors_do_not_stop_the_run(run: Run) -> None:
    keys = [r.key for r in run.rows]
    expected = [(m, c, q) for m in (BROKEN, DEFAULT_MODEL_ID)
                for c in ("bm25-0.3_f-0.7", "bm25-0.7_f-0.3")
                for q in ("lilypond-usage-01", "lilypond-usage-02")]
    assert keys == expected
    broken = [r for r in run.rows if r.model_id == BROKEN]
    assert all(r.error.startswith("model load failed:") and r.answer == "" for r in broken)
    assert all(r.cosine is None and r.response_time_s is None for r in broken)
    good = [r for r in run.rows if r.model_id == DEFAULT_MODEL_ID]
    assert all(not r.error and r.answer for r in good)
    assert len({(r.run_id, r.started_at) for r in run.rows}) == 1  # the resume kept the run


def test_cancel_stops_after_the_current_answer_and_resume_redoes_nothing(run: Run) -> None:
    # Cancelled run: four error rows of the broken model, then exactly one answer.
    assert [r.error == "" for r in run.first_rows] == [False] * 4 + [True]
    assert run.rows[:5] == run.first_rows
    assert run.events[0].done == 5 and run.events[-1].done == run.events[-1].total == 8
    assert [e.done for e in run.events] == sorted(e.done for e in run.events)


def test_rows_carry_the_core_timings_and_scores(run: Run) -> None:
    for r in (r for r in run.rows if not r.error):
        assert r.model_file == "SmolLM2-135M-Instruct.Q4_1.gguf" and r.quant and r.backend
        assert r.k == 1 and r.source_pages.count(";") == 0 and r.ref_pages
        assert r.response_time_s is not None and r.retrieval_s is not None
        assert r.first_token_s is not None and r.generation_s is not None
        assert 0 < r.retrieval_s < r.response_time_s and 0 < r.generation_s < r.response_time_s
        assert r.first_token_s <= r.generation_s
        assert r.prompt_tokens and r.prompt_tokens > 50
        assert r.completion_tokens is not None and 0 < r.completion_tokens <= 6 + 1  # + end token
        assert r.cosine is not None and -1.0 <= r.cosine <= 1.0
        assert r.page_hit == (r.first_hit_rank is not None)
        assert r.page_hit == (r.source_pages in r.ref_pages.split(";"))
        assert r.refused is not None and r.cache_hit is False
        assert r.grounded is None or 0.0 <= r.grounded <= 1.0


def test_results_csv_schema_and_round_trip(run: Run) -> None:
    path = run.out / "results.csv"
    with path.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert tuple(header) == RESULTS_COLUMNS
    assert header[:4] == ["run_id", "started_at", "model_id", "model_file"]
    assert header[-6:] == ["cache_hit", "error", "ref_pages", "source_pages", "grounded",
                           "truncated"]
    assert read_results(path) == run.rows


TEXT = st.text(st.characters(blacklist_categories=("Cs",)))
MAYBE_FLOAT = st.none() | st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=30, deadline=None)
@given(answer=TEXT, question=TEXT, cosine=MAYBE_FLOAT, time_s=MAYBE_FLOAT,
       hit=st.none() | st.booleans(), rank=st.none() | st.integers(1, 99))
def test_results_rows_round_trip_exactly(tmp_path_factory: pytest.TempPathFactory, answer: str,
                                         question: str, cosine: float | None,
                                         time_s: float | None, hit: bool | None,
                                         rank: int | None) -> None:
    cells: dict[str, object] = dict.fromkeys(RESULTS_COLUMNS)
    cells.update(run_id="r", started_at="t", model_id="m", model_file="f.gguf", quant="Q4_1",
                 backend="CPU", config="bm25-0.3_f-0.7", bm25_weight=0.3, k=4, question_id="q1",
                 question=question, answer=answer, reference_answer="참조 답", cosine=cosine,
                 page_hit=hit, first_hit_rank=rank, response_time_s=time_s, cache_hit=False,
                 error="", ref_pages="4;5", source_pages="", grounded=cosine)
    row = EvalRow(**cells)  # type: ignore[arg-type]
    path = tmp_path_factory.mktemp("rt") / "results.csv"
    writer = ResultsWriter(path, resume=False)
    writer.append(row)
    writer.append(replace(row, question_id="q2"))
    assert read_results(path) == [row, replace(row, question_id="q2")]
    with pytest.raises(EvalError, match="already"):
        writer.append(row)


def test_seed_form(run: Run) -> None:
    path = run.out / "results-seed.csv"
    assert path.read_text(encoding="utf-8").splitlines()[0] == "model;question;cosine;resp_time"
    records = _records(path, ";")
    assert len(records) == len(run.rows)
    for rec, row in zip(records, run.rows, strict=True):
        assert rec["model"] == f"{row.model_id} {row.config}" and rec["question"] == row.question
        if row.error:
            assert rec["cosine"] == rec["resp_time"] == ""
        else:
            assert row.cosine is not None and row.response_time_s is not None
            assert float(rec["cosine"]) == pytest.approx(row.cosine, abs=1e-6)
            assert float(rec["resp_time"]) == pytest.approx(row.response_time_s, abs=1e-6)


def _recompute(results: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, object]]:
    """summary.csv's figures computed straight from results.csv cells."""
    out: dict[tuple[str, str], dict[str, object]] = {}
    for key in dict.fromkeys((r["model_id"], r["config"]) for r in results):
        group = [r for r in results if (r["model_id"], r["config"]) == key]
        ok = [r for r in group if r["error"] == ""]

        def col(name: str, rows: list[dict[str, str]] = ok) -> list[float]:
            return [float(r[name]) for r in rows if r[name] != ""]

        times = col("response_time_s")
        refusal = [(r["refused"] == "true") == (r["reference_answer"] == NOT_IN_DOCUMENT)
                   for r in ok if r["refused"] != ""]
        out[key] = {
            "n": len(group), "errors": len(group) - len(ok),
            "response_time_mean_s": statistics.fmean(times) if times else None,
            "response_time_median_s": statistics.median(times) if times else None,
            "response_time_p95_s": float(np.percentile(times, 95)) if times else None,
            "tokens_per_s_mean": statistics.fmean(col("tokens_per_s")) if ok else None,
            "cosine_mean": statistics.fmean(col("cosine")) if ok else None,
            "page_hit_rate": statistics.fmean([r["page_hit"] == "true" for r in ok])
            if ok else None,
            "refusal_accuracy": statistics.fmean(refusal) if refusal else None,
            "cache_hits": sum(r["cache_hit"] == "true" for r in ok),
            "grounded_mean": statistics.fmean(col("grounded")) if col("grounded") else None,
        }
    return out


def test_summary_equals_a_recomputation_from_results(run: Run) -> None:
    summary = _records(run.out / "summary.csv")
    assert tuple(summary[0]) == SUMMARY_COLUMNS
    expected = _recompute(_records(run.out / "results.csv"))
    assert [(s["model_id"], s["config"]) for s in summary] == list(expected)
    for s in summary:
        for name, want in expected[(s["model_id"], s["config"])].items():
            if want is None:
                assert s[name] == "", name
            else:
                assert float(s[name]) == pytest.approx(float(want), rel=1e-9, abs=1e-12), name
    assert summary[0]["errors"] == "2" and summary[0]["cosine_mean"] == ""
    assert summary[2]["errors"] == "0" and summary[2]["n"] == "2"


def test_summarize_scores_refusal_items_by_refusal_not_cosine(run: Run) -> None:
    good = next(r for r in run.rows if not r.error)
    items = [replace(good, question_id="a", reference_answer=NOT_IN_DOCUMENT, cosine=None,
                     refused=True, response_time_s=1.0, grounded=None),
             replace(good, question_id="b", reference_answer=NOT_IN_DOCUMENT, cosine=None,
                     refused=False, response_time_s=2.0, grounded=0.25),
             replace(good, question_id="c", cosine=0.5, refused=False, response_time_s=3.0,
                     grounded=0.75),
             replace(good, question_id="d", error="boom", response_time_s=None, cosine=None)]
    (s,) = summarize(items)
    assert (s.n, s.errors, s.cosine_mean, s.refusal_accuracy) == (4, 1, 0.5, pytest.approx(2 / 3))
    assert s.grounded_mean == 0.5
    assert s.response_time_median_s == 2.0


def test_run_json_and_plots(run: Run, dev_library) -> None:  # type: ignore[no-untyped-def]
    info = json.loads((run.out / "run.json").read_text(encoding="utf-8"))
    assert info["status"] == "complete" and info["rows"] == 8
    assert info["machine"]["logical_cores"] >= 1 and info["machine"]["cpu"]
    assert info["library"]["manifest"]["embedding_model"] == dev_library.manifest.embedding_model
    assert info["library"]["version"] == dev_library.version
    assert info["versions"]["llama-cpp-python"] and info["settings"]["k"] == 1
    assert info["settings"]["scorer_model"] == scorer_model(SCORER_MODEL)
    assert info["settings"]["scorer_model_asked"] == SCORER_MODEL
    for name in PLOT_FILES:
        data = (run.out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_existing_results_need_resume(run: Run) -> None:
    with pytest.raises(EvalError, match="already exists; pass --resume"):
        run_evaluation(replace(run.cfg, models=[DEFAULT_MODEL_ID]))
    with pytest.raises(EvalError, match="-k 1"):
        run_evaluation(replace(run.cfg, resume=True, k=2))


def _data_rows(path: Path) -> int:
    return len(_records(path)) if path.exists() else 0


def _start_cli(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as err:
        return subprocess.Popen([sys.executable, "-m", "rag_desktop", *args], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)  # its runner child can die with it


def _wait_for_rows(proc: subprocess.Popen[bytes], path: Path, n: int, log: Path) -> None:
    while _data_rows(path) < n and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, log.read_text()


def test_ctrl_c_then_sigkill_then_resume_has_no_duplicate_or_missing_rows(
    dev_library, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    out, log = tmp_path / "out", tmp_path / "stderr.txt"
    results = out / "results.csv"
    args = ["eval", "--library", str(dev_library.path), "--questions", str(dev_questions()),
            "--out", str(out), "--limit", "4", "-k", "1", "--max-tokens", "4"]
    # Ctrl-C (SIGINT to the CLI alone): it stops cleanly, dropping the unfinished answer.
    proc = _start_cli(args, log)
    _wait_for_rows(proc, results, 1, log)
    proc.send_signal(signal.SIGINT)
    assert proc.wait() == 130, log.read_text()
    assert "the unfinished answer is dropped" in log.read_text()
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["status"] == "cancelled"
    stopped = read_results(results)
    assert 1 <= len(stopped) < 4 and not any(r.error for r in stopped)
    # SIGKILL of the resumed run (and its runner) while it answers the next question.
    proc = _start_cli([*args, "--resume"], log)
    try:
        _wait_for_rows(proc, results, len(stopped) + 1, log)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    killed = read_results(results)
    assert len(stopped) < len(killed) < 4  # killed mid-run, after whole rows only
    assert cli.main([*args, "--resume"]) == 0
    after = read_results(results)
    assert [r.question_id for r in after] == [f"lilypond-usage-0{i}" for i in (1, 2, 3, 4)]
    assert after[: len(killed)] == killed and killed[: len(stopped)] == stopped  # not redone
    assert len({r.run_id for r in after}) == 1 and not any(r.error for r in after)
    assert len(_records(out / "summary.csv")) == 1


def test_the_grid_sweeps_fusions_as_well_as_weights(tmp_path: Path) -> None:
    from rag_desktop.evaluation.grid import plan

    questions = [Question("q1", "What?", "That.")]
    cfg = EvalConfig(library=tmp_path, questions=questions, models=["m"], out_dir=tmp_path,
                     bm25_weights=(0.3, 0.7), fusions=("convex", "rrf"))
    labels = [config_label(s.weight, s.fusion) for _, s, _ in plan(cfg, questions)]
    assert labels == ["bm25-0.3_f-0.7", "bm25-0.7_f-0.3", "rrf-bm25-0.3_f-0.7",
                      "rrf-bm25-0.7_f-0.3"]
    with pytest.raises(EvalError, match="fusion"):
        run_evaluation(EvalConfig(library=tmp_path, questions=questions, models=["m"],
                                  out_dir=tmp_path, fusions=("rank",)))
