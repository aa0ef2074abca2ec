"""ask() end to end: real PDF, real MiniLM + FAISS + BM25, real SmolLM2 in its runner process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rag_desktop.answer import passage_label
from rag_desktop.cache import AnswerCache
from rag_desktop.config import DEFAULT_MODEL_ID, GenerationSettings
from rag_desktop.library.library import Library
from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.client import LLM
from rag_desktop.llm.prompts import build_messages
from rag_desktop.pipeline import NoModelError, Pipeline
from rag_desktop.progress import CancelToken
from rag_desktop.session import Session
from tests.pdfs import make_pdf

PAGES = [
    "The Zephyr 3000 coffee machine manual. Safety: unplug the machine before cleaning it.",
    "Descaling. Run the descaling program every 90 days with citric acid to remove limescale.",
    "Warranty. The Zephyr 3000 is covered for two years from the date of purchase.",
    "Grinder settings. Turn the grinder dial to 5 for espresso and to 9 for filter coffee.",
]



@pytest.fixture(scope="module")
def pipe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    root = tmp_path_factory.mktemp("pipe")
    lib = Library.open(root / "lib")
    lib.add_pdf(make_pdf(root / "zephyr.pdf", PAGES))
    gen = GenerationSettings(max_tokens=40, n_ctx_cap=2048)
    session = Session(LLM(), load_catalog(), AnswerCache(root / "c.sqlite"), lib, generation=gen)
    session.load_model(DEFAULT_MODEL_ID)
    yield session.pipeline()
    session.close()


def test_answer_cites_the_page_that_holds_the_answer(pipe: Pipeline) -> None:
    streamed: list[str] = []
    answer = pipe.ask("How often should I run the descaling program?", on_token=streamed.append,
                      use_cache=False)
    assert answer.sources[0].page == 2 and answer.sources[0].file == "zephyr.pdf"
    assert answer.text and "".join(streamed).strip() == answer.text
    t = answer.timings
    # The repetition stop may hold pieces back and send them together, never more of them.
    assert t.completion_tokens >= len(streamed) > 0 and t.prompt_tokens > 50
    assert 0 < t.retrieval_s < t.total_s and 0 < t.first_token_s <= t.generation_s < t.total_s
    assert answer.model.id == DEFAULT_MODEL_ID and answer.model.backend == "CPU"
    assert answer.dropped_chunks == 0 and not answer.cache_hit
    assert answer.dropped_turns == 0 and answer.to_json()["dropped_turns"] == 0  # no history


def test_sources_arrive_before_the_first_token(pipe: Pipeline) -> None:
    events: list[tuple[str, object]] = []
    answer = pipe.ask("How often should I run the descaling program?", use_cache=False,
                      on_token=lambda piece: events.append(("token", piece)),
                      on_sources=lambda sources: events.append(("sources", sources)))
    assert events[0][0] == "sources" and events[1][0] == "token"
    assert [kind for kind, _ in events].count("sources") == 1
    shown = events[0][1]
    assert isinstance(shown, list) and shown[: len(answer.sources)] == answer.sources


def test_context_budget_drops_the_lowest_ranked_chunks(pipe: Pipeline) -> None:
    q = "descaling"
    full = pipe.ask(q, k=4, use_cache=False)
    assert len(full.sources) == 4
    passages = [(passage_label(s), s.text) for s in full.sources]
    two = pipe.llm.render(build_messages(q, passages[:2])).n_tokens
    info = pipe.llm.info
    assert info is not None
    # A context that holds the prompt with exactly two passages plus max_tokens.
    pipe.llm.info = replace(info, n_ctx=pipe.generation.max_tokens + two)
    try:
        cut = pipe.ask(q, k=4, use_cache=False)
    finally:
        pipe.llm.info = info
    assert cut.dropped_chunks == 2
    assert [s.rank for s in cut.sources] == [1, 2] and cut.timings.prompt_tokens == two


def test_stop_mid_generation(pipe: Pipeline) -> None:
    cancel, seen = CancelToken(), []
    long = Pipeline(pipe.library, pipe.llm, pipe.catalog,
                    generation=replace(pipe.generation, max_tokens=200, temperature=0.9))

    def on_token(t: str) -> None:
        seen.append(t)
        if len(seen) == 2:
            cancel.cancel()

    answer = long.ask("Tell me everything about the machine.", on_token=on_token, cancel=cancel,
                      use_cache=False)
    assert answer.stopped and answer.timings.completion_tokens <= 3


def test_cache_hit_miss_and_invalidation(pipe: Pipeline, tmp_path: Path) -> None:
    q = "What is the warranty period?"
    first = pipe.ask(q)
    again = pipe.ask("  what is the WARRANTY period? ")
    assert not first.cache_hit and again.cache_hit and again.text == first.text
    assert again.original_timings == first.timings
    pipe.library.add_pdf(make_pdf(tmp_path / "other.pdf", ["Another manual about tea."]))
    assert not pipe.ask(q).cache_hit  # the library changed: the cached answer is stale


def test_ask_without_a_model_is_a_clear_error(pipe: Pipeline) -> None:
    empty = Pipeline(pipe.library, LLM(), pipe.catalog)
    with pytest.raises(NoModelError, match="no model is loaded"):
        empty.ask("anything")


def test_an_out_of_document_question_is_refused_without_the_model(pipe: Pipeline) -> None:
    from rag_desktop.language import REFUSALS

    streamed: list[str] = []
    answer = pipe.ask("How do I pair Bluetooth headphones with my car stereo?",
                      on_token=streamed.append, use_cache=False)
    assert answer.refused and answer.is_refused and answer.text == REFUSALS["en"]
    assert "".join(streamed) == answer.text  # the GUI and CLI show it like any answer
    assert answer.timings.completion_tokens == 0 and answer.timings.prompt_tokens == 0
    assert answer.sources  # the closest passages are still shown
    out = answer.to_json()
    assert out["refused"] is True and out["timings"]["completion_tokens"] == 0

    korean = pipe.ask("블루투스 헤드폰은 자동차 오디오에 어떻게 연결하나요?", use_cache=False)
    assert korean.refused and korean.text == REFUSALS["ko"]


def test_questions_the_manual_answers_pass_the_gate(pipe: Pipeline) -> None:
    for question in ("What does the warranty cover?", "Which grinder setting for espresso?",
                     "커피 머신은 얼마나 자주 석회 제거를 해야 하나요?"):
        result = pipe.library.search(question, k=4)
        from rag_desktop import gate

        assert gate.passes(pipe.library.manifest.embedding_model, result), (question, result)


def test_the_gate_can_be_turned_off(pipe: Pipeline) -> None:
    saved = pipe.retrieval
    pipe.retrieval = replace(saved, gate=False)
    try:
        answer = pipe.ask("How do I pair Bluetooth headphones with my car stereo?",
                          use_cache=False)
    finally:
        pipe.retrieval = saved
    assert not answer.refused and answer.timings.completion_tokens > 0
