"""The relevance gate: whether retrieval found anything that can answer the question at all.

Below the gate the app says, in the question's language, that the documents don't cover it,
shows the closest passages anyway, and spends no tokens on the model. The signals and the
thresholds were calibrated on the dev sets' out-of-document items (docs/retrieval.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag_desktop.library.embed_registry import MINILM_ID, USE_ID

if TYPE_CHECKING:
    from rag_desktop.library.results import SearchResult


@dataclass(frozen=True)
class GateRule:
    """Refuse when the question names things the library never mentions (`max_unknown`), or
    when both the best cosine and the hits' term coverage are weak.

    One signal alone is not enough: a paraphrase shares few words with its page (low coverage,
    fair cosine), a question about another product can share many common words with the manual
    (fair coverage, low cosine) and usually names that product, which no chunk contains.
    Cosine scales differ between embedders, so each has its own rule.
    """

    min_cosine: float
    min_coverage: float
    max_unknown: float = 1.01

    def relevant(self, top_cosine: float, coverage: float, unknown: float = 0.0) -> bool:
        """True when the question should go to the model."""
        if unknown >= self.max_unknown:
            return False
        return top_cosine >= self.min_cosine or coverage >= self.min_coverage


# Per embedding model id, from benchmarks/calibrate_gate.py; an embedder without a rule is
# never gated.
RULES: dict[str, GateRule] = {
    USE_ID: GateRule(min_cosine=0.37, min_coverage=0.35, max_unknown=0.55),
    MINILM_ID: GateRule(min_cosine=0.38, min_coverage=0.55, max_unknown=0.5),
}


def rule_for(embedding_model: str) -> GateRule | None:
    """The calibrated rule for an embedder, or None (then nothing is refused)."""
    return RULES.get(embedding_model)


def passes(embedding_model: str, result: SearchResult) -> bool:
    """True when a question with this search result should be answered by the model."""
    rule = rule_for(embedding_model)
    if rule is None or not result.hits:
        return rule is None
    return rule.relevant(result.top_cosine, result.coverage, result.unknown)
