"""Where a cited chunk lies in a page's raw text: pure matching, no Qt, no PDF library.

A chunk's text is the cleaner's output (documents.clean_text): whitespace collapsed, a word
split by a line-end hyphen joined ("config-\\n" + "uration" -> "configuration"), ligatures
expanded, Hangul composed. A viewer's text layer is the raw text: pdfium ends lines with
"\\r\\n" and marks a line-end hyphen with \\x02 (or U+FFFE, as Qt PDF returns it) instead of
the hyphen and the break. Both sides are reduced to a *key* that keeps neither whitespace nor
hyphens, decomposed and case-folded, where every key character remembers the raw index it
came from; the chunk's key is then found in the page's key and mapped back to a raw span.

A chunk may lie only partly on a page (a heading line in front of it, or text that continues
on the next page): then the longest piece of it found on the page counts when it is most of
the chunk, or when it runs to the page's end or from the page's start.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher

# Hyphens, soft hyphens, and pdfium's line-end hyphen marks: the cleaner may drop or keep them.
_DROPPED = frozenset("-\u00ad\u2010\u2011\x02\ufffe")
# A partial match is accepted when it covers this share of the chunk's key...
MOST_OF_CHUNK = 0.6
# ...or, at least this long, runs to within EDGE_SLACK key characters of the page's end or start
# (room for a running footer or header, such as a page number).
MIN_EDGE_MATCH = 16
EDGE_SLACK = 48

Span = tuple[int, int]


def key_chars(char: str) -> str:
    """What one raw character contributes to the key: nothing for whitespace, controls and
    hyphens; else its compatibility decomposition, case-folded (ligatures become letters)."""
    if char in _DROPPED or char.isspace() or unicodedata.category(char) == "Cc":
        return ""
    return unicodedata.normalize("NFKD", char).casefold()


def passage_key(text: str) -> str:
    """The comparison key of a whole text (see key_chars)."""
    return "".join(key_chars(char) for char in text)


def keyed(text: str) -> tuple[str, list[int]]:
    """(key, origin): origin[k] is the index in `text` of the character key[k] came from."""
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        chars = key_chars(char)
        parts.append(chars)
        origin.extend([index] * len(chars))
    return "".join(parts), origin


def find_passage(page_text: str, passage: str) -> Span | None:
    """The span [start, end) of `page_text` that shows `passage`, or None when it is not there.

    The span starts at the passage's first character on the page and ends after its last, so
    it never begins or ends with whitespace. Exact (key) matches win; otherwise the partial
    rules of the module docstring apply.
    """
    needle = passage_key(passage)
    if not needle:
        return None
    page_key, origin = keyed(page_text)
    at = page_key.find(needle)
    if at >= 0:
        return origin[at], origin[at + len(needle) - 1] + 1
    match = longest_piece(page_key, needle)
    if match is None:
        return None
    at, size = match
    return origin[at], origin[at + size - 1] + 1


def longest_piece(page_key: str, needle: str) -> tuple[int, int] | None:
    """(offset in page_key, length) of the longest piece of `needle` on the page, when it is
    accepted as the part of the passage on this page (see the module docstring)."""
    if not page_key:
        return None
    # autojunk would treat every frequent letter as junk: character keys need it off.
    matcher = SequenceMatcher(None, needle, page_key, autojunk=False)
    found = matcher.find_longest_match(0, len(needle), 0, len(page_key))
    at, size = found.b, found.size
    if size == 0:
        return None
    if size >= MOST_OF_CHUNK * len(needle):
        return at, size
    at_edge = at <= EDGE_SLACK or at + size >= len(page_key) - EDGE_SLACK
    return (at, size) if size >= MIN_EDGE_MATCH and at_edge else None


# A box in page points: left, top, right, bottom (top-left origin, as the page view draws).
Box = tuple[float, float, float, float]


def word_boxes(words: Sequence[tuple[str, float, float, float, float]], passage: str) -> list[Box]:
    """The boxes that show `passage` on a scanned page, from its OCR words (text and box, in
    reading order): one box a line, over the words the passage's span touches; [] when the
    passage is not on the page."""
    starts: list[int] = []
    text = ""
    for word in words:
        starts.append(len(text) + (1 if text else 0))
        text = f"{text} {word[0]}" if text else word[0]
    span = find_passage(text, passage)
    if span is None:
        return []
    lines: list[list[float]] = []
    for (shown, left, top, right, bottom), start in zip(words, starts, strict=True):
        if start >= span[1] or start + len(shown) <= span[0]:
            continue
        if lines and top < lines[-1][3] and bottom > lines[-1][1]:  # overlaps: the same line
            line = lines[-1]
            line[:] = [min(line[0], left), min(line[1], top), max(line[2], right),
                       max(line[3], bottom)]
        else:
            lines.append([left, top, right, bottom])
    return [(a, b, c, d) for a, b, c, d in lines]
