"""The dev sets: well-formed items, enough of them, and every evidence string on its pages.

Evidence is looked up in the text the app itself extracts
(rag_desktop.library.documents.read_pdf), so a set that passes here can be scored against the
app's own page numbers and chunks.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.devsets import DevSet, dev_sets
from rag_desktop.library.documents import clean_text, read_pdf

NOT_IN_DOCUMENT = "NOT_IN_DOCUMENT"
KEYS = {"id", "question", "reference_answer", "pages", "evidence"}
MIN_ANSWERABLE = 20
# pmhanguljamo-kdoc is a short manual (a package guide), so fewer answerable questions fit it.
MIN_ANSWERABLE_FOR = {"pmhanguljamo-kdoc": 12}
MIN_OUT_OF_DOCUMENT = 5
EN_WORDS = (10, 25)
KO_CHARS = (15, 60)
SETS = dev_sets()

PageTexts = dict[int, str]


def squash(text: str) -> str:
    """NFC with every whitespace character removed: extraction may gain or lose word spaces."""
    return "".join(unicodedata.normalize("NFC", text).split())


def squash_evidence(evidence: str) -> str:
    """The evidence cleaned like page text (ligatures expanded, NFC), then squashed.

    Some evidence was copied from raw pypdf text that keeps ligatures such as U+FB01, which
    read_pdf expands; cleaning both sides the same way compares like with like.
    """
    return squash(clean_text(evidence))


def answerable(devset: DevSet) -> list[dict[str, Any]]:
    """Items with a real reference answer."""
    return [item for item in devset.items() if item["reference_answer"] != NOT_IN_DOCUMENT]


def out_of_document(devset: DevSet) -> list[dict[str, Any]]:
    """Items whose answer is not in the manual."""
    return [item for item in devset.items() if item["reference_answer"] == NOT_IN_DOCUMENT]


@pytest.fixture(scope="module")
def page_texts() -> Callable[[DevSet], PageTexts]:
    """Squashed text of each page of a set's PDF, read with the app's reader once per module."""
    cache: dict[str, PageTexts] = {}

    def get(devset: DevSet) -> PageTexts:
        if devset.name not in cache:
            cache[devset.name] = {p.number: squash(p.text) for p in read_pdf(devset.pdf)}
        return cache[devset.name]

    return get


def evidence_found(item: dict[str, Any], pages: PageTexts) -> bool:
    """Whether the item's evidence occurs on one of its pages."""
    needle = squash_evidence(item["evidence"])
    return bool(needle) and any(needle in pages.get(number, "") for number in item["pages"])


def evidence_length_ok(evidence: str, language: str) -> bool:
    """10-25 words for English; 15-60 characters for Korean.

    Korean counts characters with spaces for the minimum and without them for the maximum,
    the lenient reading of each bound, since extraction may add or drop word spaces.
    """
    if language == "ko":
        return len(evidence.strip()) >= KO_CHARS[0] and len(squash(evidence)) <= KO_CHARS[1]
    return EN_WORDS[0] <= len(evidence.split()) <= EN_WORDS[1]


def test_the_english_sets_are_registered() -> None:
    names = {devset.name for devset in SETS}
    assert {"lilypond-usage", "r-admin"} <= names
    for devset in SETS:
        assert devset.pdf.is_file(), f"{devset.name}: missing PDF {devset.pdf}"


@pytest.mark.parametrize("devset", SETS, ids=[s.name for s in SETS])
def test_items_are_well_formed(devset: DevSet) -> None:
    items = devset.items()
    ids = [item.get("id") for item in items]
    assert len(ids) == len(set(ids)), f"{devset.name}: duplicate ids"
    bad = []
    for item in items:
        shape_ok = set(item) == KEYS and isinstance(item["pages"], list)
        text_ok = shape_ok and bool(str(item["question"]).strip())
        prefix_ok = str(item.get("id", "")).startswith(f"{devset.name}-")
        if not (shape_ok and text_ok and prefix_ok):
            bad.append(item.get("id"))
    assert not bad, f"{devset.name}: malformed items {bad}"


@pytest.mark.parametrize("devset", SETS, ids=[s.name for s in SETS])
def test_answerable_and_out_of_document_items_are_marked_consistently(devset: DevSet) -> None:
    bad = [
        item["id"] for item in answerable(devset)
        if not item["pages"] or not all(isinstance(n, int) and n > 0 for n in item["pages"])
        or not item["evidence"].strip() or not item["reference_answer"].strip()
    ]
    bad += [item["id"] for item in out_of_document(devset)
            if item["pages"] != [] or item["evidence"] != ""]
    assert not bad, f"{devset.name}: inconsistent items {bad}"


@pytest.mark.parametrize("devset", SETS, ids=[s.name for s in SETS])
def test_each_set_has_enough_items(devset: DevSet) -> None:
    minimum = MIN_ANSWERABLE_FOR.get(devset.name, MIN_ANSWERABLE)
    assert len(answerable(devset)) >= minimum
    assert len(out_of_document(devset)) >= MIN_OUT_OF_DOCUMENT


@pytest.mark.parametrize("devset", SETS, ids=[s.name for s in SETS])
def test_evidence_has_the_agreed_length(devset: DevSet) -> None:
    bad = [item["id"] for item in answerable(devset)
           if not evidence_length_ok(item["evidence"], devset.language)]
    assert not bad, f"{devset.name}: evidence too short or too long in {bad}"


@pytest.mark.parametrize("devset", SETS, ids=[s.name for s in SETS])
def test_evidence_is_on_one_of_its_pages(
    devset: DevSet, page_texts: Callable[[DevSet], PageTexts]
) -> None:
    pages = page_texts(devset)
    bad = [item["id"] for item in answerable(devset) if not evidence_found(item, pages)]
    assert not bad, f"{devset.name}: evidence not found on the listed pages of {bad}"


@pytest.mark.parametrize("devset", SETS, ids=[s.name for s in SETS])
def test_the_evidence_check_rejects_wrong_pages_and_altered_text(
    devset: DevSet, page_texts: Callable[[DevSet], PageTexts]
) -> None:
    # Guards the check above against passing vacuously (e.g. empty page text matching anything).
    pages = page_texts(devset)
    item = answerable(devset)[0]
    needle = squash_evidence(item["evidence"])
    elsewhere = [n for n in pages if n not in item["pages"] and needle not in pages[n]]
    moved = dict(item, pages=elsewhere[:1])
    altered = dict(item, evidence=item["evidence"] + " zq")
    assert evidence_found(item, pages)
    assert not evidence_found(moved, pages)
    assert not evidence_found(altered, pages)
