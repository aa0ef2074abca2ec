"""PDF reading, text clean-up, page labels, chunk offsets, and every DocumentError case."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_desktop.config import ChunkSettings
from rag_desktop.documents import DocumentError, Page, chunk_pages, clean_text, read_pdf
from rag_desktop.progress import Cancelled, CancelToken, ProgressEvent
from tests.pdfs import (
    PdfFactory,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_pdf,
    nanum_font,
)

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
    import pypdf

    original = pypdf.PageObject.extract_text

    def flaky(self: pypdf.PageObject, *args: object, **kwargs: object) -> str:
        if "Beta" in original(self):
            raise KeyError("/Font")
        return original(self)

    monkeypatch.setattr(pypdf.PageObject, "extract_text", flaky)
    pages = read_pdf(pdf_factory("two.pdf", TWO_PAGES))
    assert [(p.number, p.text) for p in pages] == [(1, TWO_PAGES[0])]
