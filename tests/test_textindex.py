"""The BM25 tokenizer: exact tokens for English, Korean and mixed text."""

from __future__ import annotations

import pytest

from rag_desktop.textindex import TOKENIZER_ID, TOKENIZERS, tokenize


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Running LilyPond: the -dbackend=svg option!",
         ["running", "lilypond", "the", "dbackend", "svg", "option"]),
        ("lilypond-book 2.24.1 foo_bar", ["lilypond", "book", "2", "24", "1", "foo_bar"]),
        ("설치 방법", ["설치", "방법"]),
        ("악보를 인쇄합니다", ["악보", "보를", "인쇄", "쇄합", "합니", "니다"]),
        ("한 글", ["한", "글"]),
        ("PDF파일을 LilyPond로", ["pdf", "파일", "일을", "lilypond", "로"]),
        ("\u1112\u1161\u11ab\u1100\u1173\u11af", ["한글"]),
        ("", []),
        ("  ...  ", []),
    ],
)
def test_tokens(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_the_id_names_this_tokenizer() -> None:
    assert TOKENIZERS[TOKENIZER_ID] is tokenize
