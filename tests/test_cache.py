"""The answer cache: keys, SQLite storage (no pickle), hit, miss and invalidation end to end."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rag_desktop.cache import AnswerCache, cache_key, normalize_question
from rag_desktop.config import DEFAULT_MODEL_ID, GenerationSettings, RetrievalSettings
from rag_desktop.library.library import Library
from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.client import LLM
from rag_desktop.pipeline import Pipeline
from rag_desktop.session import Session

PAGES = ["The Orbit kettle boils one litre of water in ninety seconds.",
         "Descale the Orbit kettle every month with white vinegar."]
QUESTION = "How long does the Orbit kettle take to boil a litre?"


def test_key_normalizes_the_question_and_covers_every_setting(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 16)
    gen, ret = GenerationSettings(), RetrievalSettings()
    key = cache_key("What is  X?", model, gen, ret, "3:minilm")
    assert normalize_question(" ＷＨＡＴ is\tx? ") == "what is x?"
    assert cache_key("  what IS x? ", model, gen, ret, "3:minilm") == key
    others = [cache_key("What is Y?", model, gen, ret, "3:minilm"),
              cache_key("What is X?", model, replace(gen, max_tokens=9), ret, "3:minilm"),
              cache_key("What is X?", model, gen, replace(ret, bm25_weight=0.7), "3:minilm"),
              cache_key("What is X?", model, gen, replace(ret, k=2), "3:minilm"),
              cache_key("What is X?", model, gen, ret, "4:minilm")]
    os.utime(model, ns=(1, 1))  # the same path with another mtime is another model file
    others.append(cache_key("What is X?", model, gen, ret, "3:minilm"))
    assert len({key, *others}) == len(others) + 1


@pytest.fixture
def pipe(tmp_path: Path, embedder, pdf_factory) -> Iterator[Pipeline]:  # type: ignore[no-untyped-def]
    lib = Library.open(tmp_path / "lib", embedder)
    lib.add_pdf(pdf_factory("kettle.pdf", PAGES))
    gen = GenerationSettings(max_tokens=6, n_ctx_cap=1024)
    session = Session(LLM(), load_catalog(), AnswerCache(tmp_path / "cache.sqlite"), lib,
                      RetrievalSettings(k=1), gen)
    p = session.pipeline()
    session.load_model(DEFAULT_MODEL_ID)
    yield p
    session.close()


def test_hit_miss_skip_and_library_change_invalidates(pipe: Pipeline, pdf_factory,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert pipe.cache is not None
    first = pipe.ask(QUESTION)
    assert not first.cache_hit and first.timings.completion_tokens > 0 and len(pipe.cache) == 1

    def no_generation(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cache hit must not reach the model")

    with monkeypatch.context() as mp:
        mp.setattr(pipe.llm, "stream", no_generation)
        hit = pipe.ask("  how long does the ORBIT kettle take to boil a litre? ")
        with pytest.raises(AssertionError, match="must not reach"):
            pipe.ask(QUESTION, use_cache=False)  # --no-cache skips the cache
        with pytest.raises(AssertionError, match="must not reach"):
            pipe.ask(QUESTION, bm25_weight=0.9)  # other retrieval settings: a miss
    assert hit.cache_hit and hit.text == first.text and hit.sources == first.sources
    assert hit.original_timings == first.timings  # the original timings kept next to its own
    assert hit.timings.completion_tokens == 0 and hit.timings.total_s > 0

    pipe.library.add_pdf(pdf_factory("more.pdf", ["The Orbit toaster has four slots."]))
    after = pipe.ask(QUESTION)
    assert not after.cache_hit and after.original_timings is None and len(pipe.cache) == 2


def test_stored_as_json_in_sqlite_and_survives_reopening(pipe: Pipeline, tmp_path: Path) -> None:
    answer = pipe.ask(QUESTION)
    assert pipe.cache is not None
    pipe.cache.close()
    path = tmp_path / "cache.sqlite"
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    with sqlite3.connect(path) as db:
        (stored,) = db.execute("SELECT answer FROM answers").fetchone()
    assert json.loads(stored)["text"] == answer.text  # plain JSON, never a pickle
    reopened = AnswerCache(path)
    pipe.cache = reopened
    again = pipe.ask(QUESTION)
    assert again.cache_hit and again.text == answer.text and again.model == answer.model
