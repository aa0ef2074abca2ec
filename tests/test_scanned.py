"""Scanned manuals end to end: OCR'd pages kept across a cancel and a kill -9, word boxes for
highlights, the script of a wholly scanned page, and questions answered from scans (English and
Korean) with a real model, also while a scan is still being read."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag_desktop.answer import coverage_note
from rag_desktop.config import DEFAULT_MODEL_ID, GenerationSettings, OcrSettings
from rag_desktop.library import ocr, ocr_cache, ocr_engines
from rag_desktop.library.documents import read_pdf
from rag_desktop.library.library import Library
from rag_desktop.library.passage import word_boxes
from rag_desktop.progress import Cancelled, CancelToken, ProgressEvent
from tests.test_ocr import DESCALE, FILTER, KOREAN, korean_tesseract, make_scanned_pdf

WARRANTY = ["Warranty: the kettle is covered for", "two years from the date of purchase."]
# Where test_ocr.page_image draws: 1240 px across an A4 page (595.28 pt), first line at
# y = 150 px, then every 60 px, from x = 100 px.
PT_PER_PX = 595.28 / 1240


class CountingReads:
    """Counts the pages RapidOCR really reads (the real engine does the reading)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pages = 0
        real = ocr_engines._read_rapid

        def read(image: Any, cancel: CancelToken | None = None) -> ocr.PageOcr:
            self.pages += 1
            return real(image, cancel)

        monkeypatch.setattr(ocr_engines, "_read_rapid", read)


