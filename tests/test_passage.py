"""Finding a cleaned chunk's text in a page's raw text (rag_desktop.library.passage)."""

from __future__ import annotations

from rag_desktop.library.documents import clean_text
from rag_desktop.library.passage import (
    EDGE_SLACK,
    find_passage,
    keyed,
    longest_piece,
    passage_key,
)

# Raw text as Qt PDF's text layer gives it: CRLF line ends, U+FFFE for a line-end hyphen
# (pdfium drops the break there), a ligature, and a run of spaces.
RAW = ("Intro heading line\r\n"
       "The quick brown fox jumps over the\r\n"
       "lazy dog and the con\ufb01g\ufffeuration of the engraver is de\ufffescribed  here.\r\n"
       "Another unrelated final line.")
# The same page as the library's extractor (pypdfium2) reads it: \x02 where Qt has U+FFFE.
LIBRARY_RAW = RAW.replace("\ufffe", "\x02")


def span_text(text: str, passage: str) -> str | None:
    span = find_passage(text, passage)
    return None if span is None else text[span[0]:span[1]]


def test_key_drops_whitespace_and_hyphens_and_expands_ligatures() -> None:
    assert passage_key("Con\ufb01g-\r\nuration  Is\x02X") == "configurationisx"
    key, origin = keyed("a\ufb01 b")
    assert key == "afib"
    assert origin == [0, 1, 1, 3]


def test_key_composes_nothing_away_in_hangul() -> None:
    composed = "\ud55c\uae00"  # 한글, as the cleaner leaves it (NFC)
    decomposed = "\u1112\u1161\u11ab\u1100\u1173\u11af"  # the same, as some PDFs store it
    assert passage_key(composed) == passage_key(decomposed)
    assert find_passage("x " + decomposed + " y", composed) == (2, 8)


def test_exact_span_across_line_breaks_and_hyphenation() -> None:
    chunk = clean_text(LIBRARY_RAW).split("\n", 1)[1].rsplit("\n", 1)[0]
    assert chunk == ("The quick brown fox jumps over the\nlazy dog and the configuration of the "
                     "engraver is described here.")
    start, end = find_passage(RAW, chunk) or (-1, -1)
    assert (start, end) == (RAW.index("The quick"), RAW.index("here.") + len("here."))


def test_span_inside_a_line_and_across_the_hyphen_mark() -> None:
    assert span_text(RAW, "configuration of the") == "con\ufb01g\ufffeuration of the"
    assert span_text(RAW, "the\nlazy") == "the\r\nlazy"
    # "it " is not on the page, but the rest is most of the passage: that rest is shown.
    assert span_text(RAW, "it is described here") == "is de\ufffescribed  here"


def test_a_kept_hyphen_still_matches() -> None:
    raw = "encoding ISO-\r\n8859 is read"
    assert clean_text(raw) == "encoding ISO-\n8859 is read"
    assert span_text(raw, clean_text(raw)) == raw
    assert span_text("encoding ISO\x028859 is read", "ISO-\n8859") == "ISO\x028859"


def test_heading_in_front_of_the_chunk() -> None:
    chunk = "Engraving > Spacing\nlazy dog and the configuration of the engraver"
    assert span_text(RAW, chunk) == "lazy dog and the con\ufb01g\ufffeuration of the engraver"


def test_chunk_that_continues_on_the_next_page() -> None:
    # Its first 30 key characters end the page; the other 60 are on the next page.
    chunk = ("unrelated final line. " + "words that are only printed on the following page "
             "of the manual")
    assert span_text(RAW, chunk) == "unrelated final line."


def test_chunk_that_began_on_the_previous_page() -> None:
    chunk = "text from the page before, then Intro heading line The quick brown"
    assert span_text(RAW, chunk) == "Intro heading line\r\nThe quick brown"


def test_a_short_common_piece_inside_the_page_is_not_a_match() -> None:
    # "of the engraver is" is on the page, but mid-page and a small part of this chunk.
    page = "x" * 2 * EDGE_SLACK + " " + RAW + " " + "y" * 2 * EDGE_SLACK
    chunk = "Everything else: the layout of the engraver is explained in the next chapter"
    assert find_passage(page, chunk) is None
    assert span_text(RAW.replace("\r\n", " "), "nothing like it at all") is None


def test_empty_inputs() -> None:
    assert find_passage(RAW, "") is None
    assert find_passage(RAW, " \n- ") is None
    assert find_passage("", "text") is None
    assert longest_piece("", "text") is None


def test_first_occurrence_wins() -> None:
    page = "see the note.\r\nAgain: see the note."
    assert find_passage(page, "see the note.") == (0, 13)
