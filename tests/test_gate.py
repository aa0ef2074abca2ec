"""The relevance gate: refuses without the model, in the question's language, with sources."""

from __future__ import annotations

from rag_desktop import gate
from rag_desktop.gate import GateRule


def test_rule_needs_both_signals_weak_to_refuse() -> None:
    rule = GateRule(min_cosine=0.5, min_coverage=0.6, floor_coverage=0.2)
    assert rule.relevant(0.7, 0.1) is False  # below the coverage floor
    assert rule.relevant(0.7, 0.3) is True  # good cosine
    assert rule.relevant(0.3, 0.8) is True  # good coverage
    assert rule.relevant(0.3, 0.3) is False  # both weak


def test_an_embedder_without_a_rule_is_never_gated() -> None:
    assert gate.passes("some/unknown-model", 0.0, 0.0) is True
