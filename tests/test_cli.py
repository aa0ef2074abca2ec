"""The CLI contract (docs/cli.md), run as a user would: a subprocess, JSON checked by schema."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from rag_desktop.cli.progress import ProgressBar
from rag_desktop.progress import ProgressEvent
from tests.pdfs import make_pdf

PROGRESS = re.compile(r"^\w+: \d+/\d+ \(\d+%\)")  # progress lines, not messages
NUM = {"type": "number"}
INT = {"type": "integer"}
STR = {"type": "string"}


def _obj(props: dict[str, object]) -> dict[str, object]:
    return {"type": "object", "required": list(props), "properties": props}


SOURCE = _obj({"rank": INT, "file": STR, "page": INT, "text": STR, "bm25": NUM, "dense": NUM,
               "fused": NUM})
DOCS = _obj({"documents": {"type": "array", "items": _obj(
    {"name": STR, "sha256": STR, "pages": INT, "chunks": INT, "added_at": STR})}})
SEARCH = _obj({"query": STR, "retrieval_s": NUM, "results": {"type": "array", "items": SOURCE}})
ASK = _obj({
    "question": STR, "answer": STR, "dropped_chunks": INT,
    "model": _obj({"id": STR, "file": STR, "quant": STR, "n_gpu_layers": INT, "backend": STR}),
    "sources": {"type": "array", "items": SOURCE},
    "timings": _obj({k: NUM for k in ("retrieval_s", "first_token_s", "generation_s", "total_s",
                                      "tokens_per_s")}
                    | {"prompt_tokens": INT, "completion_tokens": INT}),
})
MODELS = _obj({"models": {"type": "array", "items": _obj(
    {"id": STR, "name": STR, "file": STR, "present": {"type": "boolean"},
     "size_bytes": {"type": ["integer", "null"]}, "quant": STR, "context_length": INT,
     "family": STR, "source": STR})}})



def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RAG_DESKTOP_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "rag_desktop", *args], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    good = make_pdf(home / "kettle.pdf", ["Kettle manual. Fill with water up to the MAX line.",
                                      "Cleaning. Descale the kettle monthly with vinegar."])
    empty = home / "empty.pdf"
    empty.write_bytes(b"")
    r = run("ingest", str(empty), str(good), home=home)
    assert r.returncode == 2, r.stderr
    assert "added kettle.pdf: 2 pages" in r.stdout
    assert any(line.startswith("empty.pdf") and "empty" in line for line in r.stderr.splitlines())
    return home


def test_docs_json(home: Path) -> None:
    out = json.loads(run("docs", "--json", home=home).stdout)
    jsonschema.validate(out, DOCS)
    assert [(d["name"], d["pages"]) for d in out["documents"]] == [("kettle.pdf", 2)]


def test_reingest_is_a_noop_that_says_so(home: Path) -> None:
    r = run("ingest", str(home / "kettle.pdf"), home=home)
    assert r.returncode == 0 and "already in the library" in r.stdout


def test_search_json(home: Path) -> None:
    r = run("search", "how to descale", "--json", "-k", "2", home=home)
    out = json.loads(r.stdout)
    jsonschema.validate(out, SEARCH)
    assert out["results"][0]["page"] == 2 and len(out["results"]) == 2


def test_ask_json_with_the_packaged_model(home: Path) -> None:
    r = run("ask", "How often should the kettle be descaled?", "--json", "--max-tokens", "24",
            home=home)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    jsonschema.validate(out, ASK)
    assert out["sources"][0]["page"] == 2 and out["answer"]
    assert out["model"]["id"] == "smollm2-135m-instruct-q4_1" and out["model"]["backend"] == "CPU"
    assert 0 < out["timings"]["completion_tokens"] <= 24


def test_ask_streams_then_prints_sources_and_timings(home: Path) -> None:
    r = run("ask", "What is the MAX line?", "--max-tokens", "16", "--no-cache", home=home)
    assert r.returncode == 0, r.stderr
    assert "Sources:" in r.stdout and "kettle.pdf p. 1" in r.stdout and "tok/s" in r.stdout


def test_models_json() -> None:
    out = json.loads(run("models", "--json", home=Path("/nonexistent-home")).stdout)
    jsonschema.validate(out, MODELS)
    default = out["models"][0]
    assert default["id"] == "smollm2-135m-instruct-q4_1" and default["present"]
    assert (default["quant"], default["context_length"]) == ("Q4_1", 8192)


@pytest.mark.parametrize("args, message", [
    (["ask", "q", "--model", "nope"], "unknown model 'nope'"),
    (["remove", "missing.pdf"], "missing.pdf"),
    (["ingest", "/no/such/file.pdf"], "file.pdf"),
])
def test_bad_input_is_one_line_and_exit_2(home: Path, args: list[str], message: str) -> None:
    r = run(*args, home=home)
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.strip().splitlines() if not PROGRESS.match(ln)]
    assert len(lines) == 1 and message in lines[0]


def test_ask_on_an_empty_library_says_how_to_add_documents(tmp_path: Path) -> None:
    r = run("ask", "How do I descale?", "--max-tokens", "2", home=tmp_path / "fresh-home")
    assert r.returncode == 2 and r.stdout == ""
    lines = [ln for ln in r.stderr.strip().splitlines() if not PROGRESS.match(ln)]
    assert len(lines) == 1 and "is empty; add PDFs with `rag-desktop ingest FILE.pdf`" in lines[0]


def test_progress_bar_eta_comes_from_this_sessions_rate() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(ProgressEvent("eval", 4, 24, "resuming"))  # resumed rows do not count toward the rate
    bar(ProgressEvent("eval", 6, 24, "m bm25-0.3_f-0.7 q7"))
    lines = stream.getvalue().splitlines()  # not a terminal: a line per step, as in a log
    assert lines[0].startswith("eval: 4/24 (17%) |") and lines[0].endswith("resuming")
    assert lines[1].startswith("eval: 6/24 (25%) |") and lines[1].endswith("q7")
    # The line tqdm draws 30 s after the start, at its average rate: 18 left at 15 s each.
    state = dict(bar.bar.format_dict, elapsed=30, rate=None)
    line = bar.bar.format_meter(**state)
    assert line.startswith("eval: 6/24 (25%) |") and "00:30<04:30" in line
    assert line.endswith("m bm25-0.3_f-0.7 q7")


def test_progress_bar_one_line_per_stage_and_warnings_above_it() -> None:
    import logging

    stream = io.StringIO()
    with ProgressBar(stream) as bar:
        bar(ProgressEvent("pages", 1, 2, "a.pdf"))
        logging.getLogger("rag_desktop.test").warning("a.pdf: skipping page 2")
        bar(ProgressEvent("pages", 2, 2, "a.pdf"))
        bar(ProgressEvent("chunks", 0, 5))
        bar(ProgressEvent("chunks", 3, 5))  # cut short: the context still ends the line
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and stream.getvalue().endswith("\n")
    assert lines[1] == "a.pdf: skipping page 2"  # a line of its own, not glued to a bar
    assert [ln.split(" |")[0] for ln in lines if PROGRESS.match(ln)] == [
        "pages: 1/2 (50%)", "pages: 2/2 (100%)", "chunks: 0/5 (0%)", "chunks: 3/5 (60%)"]
    assert bar.bar is None


def test_version_names_the_package_version_and_the_llama_backend(tmp_path: Path) -> None:
    from rag_desktop import __version__

    out = run("--version", home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"rag-desktop {__version__} (llama-cpp-python ")
    assert out.stdout.rstrip().endswith(("CPU)", "CUDA)", "Metal)", "Vulkan)", "ROCm)", "GPU)"))
