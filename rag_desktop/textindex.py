"""The BM25 tokenizer: lowercase word runs, with Hangul runs cut into character bigrams."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

TOKENIZER_ID = "word-hangul-bigram-v1"

Tokenizer = Callable[[str], list[str]]

_WORD = re.compile(r"\w+")
# Hangul syllables (U+AC00..U+D7A3) versus everything else inside one word run.
_HANGUL_OR_NOT = re.compile(r"[\uac00-\ud7a3]+|[^\uac00-\ud7a3]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def hangul_bigrams(run: str) -> list[str]:
    """Character bigrams of a run of Hangul syllables; a single syllable stays a unigram.

    Korean attaches particles to words (설치를, 설치는), so whole runs rarely match;
    bigrams are the usual dictionary-free fix (e.g. Lucene's CJKBigramFilter).
    """
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokenize(text: str) -> list[str]:
    """Lowercase `text`, split it into \\w+ runs, and cut Hangul parts into bigrams."""
    # NFC so that decomposed jamo (as macOS file names and some PDFs give) match syllables.
    tokens: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFC", text).lower()):
        for part in _HANGUL_OR_NOT.findall(word):
            if _HANGUL.match(part):
                tokens.extend(hangul_bigrams(part))
            else:
                tokens.append(part)
    return tokens


TOKENIZERS: dict[str, Tokenizer] = {TOKENIZER_ID: tokenize}

