"""Grounding: which sentences of an answer its cited passages support, and the supported share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rag_desktop.library.textindex import tokenize

# A sentence is supported when at least this share of its content tokens occurs in the cited
# passages. Chosen by measurement (docs/evaluation.md, "Grounded share"): real answers against
# their own passages versus the same answers against another question's passages.
SUPPORT_THRESHOLD = 0.6

# Sentence ends: . ! ? and their full-width forms followed by a space, or a line break. Korean
# sentences also end at 다. 요. 죠. 까? even with no space after them, since text copied from
# PDFs often lost its word spaces ("…정렬됩니다.각주는…").
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+|(?<=[다요죠까][.!?])(?=[^\s.!?])")
_MARK = re.compile(r"\[(\d{1,2})\]")  # one citation the view turns into a link
_CITATION = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_ENUMERATOR = re.compile(r"^\W*(?:\d{1,3}|[a-zA-Z]|[ivx]{1,4}|e\.g|i\.e|etc)[.)]?$", re.IGNORECASE)

# Words that carry no claim: an answer shares them with any English text.
_EN_STOP = frozenset((
    "a", "an", "the", "and", "or", "but", "if", "then", "else", "of", "in", "on", "at", "to",
    "for", "from", "by", "with", "without", "as", "is", "are", "was", "were", "be", "been",
    "being", "am", "do", "does", "did", "doing", "have", "has", "had", "having", "it", "its",
    "it's", "this", "that", "these", "those", "there", "here", "which", "who", "whom", "whose",
    "what", "when", "where", "why", "how", "can", "could", "should", "would", "may", "might",
    "must", "shall", "will", "not", "no", "nor", "so", "than", "too", "very", "just", "also",
    "only", "such", "any", "all", "each", "every", "some", "more", "most", "other", "same", "you",
    "your", "yours", "we", "our", "they", "their", "them", "he", "she", "his", "her", "i", "me",
    "my", "us", "one", "use", "used", "using", "uses", "into", "about", "over", "under", "again",
    "further", "once", "both", "few", "own", "out", "up", "down", "off", "above", "below",
    "between", "through", "during", "before", "after", "while", "because", "until", "yes",
    "please", "note", "following", "example", "e", "g", "ie", "eg", "etc"
))
# Korean endings and particles as Hangul bigrams: every Korean passage has them, so they would
# make any Korean sentence look supported ("…합니다" -> 합니, 니다).
_KO_STOP = frozenset((
    "니다", "습니", "합니", "됩니", "입니", "있습", "없습", "십시", "시오", "세요", "하세", "어요",
    "아요", "해요", "에요", "예요", "이에", "하는", "하고", "하여", "해서", "에서", "으로", "에는",
    "에게", "니까", "는데", "지만", "으면", "하면", "되면", "있는", "있다", "한다", "된다", "이다",
    "이며", "하며", "그리", "그러", "그런", "이런", "저런", "또는", "위해", "대한", "대해", "통해",
    "경우", "것은", "것이", "것을", "수있", "할수",
))


class SentenceSupport(NamedTuple):
    """One sentence of an answer, whether the passages support it, and its score (0..1)."""

    text: str
    supported: bool
    score: float


@dataclass(frozen=True)
class Grounding:
    """The share of an answer's sentences that the passages support (None: nothing to check)."""

    share: float | None
    sentences: list[SentenceSupport]

    @property
    def supported(self) -> int:
        """How many sentences are supported."""
        return sum(1 for s in self.sentences if s.supported)

    @property
    def unsupported(self) -> list[str]:
        """The sentences that no passage supports, in answer order."""
        return [s.text for s in self.sentences if not s.supported]


def split_sentences(text: str) -> list[str]:
    """Sentences of an English or Korean answer; enumerators such as "1." join the next one."""
    pieces = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    out: list[str] = []
    carry = ""
    for piece in pieces:
        if _ENUMERATOR.match(piece):  # "1." or "e.g." alone is not a sentence
            carry = f"{carry} {piece}".strip()
            continue
        out.append(f"{carry} {piece}".strip() if carry else piece)
        carry = ""
    if carry:
        out.append(carry)
    return out


