"""The relevance gate's rule: which signals refuse, and which embedders have a rule."""

from __future__ import annotations

from rag_desktop import gate
from rag_desktop.gate import GateRule
from rag_desktop.library.results import SearchResult


def test_rule_refuses_unknown_topics_or_both_weak_signals() -> None:
    rule = GateRule(min_cosine=0.5, min_coverage=0.6, max_unknown=0.5)
    assert rule.relevant(0.9, 0.9, unknown=0.6) is False  # names what the library never does
    assert rule.relevant(0.7, 0.1) is True  # good cosine
    assert rule.relevant(0.3, 0.8) is True  # good coverage
    assert rule.relevant(0.3, 0.3) is False  # both weak
    assert rule.relevant(0.3, 0.3, unknown=0.49) is False


def test_an_embedder_without_a_rule_is_never_gated() -> None:
    result = SearchResult("q", 0.0, [], top_cosine=0.0, coverage=0.0, unknown=1.0)
    assert gate.passes("some/unknown-model", result) is True
    assert gate.passes(gate.USE_ID, result) is False  # a library with no hit at all


def test_the_default_embedder_has_a_rule() -> None:
    from rag_desktop.config import DEFAULT_EMBEDDING_MODEL

    assert gate.rule_for(DEFAULT_EMBEDDING_MODEL) is not None
