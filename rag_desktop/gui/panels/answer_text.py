"""An answer's text and its line of metrics, as HTML for the conversation view (no widgets)."""

from __future__ import annotations

import html
from typing import Any

from rag_desktop.grounding import Grounding, grounded

UNSUPPORTED_STYLE = "background-color:#fde2e1"  # a sentence that no cited passage supports


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


def metrics_text(answer: Any, cosine: float | None, grounding: Grounding | None = None) -> str:
    """The line under an answer: refusal or grounded share, times, rate, model (and cosine)."""
    t, m = answer.timings, answer.model
    parts = []
    if answer.refused:  # the relevance gate: the model never ran
        return (f"<b>Not in the documents</b>: nothing in the library looks relevant, so "
                f"{html.escape(m.id)} was not asked (retrieval {t.retrieval_s * 1000:.0f} ms). "
                "The closest passages are listed below. To ask the model anyway, turn off "
                "Settings → Relevance gate.")
    if answer.is_refused:
        parts.append("<b>refused</b>: the model found no answer in the passages")
    elif grounding is not None:
        note = " (unsupported ones highlighted)" if grounding.unsupported else ""
        parts.append(f"grounded <b>{grounding.supported}/{len(grounding.sentences)}</b> "
                     f"sentences{note}")
    parts += [
        f"<b>{t.total_s:.2f} s</b> total", f"first token {t.first_token_s * 1000:.0f} ms",
        f"{t.tokens_per_s:.1f} tok/s", f"retrieval {t.retrieval_s * 1000:.0f} ms",
        f"{m.id} ({m.quant}, {m.backend})",
    ]
    if cosine is not None:
        parts.append(f"cosine to reference <b>{cosine:.3f}</b>")
    if answer.stopped:
        parts.append("<i>stopped</i>")
    if answer.dropped_chunks:
        parts.append(f"{answer.dropped_chunks} chunk(s) left out to fit the context")
    return " · ".join(parts)
