"""The GPU harness (python -m benchmarks.gpu), checked on the CPU with this venv's llama_cpp.

No CUDA build here: --no-build runs the steps on this interpreter. No timing is asserted.
"""

from __future__ import annotations

import importlib.util
import json
import tarfile
from pathlib import Path

import pytest

from benchmarks.gpu import carry, harness, report
from benchmarks.gpu.__main__ import main
from benchmarks.gpu.jobs import JOBS, Job, Step


def test_jobs_table_is_well_formed() -> None:
    for job in JOBS.values():
        names = [s.name for s in job.steps]
        assert len(names) == len(set(names)), job.name
        assert job.about
        for step in job.steps:
            assert importlib.util.find_spec(step.module) is not None, step.module
            assert step.kind in ("raw", "app", "breakdown", "profile", "model", "server")
            assert step.kind == "model" or "{out}" in step.args, step.name
            # A step that quantizes needs the CUDA build; only a model step may run without it.
            assert step.needs_llama or step.kind == "model"


def test_smoke_job_runs_resumes_and_writes_its_section(tmp_path: Path) -> None:
    work, out, doc = tmp_path / "work", tmp_path / "out", tmp_path / "performance-gpu.md"
    doc.write_text("# GPU\n\nhand-written text\n", encoding="utf-8")
    argv = ["smoke", "--work", str(work), "--out", str(out), "--no-build", "--wait", "300",
            "--doc", str(doc)]
    assert main(argv) == 0
    res = work / "jobs" / "smoke" / "res"
    assert {"raw-tiny.json", "app-tiny.json", "machine.json"} <= {p.name for p in res.iterdir()}
    assert json.loads((res / "machine.json").read_text())["load_after"]
    text = doc.read_text(encoding="utf-8")
    assert "hand-written text" in text and "<!-- bench:gpu-smoke -->" in text
    assert "| tiny test model |" in text and "(app LLM)" in text and "**Machine**" in text
    with tarfile.open(out / "smoke-results.tgz") as tar:
        assert "smoke/raw-tiny.json" in tar.getnames()
    # Again: the job is done, so nothing is started or re-measured.
    before = (res / "raw-tiny.json").stat().st_mtime_ns
    assert main(argv) == 0
    assert (res / "raw-tiny.json").stat().st_mtime_ns == before
    assert "started job" not in (work / "jobs" / "smoke" / "log").read_text().split(
        "job smoke done")[-1]
    # The archive brought back from a GPU machine renders the same section here.
    other = tmp_path / "other.md"
    assert main(["report", "smoke", str(out / "smoke-results.tgz"), "--doc", str(other)]) == 0
    assert "| tiny test model |" in other.read_text(encoding="utf-8")


def test_failed_step_is_reported_and_the_job_goes_on(tmp_path: Path) -> None:
    job = Job("t", "test", [Step("bad", "benchmarks.no_such_module", ["{out}"]),
                            Step("tiny", "benchmarks.make_arch_gguf", ["--tiny", "--out", "{arch}"],
                                 kind="model", output="{arch}/tiny-llama-2x64.gguf")])
    p = harness.Paths(tmp_path / "w", tmp_path / "carry", build=False)
    p.src.mkdir(parents=True)
    (p.src / "benchmarks").symlink_to(harness.REPO / "benchmarks")
    (p.src / "rag_desktop").symlink_to(harness.REPO / "rag_desktop")
    assert harness.run_job(job, p) == 1
    assert (p.job("t") / "DONE").read_text() == "bad"
    assert (p.arch / "tiny-llama-2x64.gguf").is_file()
    body = report.render(job, p.job("t") / "res")
    assert "Not measured (failed or not reached): bad." in body


def test_a_step_is_skipped_when_its_output_or_done_if_exists(tmp_path: Path) -> None:
    p = harness.Paths(tmp_path / "w", tmp_path / "c", build=False)
    res = tmp_path / "res"
    res.mkdir()
    step = Step("f16", "benchmarks.no_such_module", [], kind="model",
                output="{arch}/m-f16.gguf", done_if="{arch}/m-Q5_K_M.gguf")
    p.arch.mkdir(parents=True)
    (p.arch / "m-Q5_K_M.gguf").touch()  # quantizing deleted the F16 file
    assert harness.run_step(p, res, step)
    assert not (res / "f16.log").exists()  # not run


def test_step_env_puts_the_cuda_build_first(tmp_path: Path) -> None:
    p = harness.Paths(tmp_path / "w", tmp_path / "c")
    env = harness.step_env(p, Step("x", "m", [], env={"CUDA_VISIBLE_DEVICES": ""}))
    assert env["PYTHONPATH"].split(":")[:3] == [str(p.llama), str(p.site), str(p.src)]
    assert env["CUDA_VISIBLE_DEVICES"] == "" and env["RAG_DESKTOP_HOME"].startswith(str(p.work))


@pytest.mark.parametrize(("name", "trimmed"), [
    ("llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab.gguf", True),
    ("llama_cpp_python-0.3.36/vendor/llama.cpp/ggml/src/ggml-vulkan/x.cpp", True),
    ("llama_cpp_python-0.3.36/.git/HEAD", True),
    ("llama_cpp_python-0.3.36/vendor/llama.cpp/ggml/src/ggml-cuda/x.cu", False),
    ("llama_cpp_python-0.3.36/vendor/llama.cpp/ggml/src/ggml-cpu/x.c", False),
    ("llama_cpp_python-0.3.36/vendor/llama.cpp/vendor/miniaudio/miniaudio.h", False),
])
def test_sdist_trim_keeps_what_a_cuda_build_reads(name: str, trimmed: bool) -> None:
    assert carry._trimmed(name) is trimmed


def test_repo_tarball_holds_the_harness_without_the_pdfs(tmp_path: Path) -> None:
    carry.repo_tarball(tmp_path / "repo.tar.gz")
    with tarfile.open(tmp_path / "repo.tar.gz") as tar:
        names = set(tar.getnames())
    assert "repo/benchmarks/gpu/__main__.py" in names and "repo/rag_desktop/llm/runner.py" in names
    assert not any(n.endswith(".pdf") and "devsets" in n for n in names)
