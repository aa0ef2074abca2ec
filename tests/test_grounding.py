"""Grounded share: sentences split in both languages, scored against real passages; the pipeline's
Answer carries it through JSON and the cache; refusals have none."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest

from rag_desktop.answer import Answer, Source, Timings, answer_from_json
from rag_desktop.config import DEFAULT_MODEL_ID, GenerationSettings
from rag_desktop.grounding import SUPPORT_THRESHOLD, content_tokens, grounded, split_sentences
from rag_desktop.language import REFUSALS
from rag_desktop.library.documents import read_pdf
from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.client import LLM, ModelInfo
from rag_desktop.llm.prompts import SYSTEM_PROMPT
from rag_desktop.pipeline import Pipeline
from tests.conftest import dev_pdf, dev_questions


@pytest.mark.parametrize(("text", "expected"), [
    ("It writes foo.pdf. Then it stops!\nVersion 2.24 is used?",
     ["It writes foo.pdf.", "Then it stops!", "Version 2.24 is used?"]),
    ("1. Install it.\n2. Run lilypond file.ly.", ["1. Install it.", "2. Run lilypond file.ly."]),
    ("설치합니다.다음은 설정입니다. 끝이에요!", ["설치합니다.", "다음은 설정입니다.", "끝이에요!"]),
    ("e.g. use -H. 。Fine", ["e.g. use -H.", "。Fine"]),
    ("", []),
])
def test_sentences_split_in_english_and_korean(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_content_tokens_drop_stop_words_citations_and_endings() -> None:
    assert content_tokens("It produces the files [1].") == {"produc", "fil"}
    assert content_tokens("The file is produced [2, 3]") == {"fil", "produc"}
    # Korean endings (합니다 -> 합니, 니다) match every Korean passage, so they do not count.
    assert content_tokens("설치합니다") == {"설치", "치합"}


@pytest.fixture(scope="module")
def pages() -> dict[int, str]:
    return {p.number: p.text for p in read_pdf(dev_pdf())}


def test_a_copied_sentence_is_supported_and_an_invented_one_is_not(pages: dict[int, str]) -> None:
    page = pages[4]
    answer = ("When filename.ly is processed it produces filename.pdf as output by default [1]. "
              "Preheat the oven to 200 degrees and bake the bread for forty minutes.")
    g = grounded(answer, [page])
    assert [s.supported for s in g.sentences] == [True, False]
    assert g.share == 0.5 and g.supported == 1
    assert g.unsupported == [answer.split("[1]. ")[1]]
    assert g.sentences[0].score == 1.0 and g.sentences[1].score < SUPPORT_THRESHOLD


def test_korean_sentences_are_scored_by_their_words() -> None:
    passage = "한글 글꼴은 은글꼴 패키지로 설치한다. 문서 클래스는 oblivoir를 쓴다."
    g = grounded("은글꼴 패키지로 글꼴을 설치합니다. 파이썬으로 웹 서버를 만듭니다.", [passage])
    assert [s.supported for s in g.sentences] == [True, False]


def test_refusals_and_empty_answers_have_no_share() -> None:
    for text in (*REFUSALS.values(), "", "  \n", "Yes."):
        assert grounded(text, ["some passage"]).share is None
    # An echoed prompt is not a refusal: it is scored (and quotes nothing from the passage).
    echoed = grounded(SYSTEM_PROMPT, ["LilyPond writes PDF files."])
    assert echoed.share is not None and echoed.share < 0.5


def test_reference_answers_are_grounded_in_their_pages_not_in_others(
        pages: dict[int, str]) -> None:
    """The rule separates right from wrong passages on the dev set's hand-written answers."""
    items = [json.loads(line) for line in dev_questions().read_text("utf-8").splitlines()
             if line.strip()]
    items = [i for i in items if i.get("pages")]
    right, wrong = [], []
    for n, item in enumerate(items):
        other = next(o for o in items[n + 1:] + items[:n] if set(o["pages"]) != set(item["pages"]))
        for share, target in ((grounded(item["reference_answer"],
                                        [pages[p] for p in item["pages"]]).share, right),
                              (grounded(item["reference_answer"],
                                        [pages[p] for p in other["pages"]]).share, wrong)):
            assert share is not None
            target.append(share)
    mean_right, mean_wrong = sum(right) / len(right), sum(wrong) / len(wrong)
    assert mean_right > 0.6 and mean_wrong < 0.3 and mean_right - mean_wrong > 0.4


def _answer(text: str) -> Answer:
    info = ModelInfo("smollm2", "s.gguf", "Q4_1", 0, "CPU", 2, 2048, 30)
    source = Source(1, "manual.pdf", 4, "1", "lilypond filename.ly produces filename.pdf", 7.5,
                    0.61, 0.032)
    return Answer("What does it write?", text, [source], info, Timings(0.01, 0.2, 0.5, 0.52))


def test_answer_json_and_cache_round_trip_carry_refused_and_grounded() -> None:
    base = _answer("It writes filename.pdf. It bakes bread.")
    assert base.refused is False and base.grounded is None and not base.is_refused
    scored = replace(base, grounded=0.5)
    doc = scored.to_json()
    assert doc["grounded"] == 0.5 and doc["refused"] is False
    assert answer_from_json(json.loads(json.dumps(asdict(scored)))) == scored
    gate = replace(base, text=REFUSALS["ko"], refused=True)
    assert gate.to_json()["refused"] is True and gate.to_json()["grounded"] is None
    assert replace(base, text=REFUSALS["en"]).to_json()["refused"] is True  # by its text
    assert replace(base, text=SYSTEM_PROMPT).to_json()["refused"] is False  # an echo is not
    # Entries cached before these fields existed still load.
    old = asdict(base)
    del old["refused"], old["grounded"]
    assert answer_from_json(old) == base


def test_pipeline_sets_the_grounded_share_of_a_real_answer(dev_library) -> None:  # type: ignore[no-untyped-def]
    pipe = Pipeline(dev_library, LLM(), load_catalog(),
                    generation=GenerationSettings(max_tokens=48, n_ctx_cap=2048))
    try:
        pipe.load_model(DEFAULT_MODEL_ID)
        answer = pipe.ask("What output file does LilyPond produce by default?", use_cache=False)
    finally:
        pipe.llm.close()  # the library is the session's; it stays open
    expected = grounded(answer.text, [s.text for s in answer.sources]).share
    assert answer.text and expected is not None and answer.grounded == expected
    assert answer.to_json()["grounded"] == expected
