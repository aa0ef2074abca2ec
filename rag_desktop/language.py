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