def test_a_cancelled_ocr_resumes_from_the_pages_it_read(
        tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = make_scanned_pdf(tmp_path / "scan.pdf", [DESCALE, FILTER, WARRANTY])
    reads = CountingReads(monkeypatch)
    cancel = CancelToken()

    def stop_after_one(event: ProgressEvent) -> None:
        if event.stage == "ocr" and event.done == 1:
            cancel.cancel()

    with Library.open(tmp_path / "lib", embedder) as lib:
        with pytest.raises(Cancelled):
            lib.add_pdf(pdf, stop_after_one, cancel)
        assert lib.documents() == [] and reads.pages == 1
        assert lib.page_coverage() == (0, 0)  # nothing is left "being added"
        events: list[ProgressEvent] = []
        info = lib.add_pdf(pdf, events.append).document
        assert reads.pages == 3  # pages 2 and 3 only
        ocr_events = [(e.done, e.total) for e in events if e.stage == "ocr"]
        assert ocr_events == [(1, 3), (2, 3), (3, 3)]
        assert "1 pages kept from before" in next(e for e in events if e.stage == "ocr").message
        hits = lib.search("how often should the charcoal filter be rinsed?", k=1).hits
        assert hits[0].chunk.page == 2
        assert ocr_cache.OcrPages(ocr_cache.document_folder(lib.path, info.sha256)).count() == 3
        lib.remove(info.sha256)
        assert not ocr_cache.document_folder(lib.path, info.sha256).exists()


_KILLED_ADD = """
import os, signal, sys
from pathlib import Path
from rag_desktop.library.library import Library

def progress(event):
    if event.stage == "ocr" and event.done == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup of any kind, as a crash

Library.open(Path(sys.argv[1])).add_pdf(Path(sys.argv[2]), progress)
"""


def test_a_kill_9_during_ocr_keeps_the_pages_read_and_the_library(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = make_scanned_pdf(tmp_path / "scan.pdf", [DESCALE, FILTER, WARRANTY])
    done = subprocess.run([sys.executable, "-c", _KILLED_ADD, str(tmp_path / "lib"), str(pdf)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == -9, done.stderr
    reads = CountingReads(monkeypatch)
    with Library.open(tmp_path / "lib") as lib:
        assert lib.documents() == [] and lib.check().ok
        info = lib.add_pdf(pdf).document
        assert reads.pages == 1 and info.pages == 3
        assert lib.search("warranty two years purchase", k=1).hits[0].chunk.page == 3


def test_word_boxes_are_kept_in_page_points_and_show_the_passage(tmp_path: Path) -> None:
    pages = read_pdf(make_scanned_pdf(tmp_path / "scan.pdf", [DESCALE]))
    result = pages[0].ocr
    assert result is not None and result.words
    tops = sorted({round(w[2]) for w in result.words})
    # Two lines of about 19 pt type, 60 px (28.8 pt) apart, from y = 72 pt and x = 48 pt.
    first, second = (150 * PT_PER_PX, 210 * PT_PER_PX)
    boxes = word_boxes(result.words, pages[0].text)
    assert len(boxes) == 2, (boxes, tops)
    assert abs(boxes[0][1] - first) < 8 and abs(boxes[1][1] - second) < 8
    assert abs(boxes[0][0] - 100 * PT_PER_PX) < 6 and boxes[0][2] < 595
    second_line = word_boxes(result.words, "vinegar and boil it for fifteen minutes.")
    assert len(second_line) == 1 and abs(second_line[0][1] - second) < 8
    assert word_boxes(result.words, "nothing like this is on the page at all") == []


def test_a_wholly_scanned_korean_pdf_is_read_as_korean_by_its_script(tmp_path: Path) -> None:
    korean_tesseract("kor", "osd")
    pdf = make_scanned_pdf(tmp_path / "ko.pdf", [KOREAN + ["주전자는 물을 끓이는 도구입니다.",
                                                           "매달 한 번 필터를 씻으십시오."]])
    pages = read_pdf(pdf, ocr=OcrSettings(language="auto"))
    assert pages[0].ocr is not None and pages[0].ocr.engine == "tesseract"
    assert "식초" in pages[0].text
    english = read_pdf(make_scanned_pdf(tmp_path / "en.pdf", [DESCALE + FILTER]),
                       ocr=OcrSettings(language="auto"))
    assert english[0].ocr is not None and english[0].ocr.engine == "rapidocr"


# ----- asked about, with the packaged model ------------------------------------------------------
@pytest.fixture(scope="module")
def scanned_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A library of an English and a Korean image-only PDF, with the packaged model loaded."""
    from rag_desktop.llm.catalog import load_catalog
    from rag_desktop.llm.client import LLM
    from rag_desktop.session import Session

    korean_tesseract("kor", "osd")
    root = tmp_path_factory.mktemp("scanned")
    lib = Library.open(root / "lib")
    lib.add_pdf(make_scanned_pdf(root / "kettle.pdf", [WARRANTY, DESCALE, FILTER]))
    warranty = ["보증: 이 주전자는 구입일로부터", "이 년 동안 보증됩니다."]
    # Page 1 has too little text for Tesseract's script detection: page 2 decides.
    lib.add_pdf(make_scanned_pdf(root / "kettle-ko.pdf", [warranty, KOREAN]))
    session = Session(LLM(), load_catalog(), None, lib,
                      generation=GenerationSettings(max_tokens=24, n_ctx_cap=2048))
    session.load_model(DEFAULT_MODEL_ID)
    yield session
    session.close()


@pytest.mark.parametrize(("question", "file", "page"), [
    ("How do I descale the kettle with vinegar?", "kettle.pdf", 2),
    ("주전자의 석회는 식초로 어떻게 제거하나요?", "kettle-ko.pdf", 2),
])
def test_a_scanned_manual_answers_with_its_page(scanned_session: Any, question: str,
                                                file: str, page: int) -> None:
    answer = scanned_session.pipeline(use_cache=False).ask(question)
    assert answer.text and not answer.refused
    assert (answer.sources[0].file, answer.sources[0].page) == (file, page)
    assert answer.coverage is None and coverage_note(answer) == ""


def test_an_answer_while_a_scan_is_read_says_how_many_pages_it_used(
        scanned_session: Any, tmp_path: Path) -> None:
    lib = scanned_session.library
    before = sum(d.pages for d in lib.documents())
    answers: list[Any] = []

    def ask_meanwhile(event: ProgressEvent) -> None:
        if event.stage == "ocr" and not answers:  # as the GUI's engine thread would
            answers.append(scanned_session.pipeline(use_cache=False).ask(
                "How do I descale the kettle with vinegar?"))

    info = lib.add_pdf(make_scanned_pdf(tmp_path / "more.pdf", [FILTER, WARRANTY]),
                       ask_meanwhile).document
    answer = answers[0]
    assert answer.coverage == (before, before + 2)
    assert coverage_note(answer).startswith(f"answered from {before} of {before + 2} pages")
    assert answer.to_json()["coverage"] == [before, before + 2]
    assert lib.page_coverage() == (before + 2, before + 2)
    lib.remove(info.sha256)


def test_the_pace_counts_this_runs_pages_only() -> None:
    from rag_desktop.progress import StageRate

    now = [0.0]
    rate = StageRate(lambda: now[0])
    assert rate.update(ProgressEvent("ocr", 10, 40)) is None  # 10 kept from before: the base
    now[0] = 20.0
    assert rate.update(ProgressEvent("ocr", 14, 40)) == pytest.approx((0.2, 130.0))
    assert rate.update(ProgressEvent("chunks", 0, 5)) is None  # a new stage starts afresh


def test_ingest_ocr_language_off_leaves_a_scan_out_and_says_so(tmp_path: Path) -> None:
    from tests.test_cli import run

    pdf = make_scanned_pdf(tmp_path / "scan.pdf", [DESCALE, FILTER])
    r = run("ingest", str(pdf), "--library", str(tmp_path / "lib"), "--ocr-language", "off",
            home=tmp_path)
    assert r.returncode == 2
    assert "no text layer (scanned?), and it was not read; OCR is turned off" in r.stderr
    r = run("ingest", str(pdf), "--library", str(tmp_path / "lib"), home=tmp_path)
    assert r.returncode == 0 and "added scan.pdf: 2 pages" in r.stdout, r.stderr
    assert " pages/s, scan.pdf" in r.stderr  # the bar's pace, from the second page on
    r = run("docs", "--json", "--library", str(tmp_path / "lib"), home=tmp_path)
    doc = json.loads(r.stdout)["documents"][0]
    assert doc["ocr_pages"] == 2 and doc["ocr_confidence"] > 0.8


def test_a_cancel_stops_tesseract_in_the_middle_of_a_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    korean_tesseract("kor")
    import signal

    cancel = CancelToken()
    started: list[subprocess.Popen[bytes]] = []

    real_popen = subprocess.Popen

    def popen(cmd: list[str], *args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = real_popen(cmd, *args, **kwargs)
        if "tsv" in cmd:  # the page's read, not `--list-langs`
            started.append(proc)
            cancel.cancel()  # the user presses Cancel while Tesseract reads the page
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen)
    pdf = make_scanned_pdf(tmp_path / "ko.pdf", [KOREAN * 12])
    cache = ocr_cache.OcrPages(tmp_path / "kept")
    with pytest.raises(Cancelled):
        read_pdf(pdf, cancel=cancel, ocr=OcrSettings(language="ko"), ocr_cache=cache)
    assert len(started) == 1 and started[0].returncode == -signal.SIGKILL  # killed, not waited
    assert cache.count() == 0  # the killed read is not kept as an empty page
    monkeypatch.undo()
    pages = read_pdf(pdf, ocr=OcrSettings(language="ko"), ocr_cache=cache)
    assert "식초" in pages[0].text and cache.count() == 1
