"""The BM25 tokenizers: lowercase word runs, with Hangul cut into morphemes or character bigrams."""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable
from typing import Any

BIGRAM_TOKENIZER_ID = "word-hangul-bigram-v1"
KIWI_TOKENIZER_ID = "word-kiwi-morpheme-v1"
KIWI_STEM_TOKENIZER_ID = "stem-kiwi-morpheme-v1"
# New libraries record this id; docs/retrieval.md has the measurement that chose it.
TOKENIZER_ID = KIWI_TOKENIZER_ID

Tokenizer = Callable[[str], list[str]]

_WORD = re.compile(r"\w+")
# Hangul syllables (U+AC00..U+D7A3) versus everything else inside one word run.
_HANGUL_OR_NOT = re.compile(r"[\uac00-\ud7a3]+|[^\uac00-\ud7a3]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Kiwi's content tags: nouns, verb and adjective stems, roots, foreign words, numbers, hanja.
# Particles (J*), endings (E*) and affixes carry no topic and match every other chunk.
_KIWI_CONTENT = ("NN", "NP", "NR", "VV", "VA", "XR", "SL", "SN", "SH", "MAG", "W_")


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


class _KiwiHolder:
    """One Kiwi analyser per process, made on first use (its model takes ~1 s to load)."""

    _lock = threading.Lock()
    _kiwi: Any = None

    @classmethod
    def get(cls) -> Any:
        with cls._lock:
            if cls._kiwi is None:
                from kiwipiepy import Kiwi

                cls._kiwi = Kiwi()
            return cls._kiwi


def _kiwi_morphemes(text: str) -> list[str]:
    """Content morphemes of a text that holds Hangul, lowercased; verbs keep their stem."""
    out: list[str] = []
    for token in _KiwiHolder.get().tokenize(text):
        if token.tag.startswith(_KIWI_CONTENT):
            out.extend(_WORD.findall(token.form.lower()))
    return out


def kiwi_tokenize(text: str) -> list[str]:
    """Korean content morphemes (Kiwi) plus the same word runs as `tokenize` for other scripts.

    Text without Hangul never reaches Kiwi, so English libraries index exactly as before.
    Kiwi sees whole lines, not single words, because it uses the context to split particles.
    """
    text = unicodedata.normalize("NFC", text)
    if not _HANGUL.search(text):
        return _WORD.findall(text.lower())
    tokens: list[str] = []
    for line in text.splitlines():
        if _HANGUL.search(line):
            tokens.extend(_kiwi_morphemes(line))
        else:
            tokens.extend(_WORD.findall(line.lower()))
    return tokens


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a Latin-script word; other words as they are.

    Users paraphrase with other forms of the manual's words ("prints", "installing"), which
    plain BM25 counts as different terms.
    """
    if not word.isascii() or not word.isalpha():
        return word
    return str(_StemmerHolder.get().stemWord(word))


class _StemmerHolder:
    """One Snowball English stemmer per process (pure Python, made on first use)."""

    _stemmer: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls._stemmer is None:
            import snowballstemmer

            cls._stemmer = snowballstemmer.stemmer("english")
        return cls._stemmer


def kiwi_stem_tokenize(text: str) -> list[str]:
    """kiwi_tokenize with English words reduced to their Snowball stems."""
    return [stem(token) for token in kiwi_tokenize(text)]


TOKENIZERS: dict[str, Tokenizer] = {
    BIGRAM_TOKENIZER_ID: tokenize,
    KIWI_TOKENIZER_ID: kiwi_tokenize,
    KIWI_STEM_TOKENIZER_ID: kiwi_stem_tokenize,
}