def _stem(token: str) -> str:
    """A light English stem, so that "produces" matches "produce" and "files" matches "file"."""
    if not token.isascii() or len(token) <= 3:
        return token
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("s", "")):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3 and not token.endswith("ss"):
            token = token[: len(token) - len(suffix)] + repl
            break
    # "produce", "produced" and "produces" all become "produc"; "file" and "files" "fil".
    return token[:-1] if token.endswith("e") and len(token) > 3 else token


def content_tokens(text: str) -> set[str]:
    """The stemmed tokens of `text` that can carry a claim (no stop words, citations, 1-letter)."""
    tokens = tokenize(_CITATION.sub(" ", text))
    return {_stem(t) for t in tokens
            if len(t) > 1 and t not in _EN_STOP and t not in _KO_STOP}


def lexical_score(sentence: str, passage_tokens: set[str]) -> float | None:
    """Share of the sentence's content tokens found in the passages; None when it has none."""
    tokens = content_tokens(sentence)
    if not tokens:
        return None
    return sum(1 for t in tokens if t in passage_tokens) / len(tokens)


def grounded(answer_text: str, passages: Sequence[str],
             threshold: float = SUPPORT_THRESHOLD) -> Grounding:
    """Score each sentence of the answer against the passages (their texts).

    A sentence with no content token ("Yes.") is left out. The share is None for an empty
    answer, a refusal sentence, or an answer with no sentence left to check.
    """
    from rag_desktop.language import is_refusal

    if not answer_text.strip() or is_refusal(answer_text):
        return Grounding(None, [])
    passage_tokens: set[str] = set()
    for passage in passages:
        passage_tokens |= content_tokens(passage)
    sentences = []
    for sentence in split_sentences(answer_text):
        score = lexical_score(sentence, passage_tokens)
        if score is not None:
            sentences.append(SentenceSupport(sentence, score >= threshold, score))
    if not sentences:
        return Grounding(None, [])
    share = sum(1 for s in sentences if s.supported) / len(sentences)
    return Grounding(share, sentences)


def citation_marks(text: str, n_sources: int) -> list[tuple[int, int, int]]:
    """The model's own citations in `text`: (start, end, n) for every "[n]" naming one of the
    `n_sources` passages, in order ("[7]" with five passages is not a citation)."""
    return [(m.start(), m.end(), int(m.group(1))) for m in _MARK.finditer(text)
            if 1 <= int(m.group(1)) <= n_sources]


def best_passage(sentence: str, passages: Sequence[str],
                 threshold: float = SUPPORT_THRESHOLD) -> int | None:
    """The 1-based passage that alone supports `sentence` best, or None when none reaches
    `threshold` (the earliest, i.e. best-ranked, passage wins a tie)."""
    best, best_score = None, 0.0
    for n, passage in enumerate(passages, start=1):
        score = lexical_score(sentence, content_tokens(passage)) or 0.0
        if score > best_score:
            best, best_score = n, score
    return best if best_score >= threshold else None


def with_citations(text: str, passages: Sequence[str]) -> str:
    """`text` with inline citations: unchanged when the model cited a passage itself, else
    " [n]" before the end of each sentence that one passage supports (small models often
    omit them)."""
    if citation_marks(text, len(passages)) or is_refusal_text(text):
        return text
    out, pos = [], 0
    for sentence in split_sentences(text):
        at = text.find(sentence, pos)
        n = best_passage(sentence, passages)
        if at < 0 or n is None:
            continue
        end = at + len(sentence)
        cut = end - 1 if sentence[-1] in ".!?。！？" else end  # "… directory [1]."
        out.append(f"{text[pos:cut]} [{n}]")
        pos = cut
    out.append(text[pos:])
    return "".join(out)


def is_refusal_text(text: str) -> bool:
    """Whether `text` is a refusal sentence (no citation is added to one)."""
    from rag_desktop.language import is_refusal

    return is_refusal(text)
