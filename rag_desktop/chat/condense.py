"""The LLM rewrite of a follow-up question: a short condense prompt in the question's language.

Tiny models follow a pattern better than an instruction, so the prompt shows one worked
example (on a topic far from any manual, so that it is not copied as a fact) and then the
earlier question and the follow-up. The reply is checked: an empty reply, an echo of either
question or of the example, one that is too long, one that is not a question (tiny models often
answer instead), or one that names nothing of the earlier question is refused (None), and the
caller falls back to "prepend".
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from rag_desktop.language import Language, detect_language
from rag_desktop.llm.prompts import defuse

if TYPE_CHECKING:
    from rag_desktop.config import GenerationSettings
    from rag_desktop.llm.client import LLM
    from rag_desktop.progress import CancelToken

INSTRUCTIONS: dict[Language, str] = {
    "en": ("Rewrite the follow-up question so that it can be understood without the earlier "
           "question: name the thing it refers to. Write only the rewritten question."),
    "ko": ("이어지는 질문을 앞의 질문 없이도 이해할 수 있게 다시 쓰세요. 가리키는 대상을 "
           "분명히 밝히고, 다시 쓴 질문 하나만 쓰세요."),
}
# (earlier, follow-up, standalone, and the three labels)
EXAMPLES: dict[Language, tuple[str, str, str, str, str, str]] = {
    "en": ("How do I reset the kettle?", "and how long does that take?",
           "How long does resetting the kettle take?",
           "Earlier question", "Follow-up", "Standalone question"),
    "ko": ("주전자는 어떻게 초기화하나요?", "그건 얼마나 걸려요?",
           "주전자를 초기화하는 데 얼마나 걸리나요?",
           "앞의 질문", "이어지는 질문", "다시 쓴 질문"),
}
# A rewrite longer than this many times both questions together is not a question any more.
MAX_GROWTH = 2.0
# A label the model may write before its answer ("Standalone question:", "Later question:").
_LABEL = re.compile(r"^\s*[^:：?？\n]{0,30}(?:question|질문)\s*[:：]\s*", re.IGNORECASE)


def condense_messages(question: str, earlier: str,
                      language: Language | None = None) -> list[dict[str, str]]:
    """The condense prompt as chat messages, in the follow-up's language."""
    lang = language or detect_language(question)
    ex_earlier, ex_follow, ex_out, l_earlier, l_follow, l_out = EXAMPLES.get(lang, EXAMPLES["en"])
    user = (f"{l_earlier}: {ex_earlier}\n{l_follow}: {ex_follow}\n{l_out}: {ex_out}\n\n"
            f"{l_earlier}: {defuse(earlier.strip())}\n{l_follow}: {defuse(question.strip())}\n"
            f"{l_out}:")
    return [{"role": "system", "content": INSTRUCTIONS.get(lang, INSTRUCTIONS["en"])},
            {"role": "user", "content": user}]


def clean_rewrite(text: str, question: str, earlier: str) -> str | None:
    """The model's reply as a query, or None when it is empty, an echo or too long."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    out = _LABEL.sub("", lines[0]).strip().strip('"“”\'`').strip()
    norm = _norm(out)
    copied = {_norm(text) for example in EXAMPLES.values() for text in example[:3]}
    if not norm or norm in (_norm(question), _norm(earlier)) or norm in copied:
        return None  # nothing, an echo, or the worked example copied
    if len(out) > MAX_GROWTH * (len(question) + len(earlier)):
        return None
    if not out.endswith(("?", "？")):
        return None  # an answer (tiny models often answer instead of rewriting), not a question
    asked = _norm(f"{question} {earlier}")
    if not _anchored(norm, _norm(earlier)) or _borrows_example(norm, asked):
        return None  # it does not name what the earlier question was about
    return out


# Words too common to show that a rewrite is about the earlier question's subject.
_COMMON = frozenset(["what", "which", "when", "where", "does", "have", "with", "that", "this",
                     "from", "into", "there", "about", "would", "could", "should", "your",
                     "make", "want", "need", "then", "than", "them", "they"])
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _stems(text: str) -> set[str]:
    """Content words of normalised text; a Korean word by its first two syllables, since
    particles (을/를, 은/는, ...) attach to its end."""
    out = set()
    for word in text.split():
        if _HANGUL.match(word):
            if len(word) >= 2:
                out.add(word[:2])
        elif len(word) >= 4 and word not in _COMMON:
            out.add(word)
    return out


def _anchored(rewrite: str, earlier: str) -> bool:
    """Whether the rewrite names something of the earlier question (a shared content word)."""
    stems = _stems(earlier)
    return not stems or any(stem in rewrite for stem in stems)


def _borrows_example(rewrite: str, asked: str) -> bool:
    """Whether the rewrite uses a content word of the worked example that nobody asked about."""
    example = _stems(" ".join(_norm(t) for ex in EXAMPLES.values() for t in ex[:3]))
    return any(stem in rewrite and stem not in asked for stem in example)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def llm_rewrite(llm: LLM, question: str, earlier: str, generation: GenerationSettings,
                max_tokens: int, cancel: CancelToken | None = None) -> str | None:
    """Ask the loaded model for a standalone question (greedy, at most `max_tokens`).

    Returns None when the reply is refused by clean_rewrite or ran into the token cap.
    """
    settings = replace(generation, max_tokens=max_tokens, temperature=0.0)
    messages = condense_messages(question, earlier)
    if llm.prompt_format == "completion":
        # A base model: render() would lay out the answer prompt (its worked example and
        # "Answer:"); the condense text itself ends with the label the model continues.
        rendered = llm.render_text("\n\n".join(m["content"] for m in messages))
    else:
        rendered = llm.render(messages)
    # One line is the whole answer: stopping at its end saves the tokens tiny models add after.
    rendered = replace(rendered, stop=[*rendered.stop, "\n"])
    text = "".join(llm.stream(rendered, settings, cancel))
    if llm.last_stats.finish_reason == "length":
        return None  # cut off mid-sentence: too long to be the question
    return clean_rewrite(text, question, earlier)
