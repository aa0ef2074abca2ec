"""An answer's text and its line of metrics, as HTML for the conversation view (no widgets)."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QCoreApplication

from rag_desktop.grounding import Grounding, grounded

UNSUPPORTED_STYLE = "background-color:#fde2e1"  # a sentence that no cited passage supports
# lupdate finds translate("Context", "text") calls: f-strings it cannot read, so the words
# are translated with {placeholders} and the numbers formatted into them.
translate = QCoreApplication.translate


def answer_grounding(answer: Any) -> Grounding | None:
    """Which sentences of a finished answer its sources support; None when refused or unscored."""
    if answer.grounded is None or answer.is_refused:
        return None
    found = grounded(answer.text, [s.text for s in answer.sources])
    return found if found.share is not None else None


def answer_html(text: str, grounding: Grounding | None) -> str:
    """The answer as HTML, its unsupported sentences highlighted (plain text stays plain)."""
    out, pos = [], 0
    for sentence in grounding.sentences if grounding else []:
        at = text.find(sentence.text, pos)
        if at < 0 or sentence.supported:
            continue
        out.append(html.escape(text[pos:at]))
        out.append(f"<span style='{UNSUPPORTED_STYLE}'>{html.escape(sentence.text)}</span>")
        pos = at + len(sentence.text)
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def answer_label(i: int, n: int) -> str:
    """'<b>answer 1/2</b> · ' before the metrics of one of a turn's `n` answers; '' when n = 1."""
    if n <= 1:
        return ""
    text = translate("AnswerText", "answer {i}/{n}").format(i=i, n=n)
    return f"<b>{text}</b> · "


def _gate_text(answer: Any) -> str:
    """The line of an answer the relevance gate refused: the model never ran."""
    text = translate(
        "AnswerText",
        "<b>Not in the documents</b>: nothing in the library looks relevant, so {model} was "
        "not asked (retrieval {ms} ms). The closest passages are listed below. To ask the "
        "model anyway, turn off Settings → Relevance gate.")
    return text.format(model=html.escape(answer.model.id),
                       ms=f"{answer.timings.retrieval_s * 1000:.0f}")


def _grounded_text(grounding: Grounding) -> str:
    """'grounded <b>1/2</b> sentences', noting the highlight when some are unsupported."""
    text = (translate("AnswerText",
                      "grounded <b>{supported}/{total}</b> sentences (unsupported ones "
                      "highlighted)") if grounding.unsupported
            else translate("AnswerText", "grounded <b>{supported}/{total}</b> sentences"))
    return text.format(supported=grounding.supported, total=len(grounding.sentences))


def metrics_text(answer: Any, cosine: float | None, grounding: Grounding | None = None) -> str:
    """The line under an answer: refusal or grounded share, times, rate, model (and cosine).
    The numbers keep one format in every language; the words are translated."""
    t, m = answer.timings, answer.model
    if answer.refused:  # the relevance gate: the model never ran
        return _gate_text(answer)
    parts = []
    if answer.is_refused:
        parts.append(translate("AnswerText",
                               "<b>refused</b>: the model found no answer in the passages"))
    elif grounding is not None:
        parts.append(_grounded_text(grounding))
    parts += [
        translate("AnswerText", "<b>{seconds} s</b> total").format(seconds=f"{t.total_s:.2f}"),
        translate("AnswerText", "first token {ms} ms").format(
            ms=f"{t.first_token_s * 1000:.0f}"),
        translate("AnswerText", "{rate} tok/s").format(rate=f"{t.tokens_per_s:.1f}"),
        translate("AnswerText", "retrieval {ms} ms").format(ms=f"{t.retrieval_s * 1000:.0f}"),
        f"{m.id} ({m.quant}, {m.backend})",
    ]
    if cosine is not None:
        parts.append(translate("AnswerText", "cosine to reference <b>{cosine}</b>").format(
            cosine=f"{cosine:.3f}"))
    if answer.stopped:
        parts.append(translate("AnswerText", "<i>stopped</i>"))
    if answer.dropped_chunks:
        parts.append(translate("AnswerText", "{n} chunk(s) left out to fit the context").format(
            n=answer.dropped_chunks))
    coverage = getattr(answer, "coverage", None)
    if coverage:
        parts.append(translate("AnswerText", "<b>answered from {searched} of {total} pages</b>: "
                               "the rest are still being added").format(
            searched=coverage[0], total=coverage[1]))
    if getattr(answer, "truncated", False):
        parts.append(translate("AnswerText", "<b>⚠ the server cut the prompt</b>: it counted "
                               "fewer tokens than were sent, so some passages went unread"))
    return " · ".join(parts)
