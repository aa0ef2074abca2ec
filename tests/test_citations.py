"""Inline citations: the model's own [n] marks, and the ones added where a small model left
them out (grounding.citation_marks, best_passage, with_citations)."""

from __future__ import annotations

from rag_desktop.grounding import best_passage, citation_marks, with_citations

PASSAGES = [
    "To uninstall R, run make uninstall in the build directory.",
    "The printer driver is removed from Settings, Apps, by clicking Uninstall.",
]


def test_marks_are_only_those_naming_a_passage() -> None:
    text = "Run make uninstall [1]. See also [2] and [7], but not [x]."
    assert citation_marks(text, 2) == [(19, 22, 1), (33, 36, 2)]
    assert citation_marks(text, 1) == [(19, 22, 1)]


def test_the_best_passage_is_the_one_that_alone_supports_the_sentence() -> None:
    assert best_passage("Run make uninstall in the build directory.", PASSAGES) == 1
    assert best_passage("Open Settings, then Apps, and click Uninstall.", PASSAGES) == 2
    assert best_passage("Preheat the oven to 200 degrees.", PASSAGES) is None


def test_citations_are_added_after_supported_sentences_only() -> None:
    text = "Run make uninstall in the build directory. Preheat the oven. Open Settings, Apps."
    assert with_citations(text, PASSAGES) == (
        "Run make uninstall in the build directory [1]. Preheat the oven. "
        "Open Settings, Apps [2].")
    assert with_citations("빌드 디렉터리에서 make uninstall을 실행합니다",
                          ["빌드 디렉터리에서 make uninstall을 실행합니다."]) == (
        "빌드 디렉터리에서 make uninstall을 실행합니다 [1]")


def test_an_answer_the_model_cited_itself_is_left_alone() -> None:
    text = "Run make uninstall in the build directory [2]."
    assert with_citations(text, PASSAGES) == text


def test_a_refusal_gets_no_citation() -> None:
    text = "The documents do not contain the answer."
    assert with_citations(text, ["The documents contain the answer about contain."]) == text


def test_one_page_convention_the_printed_label_then_the_pdf_page() -> None:
    from rag_desktop.answer import Source, page_ref, source_ref

    assert page_ref(14, "9") == "9 (PDF p. 14)"
    assert page_ref(4, "4") == "4" and page_ref(4, None) == "4" and page_ref(4, "") == "4"
    assert page_ref(3, "iii") == "iii (PDF p. 3)"
    source = Source(1, "R-admin.pdf", 14, "9", "text", 1.0, 0.5, 0.03)
    assert source_ref(source) == "R-admin.pdf p. 9 (PDF p. 14)"
