"""The BM25 tokenizer: exact tokens for English, Korean and mixed text."""

from __future__ import annotations

import pytest

from rag_desktop.library.textindex import (
    BIGRAM_TOKENIZER_ID,
    KIWI_TOKENIZER_ID,
    TOKENIZER_ID,
    TOKENIZERS,
    kiwi_tokenize,
    tokenize,
)


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


def test_the_ids_name_their_tokenizers() -> None:
    assert TOKENIZERS[BIGRAM_TOKENIZER_ID] is tokenize
    assert TOKENIZERS[KIWI_TOKENIZER_ID] is kiwi_tokenize
    assert TOKENIZER_ID == KIWI_TOKENIZER_ID  # new libraries index Korean morphemes


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # Particles and endings go; nouns and verb stems stay, whatever particle they carry.
        ("악보를 인쇄합니다", ["악보", "인쇄"]),
        ("악보는 인쇄했어요", ["악보", "인쇄"]),
        ("PDF파일을 LilyPond로 변환", ["pdf", "파일", "lilypond", "변환"]),
        # Text without Hangul never reaches Kiwi: the same tokens as the bigram tokenizer.
        ("Running LilyPond: the -dbackend=svg option!",
         ["running", "lilypond", "the", "dbackend", "svg", "option"]),
        ("", []),
    ],
)
def test_kiwi_tokens(text: str, tokens: list[str]) -> None:
    assert kiwi_tokenize(text) == tokens


def test_kiwi_matches_a_word_whatever_its_particle() -> None:
    # The bigram tokenizer also indexes particle bigrams ("보를"); Kiwi indexes only the noun.
    assert set(kiwi_tokenize("설치를 끝내려면")) & set(kiwi_tokenize("설치는 언제")) == {"설치"}
