"""Soak (issue #6, part 5): many asks and many model switches without memory growth.

`make soak` (RAG_DESKTOP_SOAK=1) runs 300 asks and 50 switches; `make test` runs 15 and 4.
RSS is sampled from psutil for this process (the app) and for the model-runner child.
Set RAG_TEST_SOAK_REPORT=FILE to keep the samples (docs/reliability.md quotes them).
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from rag_desktop.config import DEFAULT_MODEL_ID, GenerationSettings, RetrievalSettings
from rag_desktop.library.library import Library
from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.client import LLM, estimate_memory_bytes
from rag_desktop.llm.gguf import read_gguf_info
from rag_desktop.llm.prompts import build_messages
from rag_desktop.pipeline import Pipeline
from rag_desktop.session import Session
from tests.pdfs import make_pdf

SOAK = bool(os.environ.get("RAG_DESKTOP_SOAK"))
# RAG_TEST_SOAK_ASKS / RAG_TEST_SOAK_SWITCHES override the counts (e.g. for a partial soak).
N_ASKS = int(os.environ.get("RAG_TEST_SOAK_ASKS") or (300 if SOAK else 15))
N_SWITCHES = int(os.environ.get("RAG_TEST_SOAK_SWITCHES") or (50 if SOAK else 4))
# pyproject's 600 s per-test timeout is a hang guard for `make test`; a soak gets 3 hours.
pytestmark = pytest.mark.timeout(10800 if SOAK else 600)
# Warm-up: llama.cpp touches its KV-cache pages lazily, so the runner's RSS climbs ~25 MiB
# over the first ~60 asks of the soak (until every cell was used once), then stays flat.
WARM_UP = max(5, N_ASKS // 5)
SECOND_MODEL = "gemma3-270m-q4_k_m"
SETTINGS = GenerationSettings(max_tokens=4, n_ctx_cap=2048)
MIB = 2**20


def _report(name: str, data: dict[str, Any]) -> None:
    path = os.environ.get("RAG_TEST_SOAK_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"test": name, "soak": SOAK, **data}) + "\n")


def _growth(samples: list[int]) -> float:
    """Relative growth of the last tenth (at least 5 samples) over the first as many samples
    after warm-up, by medians, so one sample's noise does not decide."""
    after = samples[WARM_UP:]
    window = max(5, len(after) // 10)
    first, last = statistics.median(after[:window]), statistics.median(after[-window:])
    return (last - first) / first


@pytest.fixture
def pipe(tmp_path: Path, embedder) -> Iterator[Pipeline]:  # type: ignore[no-untyped-def]
    library = Library.open(tmp_path / "lib", embedder)
    library.add_pdf(make_pdf(tmp_path / "kettle.pdf", [
        "Kettle manual. Fill with water up to the MAX line.",
        "Cleaning. Descale the kettle monthly with vinegar.",
        "Safety. Never open the lid while the water boils."]))
    # No answer cache: every ask retrieves, renders and generates.
    session = Session(LLM(), load_catalog(), None, library, RetrievalSettings(k=1), SETTINGS)
    session.load_model(DEFAULT_MODEL_ID)
    yield session.pipeline()
    session.close()


@pytest.mark.slow
def test_asks_do_not_grow_memory(pipe: Pipeline) -> None:
    app = psutil.Process()
    assert pipe.llm.runner_pid is not None
    runner = psutil.Process(pipe.llm.runner_pid)
    app_rss, runner_rss = [], []
    topics = ["descale the kettle", "the MAX line", "opening the lid"]
    for i in range(N_ASKS):
        # A new question each time (a new query embedding and prompt); the shared prompt
        # prefix lets llama.cpp skip most prompt processing, which keeps this affordable.
        answer = pipe.ask(f"What does the manual say about {topics[i % 3]}? (#{i})",
                          use_cache=False)
        assert answer.sources and answer.timings.completion_tokens > 0
        assert not answer.cache_hit
        app_rss.append(app.memory_info().rss)
        runner_rss.append(runner.memory_info().rss)
        if i % 10 == 9:  # a long soak that is cut short still leaves its samples
            _report("asks-progress", {"asks": i + 1, "app_mib": app_rss[-1] / MIB,
                                      "runner_mib": runner_rss[-1] / MIB})
    assert pipe.llm.runner_pid == runner.pid  # the same runner served every ask
    growth = {"app": _growth(app_rss), "runner": _growth(runner_rss)}
    _report("asks", {"asks": N_ASKS, "warm_up": WARM_UP, "growth": growth,
                     "app_rss_mib": [round(x / MIB, 1) for x in app_rss],
                     "runner_rss_mib": [round(x / MIB, 1) for x in runner_rss]})
    assert growth["app"] <= 0.05, growth
    assert growth["runner"] <= 0.05, growth


@pytest.fixture
def llm() -> Iterator[LLM]:
    client = LLM()
    yield client
    client.close()


@pytest.mark.slow
def test_model_switches_free_the_previous_model(llm: LLM) -> None:
    catalog = load_catalog()
    entries = [catalog.get(DEFAULT_MODEL_ID), catalog.get(SECOND_MODEL)]
    samples: dict[str, list[int]] = {e.id: [] for e in entries}
    baseline = None
    for i in range(N_SWITCHES + 1):
        entry = entries[i % 2]
        info = llm.load(entry, SETTINGS)
        assert info.id == entry.id
        pid = llm.runner_pid
        assert pid is not None
        if baseline is None:
            baseline = _runner_without_model(llm)
            llm.load(entry, SETTINGS)
        rendered = llm.render(build_messages("Hi?", [("a.pdf p. 1", "Hello.")]))
        assert "".join(llm.stream(rendered, SETTINGS)) is not None
        samples[entry.id].append(psutil.Process(pid).memory_info().rss)
    assert baseline is not None
    # One model resident at most: above the bare runner, never more than the larger model's
    # own estimate (weights + KV cache + compute buffers).
    one_model = max(estimate_memory_bytes(read_gguf_info(e.path), SETTINGS.n_ctx_cap)
                    for e in entries if e.path is not None)
    peak = max(max(s) for s in samples.values())
    # And no growth from switch to switch. After the larger model the allocator keeps some
    # freed heap (SmolLM2's RSS rises once, ~120 MiB in the 50-switch soak, then stays flat),
    # so the check is a plateau: over the second half of each model's loads, at most +5%.
    # (With the 4 switches of `make test` the halves are too short; the peak check holds.)
    growth = {m: (s[-1] - s[len(s) // 2]) / s[len(s) // 2]
              for m, s in samples.items()}
    _report("switches", {"switches": N_SWITCHES, "baseline_mib": baseline / MIB,
                         "one_model_mib": one_model / MIB, "peak_mib": peak / MIB,
                         "second_half_growth": growth,
                         "rss_mib": {m: [round(x / MIB, 1) for x in s]
                                     for m, s in samples.items()}})
    assert peak - baseline <= one_model, (peak / MIB, baseline / MIB, one_model / MIB)
    if min(len(s) for s in samples.values()) >= 10:
        assert all(g <= 0.05 for g in growth.values()), growth


def _runner_without_model(llm: LLM) -> int:
    """RSS of the runner with no model loaded (after llama.cpp is imported and initialised)."""
    llm.close_model()
    pid = llm.runner_pid
    assert pid is not None
    return int(psutil.Process(pid).memory_info().rss)
