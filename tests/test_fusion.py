"""Fusion, page de-duplication and term coverage: exact results on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest

from rag_desktop.library import fusion


def test_rrf_matches_the_ensemble_retriever_formula() -> None:
    scores = fusion.rrf([[7, 8], [8, 9]], [0.3, 0.7], c=60)
    assert scores[7] == pytest.approx(0.3 / 61)
    assert scores[8] == pytest.approx(0.3 / 62 + 0.7 / 61)
    assert scores[9] == pytest.approx(0.7 / 62)
    assert fusion.order_by(scores) == [8, 9, 7]


def test_rrf_at_the_specified_weights_cannot_promote_a_bm25_only_hit() -> None:
    # BM25's rank 1 that the dense leg missed scores below the dense leg's rank 20:
    # the reason the default is not rank fusion (docs/retrieval.md).
    dense = list(range(100, 120))
    scores = fusion.rrf([[1], dense], [0.3, 0.7])
    assert fusion.order_by(scores).index(1) == 20


def test_convex_lets_a_strong_keyword_match_win() -> None:
    bm25 = np.array([12.0, 0.0, 1.0])  # chunk 0: the only one with the rare term
    dense = np.array([0.40, 0.55, 0.50])
    mixed = fusion.convex(bm25, dense, 0.3)
    assert mixed.tolist() == pytest.approx([0.3, 0.7, 0.3 / 12 + 0.7 * (0.10 / 0.15)])
    assert int(np.argmax(fusion.convex(bm25, dense, 0.5))) == 0


def test_min_max_edge_cases() -> None:
    assert fusion.min_max(np.array([2.0, 2.0])).tolist() == [1.0, 1.0]
    assert fusion.min_max(np.array([0.0, 0.0])).tolist() == [0.0, 0.0]
    assert fusion.min_max(np.array([])).size == 0


def test_first_per_key_keeps_the_best_chunk_of_each_page() -> None:
    page = {1: "p1", 2: "p1", 3: "p2", 4: "p3", 5: "p2", 6: "p4"}
    assert fusion.first_per_key([1, 2, 3, 4, 5, 6], page, 3) == [1, 3, 4]
    assert fusion.first_per_key([2, 1], page, 4) == [2]


def test_seats_keep_each_legs_best_page_without_moving_the_first() -> None:
    page = {1: "a", 2: "b", 3: "c", 4: "d", 5: "e", 6: "a"}
    assert fusion.seat([1, 2, 3, 4], [5], page, 4) == [1, 2, 3, 5]
    assert fusion.seat([1, 2, 3, 4], [6, 2], page, 4) == [1, 2, 3, 4]  # pages already there
    assert fusion.seat([1, 2, 3, 4], [5, 6], page, 1) == [1]


def test_unknown_share_counts_terms_no_chunk_uses() -> None:
    weight = {"docker": 4.0, "install": 1.0, "package": 1.0}.__getitem__
    known = {"install", "package"}.__contains__
    assert fusion.unknown_share(["how", "install", "package"], known, weight) == 0.0
    assert fusion.unknown_share(["docker", "install"], known, weight) == pytest.approx(0.8)
    assert fusion.unknown_share(["how", "what"], known, weight) == 0.0  # nothing to judge


def test_coverage_weighs_rare_terms_and_ignores_stop_words() -> None:
    weight = {"lilypond": 0.5, "midi": 3.0, "photoshop": 5.0}.__getitem__
    found = {"midi", "lilypond"}.__contains__
    assert fusion.coverage(["how", "do", "i", "midi", "lilypond"], found, weight) == 1.0
    assert fusion.coverage(["photoshop", "midi"], {"midi"}.__contains__, weight) == \
        pytest.approx(3.0 / 8.0)
    assert fusion.coverage(["how", "what"], set().__contains__, weight) == 1.0


def test_idf_weight_stays_positive_in_a_tiny_library() -> None:
    assert fusion.idf_weight(2, 2) > 0 and fusion.idf_weight(1, 2) > fusion.idf_weight(2, 2)
    assert fusion.idf_weight(0, 300) == fusion.idf_weight(1, 300)  # unknown weighs as rare
