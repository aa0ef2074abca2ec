"""`eval` and `bench` on the command line: bad input, the progress bar, both benchmarks."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from rag_desktop.cli import main as cli
from rag_desktop.config import DEFAULT_MODEL_ID, parse_weights
from rag_desktop.evaluation.bench import (
    EmbeddingBenchRow,
    ModelBenchRow,
    _prompt_rate,
    json_reply_valid,
)
from rag_desktop.llm.client import GenerationStats
from tests.conftest import dev_questions


def _one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and words in err and "\n" not in err, err


def test_bad_input_exits_2_with_one_line(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    good = str(dev_questions())
    base = ["eval", "--library", str(tmp_path / "lib"), "--out", str(tmp_path / "out")]
    _one_line_error(capsys, [*base, "--questions", good, "--bm25-weights", "0.3,x"],
                    "'x' is not a number")
    _one_line_error(capsys, [*base, "--questions", good, "--bm25-weights", "1.5"],
                    "not within 0..1")
    bad = tmp_path / "q.csv"
    bad.write_text("id,question\n1,Q\n", encoding="utf-8")
    _one_line_error(capsys, [*base, "--questions", str(bad)], "q.csv:1: missing column")
    _one_line_error(capsys, [*base, "--questions", good, "--models", "nope"],
                    "unknown model 'nope'")
    _one_line_error(capsys, [*base, "--questions", good], "no library at")
    _one_line_error(capsys, [*base, "--questions", good, "--limit", "0"], "--limit")
    (tmp_path / "out").mkdir(exist_ok=True)
    (tmp_path / "out" / "results.csv").write_text("x\n", encoding="utf-8")
    _one_line_error(capsys, [*base, "--questions", good], "pass --resume")
    _one_line_error(capsys, [*base, "--questions", good, "--resume"], "choose another --out")


def test_parse_weights() -> None:
    assert parse_weights("0.3, 0.5,,1") == [0.3, 0.5, 1.0]
    with pytest.raises(ValueError, match="at least one"):
        parse_weights(" , ")


def test_json_reply_valid() -> None:
    assert json_reply_valid(' {"answer": "--png", "page": 5}\n')
    assert json_reply_valid('```json\n{"a": 1}\n```')
    assert not json_reply_valid('Sure! {"a": 1}') and not json_reply_valid("[1, 2]")


def test_prompt_rate_leaves_out_reused_tokens() -> None:
    assert _prompt_rate(GenerationStats(prompt_tokens=300, reused_tokens=100), 2.0) == 100.0
    assert _prompt_rate(GenerationStats(prompt_tokens=90, reused_tokens=90), 2.0) is None


def _table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_bench_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench"
    argv = ["bench", "models", "--models", DEFAULT_MODEL_ID, "--out", str(out),
            "--max-tokens", "4"]
    assert cli.main(argv) == 0
    (row,) = _table(out / "bench-models.csv")
    assert list(row) == list(ModelBenchRow.__dataclass_fields__)
    assert row["error"] == "" and row["quant"] == "Q4_1" and row["backend"]
    assert 1.0e8 < int(row["n_params"]) < 1.6e8 and int(row["context_length"]) >= 2048
    assert 80 < float(row["size_mb"]) < 110 and float(row["rss_mb"]) > 50
    assert float(row["load_s"]) > 0 and float(row["latency_s"]) > 0
    assert int(row["prompt_tokens"]) > 100 and 0 < int(row["completion_tokens"]) <= 5
    assert float(row["prompt_tokens_per_s"]) > 0 and row["json_valid"] in ("true", "false")
    # The system prompt was evaluated at load; the speed counts only what this prompt evaluated.
    assert 0 <= int(row["reused_prompt_tokens"]) < int(row["prompt_tokens"])
    md = (out / "bench-models.md").read_text(encoding="utf-8").splitlines()
    assert md[0].startswith("| model_id | file |") and md[2].startswith(f"| {DEFAULT_MODEL_ID} |")
    assert md[0] in capsys.readouterr().out


def test_bench_embeddings(tmp_path: Path, pdf_factory) -> None:  # type: ignore[no-untyped-def]
    pdf = pdf_factory("m.pdf", ["Pumps. The bilge pump runs on twelve volts.",
                                "Sails. Reef the mainsail when the wind exceeds twenty knots.",
                                "Engine. Change the engine oil every hundred hours."])
    questions = tmp_path / "q.csv"
    questions.write_text("id,question,reference_answer,pages\n"
                         "a,When should I reef the mainsail?,Above twenty knots,2\n"
                         "b,How often is the engine oil changed?,Every 100 hours,3\n"
                         "c,What voltage does the bilge pump use?,Twelve volts,1\n",
                         encoding="utf-8")
    out = tmp_path / "bench"
    assert cli.main(["bench", "embeddings", "--pdf", str(pdf), "--questions", str(questions),
                     "--models", "all-MiniLM-L6-v2", "--out", str(out)]) == 0
    (row,) = _table(out / "bench-embeddings.csv")
    assert list(row) == list(EmbeddingBenchRow.__dataclass_fields__)
    assert row["model_id"] == "sentence-transformers/all-MiniLM-L6-v2" and row["error"] == ""
    assert row["dim"] == "384" and row["chunks"] == "3" and row["questions"] == "3"
    assert float(row["hit_at_1"]) == 1.0 == float(row["hit_at_4"])  # one page per topic
    assert float(row["mrr_at_10"]) == 1.0 and row["set"] == "m" and row["max_tokens"] == "256"
    assert 1.0 >= float(row["top1_sim"]) > 0.3 and row["top1_sim_ood"] == ""
    assert float(row["load_s"]) > 0 and float(row["passages_per_s"]) > 0
    assert float(row["truncated_share"]) == 0.0 and float(row["peak_rss_delta_mb"]) > 0
    assert (out / "bench-embeddings.md").read_text(encoding="utf-8").count("\n") == 3
