"""Retrieval quality on every dev set with the default settings: floors, and the ensemble is at
least as good as either leg alone (docs/retrieval.md has the measured figures)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.devsets import DevSet, dev_sets
from rag_desktop.evaluation.questions import expects_refusal
from rag_desktop.library.library import Library

# hit@4 measured with the defaults (USE, Kiwi, convex 0.3 + one chunk per page + seats), less
# one question's worth of slack, so a real regression fails and noise does not.
FLOORS = {"lilypond-usage": 0.88, "r-admin": 0.83, "kotex-utf-doc": 0.94,
          "pmhanguljamo-kdoc": 0.82}
LEGS = {"bm25": {"fusion": "convex", "bm25_weight": 1.0, "one_chunk_per_page": True,
                 "leg_seats": False},
        "dense": {"fusion": "convex", "bm25_weight": 0.0, "one_chunk_per_page": True,
                  "leg_seats": False}}


@pytest.fixture(scope="module", params=dev_sets(), ids=lambda s: s.name)
def devset_library(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevSet, Library]]:
    devset: DevSet = request.param
    lib = Library.open(Path(tmp_path_factory.mktemp(devset.name)) / "lib")  # the defaults
    lib.add_pdf(devset.pdf)
    yield devset, lib
    lib.close()


def hit_at_4(lib: Library, devset: DevSet, **kwargs: object) -> float:
    items = [i for i in devset.items() if not expects_refusal(i["reference_answer"])]
    hits = 0
    for item in items:
        pages = {h.chunk.page for h in lib.search(item["question"], k=4, **kwargs).hits}
        hits += bool(pages & set(item["pages"]))
    return hits / len(items)


def test_default_meets_its_floor_and_beats_each_leg(
        devset_library: tuple[DevSet, Library]) -> None:
    devset, lib = devset_library
    default = hit_at_4(lib, devset)
    legs = {name: hit_at_4(lib, devset, **kwargs) for name, kwargs in LEGS.items()}
    print(f"\n{devset.name}: default hit@4 {default:.2f}, legs {legs}")
    assert default >= FLOORS[devset.name]
    assert default >= max(legs.values()), legs
