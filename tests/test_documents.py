"""PDF reading, text clean-up, page labels, chunk offsets, and every DocumentError case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag_desktop.config import ChunkSettings
from rag_desktop.library.documents import DocumentError, Page, chunk_pages, clean_text, read_pdf
from rag_desktop.library.outline import Heading, page_sections, place_heading
from rag_desktop.progress import Cancelled, CancelToken, ProgressEvent
from tests.outlined import EXPECTED_SECTIONS, make_outlined_pdf
from tests.pdfs import (
    PdfFactory,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_pdf,
    nanum_font,
)

DEVSETS = Path(__file__).resolve().parents[1] / "benchmarks" / "devsets"

TWO_PAGES = ["Alpha page talks about tempo marks.", "Beta page explains lyric hyphens."]


def test_text_per_page_with_1_based_numbers_and_progress(pdf_factory: PdfFactory) -> None:
    events: list[ProgressEvent] = []
    pages = read_pdf(pdf_factory("two.pdf", TWO_PAGES), progress=events.append)
    assert [(p.number, p.label, p.text) for p in pages] == [
        (1, None, TWO_PAGES[0]),
        (2, None, TWO_PAGES[1]),
    ]
    assert [(e.stage, e.done, e.total) for e in events] == [("pages", 1, 2), ("pages", 2, 2)]


def test_page_labels_come_from_the_pdf(pdf_factory: PdfFactory) -> None:
    path = pdf_factory(
        "labels.pdf", ["cover", "preface", "chapter one", "chapter two"],
        page_labels=[(0, "/r", 1), (2, "/D", 1)],
    )
    pages = read_pdf(path)
    assert [(p.number, p.label) for p in pages] == [(1, "i"), (2, "ii"), (3, "1"), (4, "2")]


def test_korean_text_survives(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "ko.pdf", ["설치 방법을 설명합니다.", "악보를 인쇄합니다."],
                    font=nanum_font())
    assert [p.text for p in read_pdf(path)] == ["설치 방법을 설명합니다.", "악보를 인쇄합니다."]


def test_cancel_stops_reading(pdf_factory: PdfFactory) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        read_pdf(pdf_factory("two.pdf", TWO_PAGES), cancel=token)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("an exam-\nple of it", "an example of it"),
        ("a well-known tool", "a well-known tool"),
        ("ISO-\n8859 and UTF-\n8", "ISO-\n8859 and UTF-\n8"),
        ("the \ufb01le and \ufb02ow, o\ufb00set, e\ufb03cient, \ufb04, \ufb05op \ufb06",
         "the file and flow, offset, efficient, ffl, stop st"),
        ("  many   spaces\t\there  \n\n\n\n next  ", "many spaces here\n\nnext"),
        ("한국어  문서의\n본문", "한국어 문서의\n본문"),
        ("drawing\x0b \x08 noise", "drawing noise"),
        ("\u1112\u1161\u11ab\u1100\u1173\u11af", "한글"),  # decomposed jamo compose
        ("One dis\x02advantage is", "One disadvantage is"),  # pdfium's line-end hyphen
        ("UTF\x028 text", "UTF-\n8 text"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_chunk_offsets_point_into_the_page_text() -> None:
    words = " ".join(f"word{i}" for i in range(300))
    pages = [Page(1, "i", words), Page(2, None, ""), Page(3, "1", "short page")]
    chunks = chunk_pages(pages, "m.pdf", "abc", ChunkSettings(chunk_size=200, chunk_overlap=40))
    assert len(chunks) > 5
    by_number = {p.number: p for p in pages}
    for chunk in chunks:
        assert by_number[chunk.page].text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 200
        assert chunk.page_label == by_number[chunk.page].label
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert chunks[-1].text == "short page" and chunks[-1].page == 3
    assert chunks[1].start < chunks[0].end  # the overlap
    assert {c.file for c in chunks} == {"m.pdf"} and {c.sha256 for c in chunks} == {"abc"}


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, words the reason must contain)."""
    good = make_pdf(tmp / "good.pdf", TWO_PAGES)
    data = good.read_bytes()
    (tmp / "empty.pdf").write_bytes(b"")
    (tmp / "random.pdf").write_bytes(bytes(range(256)) * 8)
    (tmp / "notes.pdf").write_text("just some notes, renamed to .pdf\n")
    (tmp / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (tmp / "folder.pdf").mkdir()
    return {
        "missing": (tmp / "nope.pdf", "not found"),
        "folder": (tmp / "folder.pdf", "folder"),
        "zero bytes": (tmp / "empty.pdf", "empty file"),
        "random bytes": (tmp / "random.pdf", "not a PDF"),
        "txt renamed": (tmp / "notes.pdf", "not a PDF"),
        "truncated": (tmp / "truncated.pdf", "damaged"),
        "user password": (make_encrypted_pdf(tmp / "locked.pdf", TWO_PAGES, "secret"),
                          "encrypted with a password"),
        "image only": (make_image_only_pdf(tmp / "scan.pdf"), "no text layer (scanned?)"),
    }


def test_every_bad_input_is_one_clear_document_error(tmp_path: Path) -> None:
    for case, (path, reason) in _bad_files(tmp_path).items():
        with pytest.raises(DocumentError) as info:
            read_pdf(path)
        err = info.value
        message = str(err)
        assert reason in err.reason, case
        assert message.startswith(f"{path.name}: ") and "\n" not in message, case
        assert ";" in message, f"{case}: the message must say what to do: {message}"
        assert err.path == path


def test_owner_only_password_opens(tmp_path: Path) -> None:
    path = make_encrypted_pdf(tmp_path / "owner.pdf", TWO_PAGES, user_password="")
    assert [p.text for p in read_pdf(path)] == TWO_PAGES


def test_a_page_that_fails_is_skipped_and_the_rest_kept(
    pdf_factory: PdfFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag_desktop.library.pdftext import PageTexts

    original = PageTexts.text

    def flaky(self: PageTexts, index: int) -> str:
        if "Beta" in original(self, index):
            raise KeyError("/Font")
        return original(self, index)

    monkeypatch.setattr(PageTexts, "text", flaky)
    pages = read_pdf(pdf_factory("two.pdf", TWO_PAGES))
    assert [(p.number, p.text) for p in pages] == [(1, TWO_PAGES[0])]


def test_pypdf_reads_the_text_when_pdfium_cannot_open_the_file(
    pdf_factory: PdfFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pypdfium2

    def refuse(*args: object, **kwargs: object) -> None:
        raise pypdfium2.PdfiumError("Failed to load document")

    monkeypatch.setattr(pypdfium2, "PdfDocument", refuse)
    assert [p.text for p in read_pdf(pdf_factory("two.pdf", TWO_PAGES))] == TWO_PAGES


def test_the_korean_dev_manual_keeps_its_word_spaces() -> None:
    """pypdf glued 320 of 5,063 Hangul runs of kotex-utf-doc.pdf into 13+ syllables."""
    pages = {p.number: p for p in read_pdf(DEVSETS / "kotex-utf-doc.pdf")}
    # Page 45 as a viewer shows it (pypdf: "각주번호와각주문이들여쓰기나내어쓰기에의해...").
    assert "각주 번호와 각주문이 들여쓰기나 내어쓰기에 의해 구분되지 않고" in pages[45].text
    runs = [m.group() for p in pages.values() for m in re.finditer("[가-힣]+", p.text)]
    assert len(runs) > 9000
    assert sum(len(run) > 12 for run in runs) / len(runs) < 0.001


def test_every_chunk_gets_its_section_from_the_outline(tmp_path: Path) -> None:
    pages = read_pdf(make_outlined_pdf(tmp_path / "kettle.pdf"))
    # One chunk a paragraph: each heading line is glued to the paragraph after it.
    chunks = chunk_pages(pages, "kettle.pdf", "abc", ChunkSettings(chunk_size=70, chunk_overlap=0))
    by_page: dict[int, list[str]] = {}
    for chunk in chunks:
        by_page.setdefault(chunk.page, []).append(chunk.section)
        assert pages[chunk.page - 1].text[chunk.start : chunk.end] == chunk.text
    assert by_page == EXPECTED_SECTIONS
    assert [p.section for p in pages] == ["", "", "1 Installation > 1.1 Unpacking",
                                          "1 Installation > 1.1 Unpacking"]


def test_a_pdf_without_outline_or_with_a_broken_one_has_no_sections(
    tmp_path: Path, pdf_factory: PdfFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert {p.section for p in read_pdf(pdf_factory("two.pdf", TWO_PAGES))} == {""}
    import pypdfium2

    def broken(self: object, *args: object, **kwargs: object) -> None:
        raise pypdfium2.PdfiumError("bad outline")

    monkeypatch.setattr(pypdfium2.PdfDocument, "get_toc", broken)
    pages = read_pdf(make_outlined_pdf(tmp_path / "kettle.pdf"))
    assert len(pages) == 4 and {(p.section, p.headings) for p in pages} == {("", ())}


@pytest.mark.parametrize(
    ("text", "title", "expected"),
    [
        # A running head repeats the heading on the first line; its real place is later.
        ("2.2 Descaling 4\nend of 2.1.\n2.2 Descaling\nBoil vinegar.", "Descaling", 28),
        ("Intro line.\n3.1.2 Filter replacement\nTurn the knob.", "Filter replacement", 12),
        ("See the filter replacement steps.\nFilter  Replacement\nTurn.", "Filter replacement",
         34),
        ("머리말\n제 7 장 한글 폰트\n본문에서 한글 폰트를 고른다.", "한글 폰트", 4),
        ("Text that never names it.", "Filter replacement", None),
        ("no line start: see Filter replacement below.", "Filter replacement", 19),
    ],
)
def test_place_heading(text: str, title: str, expected: int | None) -> None:
    assert place_heading(text, title, 0) == expected


def test_headings_not_found_in_the_text_still_name_their_page() -> None:
    heads = [Heading(1, "Mystery", "Mystery"), Heading(1, "Sub", "Mystery > Sub")]
    sections = page_sections(["page one", "nothing matches\nhere"], heads)
    assert sections == [("", ()), ("", ((0, "Mystery"), (0, "Mystery > Sub")))]
    page = Page(2, None, "nothing matches\nhere", *sections[1])
    assert page.section_at(0) == "Mystery > Sub"


def _words(texts: list[str]) -> list[int]:
    return [len(text.split()) for text in texts]


def test_chunks_longer_than_max_length_units_are_split_again() -> None:
    # Long words and short words: 800 characters hold from 30 to 130 words.
    text = " ".join(f"w{i}" if i % 7 else f"extraordinarily{i}" for i in range(1200))
    pages = [Page(1, None, text, "Intro", ()), Page(2, "ii", "short page", "Intro", ())]
    settings = ChunkSettings(chunk_size=800, chunk_overlap=120)
    plain = chunk_pages(pages, "m.pdf", "abc", settings)
    assert max(_words([c.text for c in plain])) > 60  # so the limit below bites
    calls: list[int] = []

    def counter(texts: list[str]) -> list[int]:
        calls.append(len(texts))
        return _words(texts)

    chunks = chunk_pages(pages, "m.pdf", "abc", settings, length_function=counter, max_length=60)
    assert len(chunks) > len(plain)
    assert max(_words([c.text for c in chunks])) <= 60
    assert calls[0] == len(plain)  # the first count is one batch
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        page = pages[chunk.page - 1]
        assert page.text[chunk.start : chunk.end] == chunk.text
        assert chunk.section == "Intro" and chunk.page_label == page.label
    firsts = [c for c in chunks if c.page == 1]
    assert all(b.start < a.end for a, b in zip(firsts, firsts[1:], strict=False))  # overlap
    assert chunks[-1].text == "short page"
    # Short enough already: the same chunks as without a counter.
    assert chunk_pages(pages, "m.pdf", "abc", settings, length_function=_words,
                       max_length=10_000) == plain


def test_a_contextual_header_counts_toward_max_length() -> None:
    text = " ".join(f"w{i}" for i in range(400))
    section = "Chapter 2 Care > 2.1 Cleaning the kettle every day"  # 9 words
    pages = [Page(1, None, text, section, ())]
    settings = ChunkSettings(chunk_size=800, chunk_overlap=120)
    chunks = chunk_pages(pages, "m.pdf", "abc", settings, length_function=_words, max_length=40,
                         contextual_header=True)
    assert max(_words([c.index_text(True) for c in chunks])) <= 40
    assert max(_words([c.text for c in chunks])) > 25  # the room left for text is used
    assert chunks[0].index_text(True) == f"{section}\n{chunks[0].text}"
    assert chunks[0].index_text() == chunks[0].text
    assert Page(1, None, "x").section_at(0) == "" and chunk_pages(
        [Page(1, None, "x")], "m", "a", settings)[0].index_text(True) == "x"  # no section
