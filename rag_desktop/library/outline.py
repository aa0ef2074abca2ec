"""Section paths from a PDF's outline (bookmarks): which heading each page and chunk is under."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

SEPARATOR = " > "
# Bounds against hostile outlines: pdfium's own walk already stops at cycles.
_MAX_DEPTH = 12
_MAX_ENTRIES = 20_000
# A heading found in a page's first two lines owns the page from its top: a running head or a
# page number is often all that comes before it.
_TOP_LINES = 2
_WS = re.compile(r"\s+")
# What may stand before a title on its line: "3.2.1", "A.1", "Chapter 2", "제 7 장".
_NUMBER = re.compile(r"[\dA-Z.]{1,12}|(Chapter|Appendix|Part) \w+|제 ?\d+ ?[장절편부]")


@dataclass(frozen=True)
class Heading:
    """One outline entry: its 0-based page, its own title, and its path from the top level."""

    page: int
    title: str
    path: str


def clean_title(title: str) -> str:
    """One line of NFC text without control characters."""
    title = unicodedata.normalize("NFC", title or "")
    return _WS.sub(" ", "".join(ch if ch.isprintable() else " " for ch in title)).strip()


def read_outline(pdf: Any) -> list[Heading]:
    """The outline of a pypdfium2 document in page order ([] when it has none or it is broken).

    Each entry's path joins the titles of its ancestors and its own with " > ".
    """
    headings: list[Heading] = []
    parents: list[str] = []
    try:
        for bookmark in pdf.get_toc(max_depth=_MAX_DEPTH):
            level = max(0, int(bookmark.level))
            del parents[level:]
            title = clean_title(bookmark.get_title())
            parents += [""] * (level - len(parents)) + [title]
            dest = bookmark.get_dest()
            index = dest.get_index() if dest is not None else None
            if title and index is not None and index >= 0:
                headings.append(Heading(index, title, SEPARATOR.join(p for p in parents if p)))
            if len(headings) >= _MAX_ENTRIES:
                break
    except Exception:  # a broken outline must not cost the text
        log.warning("ignoring an unreadable outline", exc_info=True)
    # Stable: headings of one page keep their outline order.
    return sorted(headings, key=lambda h: h.page)


def _title_pattern(title: str) -> re.Pattern[str]:
    """The title's words with any (or no) whitespace between them, case-insensitive."""
    words = [re.escape(w) for w in title.split()]
    return re.compile(r"\s*".join(words), re.IGNORECASE)


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def place_heading(text: str, title: str, after: int) -> int | None:
    """Where a heading starts in a page's text, searching from `after`; None if not found.

    A match at the start of a line (after an optional number such as "3.2.1") beats one inside
    a line; a match in the first line loses to a later line-start one, since the first line is
    often a running head naming the section. The offset returned is the start of its line.
    """
    candidates = []
    for match in _title_pattern(title).finditer(text, after):
        line = _line_start(text, match.start())
        lead = text[line : match.start()].strip()
        if not lead or _NUMBER.fullmatch(lead):
            candidates.append(max(line, after))
        if len(candidates) >= 2:
            break
    if not candidates:
        found = _title_pattern(title).search(text, after)
        return None if found is None else found.start()
    first_line_end = text.find("\n")
    if len(candidates) > 1 and first_line_end != -1 and candidates[0] <= first_line_end:
        return candidates[1]
    return candidates[0]


def page_sections(
    texts: list[str], headings: list[Heading]
) -> list[tuple[str, tuple[tuple[int, str], ...]]]:
    """Per page: the section path in effect at its top, and (offset, path) of headings on it.

    A heading that cannot be found in its page's text is put where the one before it on that
    page is (the page's top for the first), so that a page's first heading still names it.
    """
    by_page: dict[int, list[Heading]] = {}
    for heading in headings:
        by_page.setdefault(heading.page, []).append(heading)
    current, out = "", []
    for index, text in enumerate(texts):
        placed: list[tuple[int, str]] = []
        cursor = 0
        for heading in by_page.get(index, []):
            offset = place_heading(text, heading.title, cursor)
            offset = cursor if offset is None else offset
            if offset <= _top_offset(text):
                offset = 0
            placed.append((offset, heading.path))
            cursor = offset
        out.append((current, tuple(placed)))
        if placed:
            current = placed[-1][1]
    return out


def _top_offset(text: str) -> int:
    """The end of the page's first `_TOP_LINES` - 1 lines: a heading starting there is on top."""
    end = -1
    for _ in range(_TOP_LINES - 1):
        nxt = text.find("\n", end + 1)
        if nxt == -1:
            return len(text)
        end = nxt
    return end + 1


def section_at(section: str, headings: tuple[tuple[int, str], ...], offset: int) -> str:
    """The section path in effect at `offset` of a page (its top section, then its headings)."""
    for start, path in headings:
        if start > offset:
            break
        section = path
    return section
