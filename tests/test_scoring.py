"""Scores: cosine with the real MiniLM, page hit and rank, refusal detection."""

from __future__ import annotations

import pytest

from rag_desktop.config import SCORER_MODEL
from rag_desktop.evaluation.questions import load_questions
from rag_desktop.evaluation.scoring import (
    cosine,
    first_hit_rank,
    page_hit,
    refusal_correct,
    scorer_model,
)
from rag_desktop.language import REFUSALS, is_refusal, refused
from rag_desktop.library.embed_registry import USE_ID
from rag_desktop.llm.prompts import INSTRUCTIONS, SYSTEM_PROMPT
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
    "  the documents do NOT contain the answer  ",
    '"The documents do not contain the answer."',
    "The documents do not contain the answer [1].",
    "The documents do not contain the answer about Windows registry settings.",
    "The documents do not contain the answer. The documents do not contain the answer.",
    "문서에 답이 없습니다.",
    "문서에 답이 없습니다",
    "**문서에 답이 없습니다.**",
])
def test_refusal_sentences_are_refusals(text: str) -> None:
    assert is_refusal(text) and refused(text)


@pytest.mark.parametrize("text", [
    "Use lilypond -H title foo.ly; it writes foo.title [1].",
    "It produces filename.pdf. Numbered files are not used for a single book.",
    "The --jail option needs root; the documents describe it on page 7 [2].",
    # Loose phrases are answers now: only the exact sentence (or the gate) refuses.
    "I cannot find that in the passages.",
    "I don't know.",
    "답을 찾을 수 없습니다.",
    # A refusal followed by a second sentence went on to answer.
    "The documents do not contain the answer. But lilypond -H title foo.ly writes foo.title.",
    # A long tail is not "a single short sentence" any more.
    "The documents do not contain the answer because " + "it talks about many things " * 5,
    "",
])
def test_answers_are_not_refusals(text: str) -> None:
    assert not is_refusal(text) and not refused(text)


def test_an_echoed_prompt_is_not_a_refusal() -> None:
    """Gemma-3-270M echoed the system prompt, which quotes the refusal sentence (issue 11)."""
    echo = (SYSTEM_PROMPT + "\n\nContext:\n[1] (lilypond-usage.pdf p. 4)\n\"\"\"\nWhen "
            "filename.ly is processed it produces filename.pdf.\n\"\"\"")
    assert "The documents do not contain the answer." in echo
    assert not is_refusal(echo) and not is_refusal(SYSTEM_PROMPT)
    assert not any(is_refusal(text) for text in INSTRUCTIONS.values())  # Korean echoes too
    assert not refused(echo) and refused(echo, gate_refused=True)


def test_the_gate_flag_refuses_whatever_the_text() -> None:
    assert refused("", gate_refused=True) and refused("Anything.", gate_refused=True)
    assert not refused("Anything.", gate_refused=False)


def test_the_prompts_refusal_sentence_and_no_dev_reference_is_a_refusal() -> None:
    sentence = SYSTEM_PROMPT.split('say: "', 1)[1].split('"', 1)[0]
    assert is_refusal(sentence)
    assert all(is_refusal(s) for s in REFUSALS.values())
    assert not any(is_refusal(q.reference_answer) for q in load_questions(dev_questions()))


def test_the_default_scorer_is_multilingual_and_reads_korean(embedder) -> None:  # type: ignore[no-untyped-def]
    from rag_desktop.library.embeddings import get_embedder

    assert scorer_model() == SCORER_MODEL == USE_ID  # its wheel is installed with the app
    assert scorer_model("all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"  # other ids as given
    use = get_embedder(scorer_model())
    reference = "kotex 패키지를 불러오면 한글 문서를 pdflatex으로 컴파일할 수 있다."
    related = "한글 문서는 kotex을 쓰고 pdflatex으로 컴파일하면 됩니다."
    unrelated = "오븐을 200도로 예열하고 빵을 40분 동안 굽습니다."
    margin = cosine(use, related, reference) - cosine(use, unrelated, reference)
    minilm_margin = cosine(embedder, related, reference) - cosine(embedder, unrelated, reference)
    # USE tells a Korean paraphrase from an unrelated Korean sentence; MiniLM reads jamo pieces.
    assert margin > 0.3 and margin > minilm_margin


def test_refusal_correct() -> None:
    assert refusal_correct(True, True) and refusal_correct(False, False)
    assert not refusal_correct(True, False) and not refusal_correct(False, True)
