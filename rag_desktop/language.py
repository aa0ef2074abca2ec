"""Which language a text is in (Korean or English), and the app's fixed sentences in each."""

from __future__ import annotations

import re

Language = str  # "ko" or "en"

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LETTER = re.compile(r"[^\W\d_]")

# The one sentence with which an answer says that the documents lack the answer. The prompt asks
# the model for exactly this sentence, the relevance gate answers with it, and a refusal is
# detected by it (never by a looser phrase found anywhere in the text).
REFUSALS: dict[Language, str] = {
    "en": "The documents do not contain the answer.",
    "ko": "문서에 답이 없습니다.",
}


def detect_language(text: str) -> Language:
    """"ko" when at least a fifth of the letters are Hangul, else "en".

    A fifth, not a half: Korean questions about software often carry English command names
    ("\\usepackage는 어디에 쓰나요?"), which are still Korean questions.
    """
    letters = _LETTER.findall(text)
    if not letters:
        return "en"
    hangul = sum(1 for ch in letters if _HANGUL.match(ch))
    return "ko" if hangul * 5 >= len(letters) else "en"


def refusal_sentence(language: Language) -> str:
    """The refusal sentence in `language` (English for a language without one)."""
    return REFUSALS.get(language, REFUSALS["en"])


# A refusal is a short answer that *is* one of the refusal sentences. A one-sentence tail after
# it ("… about printers.") is allowed; longer text is an answer, or an echoed prompt (which
# quotes the sentence in its middle), and never counts as a refusal.
_MAX_REFUSAL_TAIL = 80  # characters after the refusal sentence
_CITATIONS = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_EDGE = "\"'“”‘’「」『』«»*_()[] \t\r\n"  # quotes, emphasis and brackets around a sentence
_END_PUNCT = ".!?。！？…:;,"


def _normal(text: str) -> str:
    """Lowercase, citations dropped, whitespace collapsed, edge quotes and end punctuation off."""
    text = " ".join(_CITATIONS.sub(" ", text).casefold().split())
    previous = None
    while previous != text:
        previous = text
        text = text.strip(_EDGE).rstrip(_END_PUNCT)
    return text


_REFUSAL_KEYS = tuple(_normal(s) for s in REFUSALS.values())
_SENTENCE_BREAK = re.compile(r"[.!?。！？]\s|\n")


def is_refusal(text: str) -> bool:
    """True when the answer text *is* a refusal sentence (language.REFUSALS), not just quotes one.

    It equals one, ignoring case, whitespace, quotes, citations and end punctuation ("The
    documents do not contain the answer"), is one sentence that starts with one and stays short
    ("The documents do not contain the answer about printers."), or repeats one (a looping
    model). An echoed prompt, which quotes the sentence inside its instructions, is no refusal.
    """
    norm = _normal(text)
    if not norm:
        return False
    for key in _REFUSAL_KEYS:
        if norm == key:
            return True
        if norm.startswith(key):
            tail = _normal(norm[len(key):])
            if not tail or _is_refusal_repeat(tail):
                return True
            if len(tail) <= _MAX_REFUSAL_TAIL and not _SENTENCE_BREAK.search(tail):
                return True
    return False


def _is_refusal_repeat(tail: str) -> bool:
    """The rest of a refusal is the same sentence again (and again)."""
    return all(_normal(part) in _REFUSAL_KEYS
               for part in re.split(r"(?<=[.!?。！？])\s*", tail) if _normal(part))


def refused(text: str, gate_refused: bool = False) -> bool:
    """The one refusal rule: the relevance gate refused, or the text is a refusal sentence.

    results.csv's `refused`, summary.csv's refusal accuracy and `ask --json`'s "refused" all
    come from here.
    """
    return gate_refused or is_refusal(text)
