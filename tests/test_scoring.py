"""Scores: cosine with the real MiniLM, page hit and rank, refusal detection."""

from __future__ import annotations

import pytest

from rag_desktop.prompts import SYSTEM_PROMPT
from rag_desktop.questions import load_questions
from rag_desktop.scoring import (
    cosine,
    first_hit_rank,
    is_refusal,
    page_hit,
    refusal_correct,
    refused,
)
from tests.conftest import dev_questions


def test_cosine_of_identical_text_is_one(embedder) -> None:  # type: ignore[no-untyped-def]
    text = "Use the -H option to dump a header field such as the title to a text file."
    assert cosine(embedder, text, text) == pytest.approx(1.0, abs=1e-6)
    korean = "한국어 문장입니다."
    assert cosine(embedder, korean, korean) == pytest.approx(1.0, abs=1e-6)


def test_related_pair_scores_above_unrelated_pair(embedder) -> None:  # type: ignore[no-untyped-def]
    reference = "LilyPond produces filename.pdf by default when it processes filename.ly."
    related = "By default the output is a PDF file named after the input, filename.pdf."
    unrelated = "Preheat the oven to 200 degrees and bake the bread for forty minutes."
    rel, unrel = cosine(embedder, related, reference), cosine(embedder, unrelated, reference)
    assert rel > unrel + 0.2
    assert -1.0 <= unrel < rel < 1.0
    assert cosine(embedder, reference, related) == pytest.approx(rel, abs=1e-6)  # symmetric


def test_empty_answer_scores_zero(embedder) -> None:  # type: ignore[no-untyped-def]
    assert cosine(embedder, "   ", "a reference") == 0.0


def test_page_hit_and_first_hit_rank() -> None:
    assert page_hit([6], [37, 6, 26, 6]) == (True, 2)
    assert page_hit((4, 5), [5, 4]) == (True, 1)
    assert page_hit([9], [1, 2, 3]) == (False, None)
    assert page_hit([], [1, 2]) == (False, None)
    assert first_hit_rank([3], [1, 2, 3, 4]) == 3
    assert first_hit_rank([3], []) is None


@pytest.mark.parametrize("text", [
    "The documents do not contain the answer.",
    "I'm sorry, but the context does not mention a --jail option.",
    "This is not mentioned in the provided documents.",
    "I cannot find that in the passages.",
    "There is no information about Windows registry settings in the manual.",
    "I don't know.",
    "문서에 해당 내용이 없습니다.",
    "답을 찾을 수 없습니다.",
])
def test_refusals_are_detected(text: str) -> None:
    assert is_refusal(text) and refused(text)


@pytest.mark.parametrize("text", [
    "Use lilypond -H title foo.ly; it writes foo.title [1].",
    "It produces filename.pdf. Numbered files are not used for a single book.",
    "The --jail option needs root; the documents describe it on page 7 [2].",
    "",
])
def test_answers_are_not_refusals(text: str) -> None:
    assert not is_refusal(text)


def test_the_prompts_refusal_sentence_and_no_dev_reference_is_a_refusal() -> None:
    sentence = SYSTEM_PROMPT.split('say: "', 1)[1].split('"', 1)[0]
    assert is_refusal(sentence)
    assert not any(is_refusal(q.reference_answer) for q in load_questions(dev_questions()))


def test_refusal_correct() -> None:
    assert refusal_correct(True, True) and refusal_correct(False, False)
    assert not refusal_correct(True, False) and not refusal_correct(False, True)
