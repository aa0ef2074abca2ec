"""Reading PDFs into cleaned, labelled, sectioned pages, and splitting them into chunks."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from rag_desktop.config import ChunkSettings, OcrSettings
from rag_desktop.library.ocr import PageOcr, ocr_scanned_pages
from rag_desktop.library.ocr_cache import OcrPages
from rag_desktop.library.outline import page_sections, section_at
from rag_desktop.library.pdftext import PageTexts
from rag_desktop.progress import CancelToken, ProgressCallback, ProgressEvent

log = logging.getLogger(__name__)

# A batch counter: the length of each text in some unit (e.g. an embedder's tokens).
LengthFunction = Callable[[list[str]], list[int]]

# The header may follow a little junk; the PDF spec's readers look in the first 1024 bytes.
_HEADER_WINDOW = 1024
# Rounds of fit_to_length: the first at max_length, each later one 15% smaller.
_MAX_REFITS = 6
_TRY_AGAIN = "check that it opens in a PDF viewer, or save it again as PDF, and add it again"


@dataclass(frozen=True)
class Page:
    """One page: 1-based physical number, printed label (None without /PageLabels), clean text.

    `section` is the outline's section path in effect at the page's top ("" without an
    outline); `headings` holds (offset in text, section path) of the headings that start on it.
    """

    number: int
    label: str | None
    text: str
    section: str = ""
    headings: tuple[tuple[int, str], ...] = ()
    # Set when the text was read by OCR from the page's picture (None: the PDF's text layer).
    ocr: PageOcr | None = None

    def section_at(self, offset: int) -> str:
        """The section path in effect at `offset` of this page's text."""
        return section_at(self.section, self.headings, offset)


@dataclass(frozen=True)
class Chunk:
    """A piece of one page: `page_text[start:end] == text`; ordinal is its place in the file."""

    file: str
    sha256: str
    page: int
    page_label: str | None
    start: int
    end: int
    text: str
    ordinal: int
    section: str = ""

    def index_text(self, contextual_header: bool = False) -> str:
        """The text to embed and index: with a contextual header, its section path first."""
        return with_header(self.section, self.text) if contextual_header else self.text


def with_header(section: str, text: str) -> str:
    """`text` after its section path on a line of its own (just `text` without a section)."""
    return f"{section}\n{text}" if section else text


class DocumentError(Exception):
    """A file that cannot be read as a PDF with text; str() says which, why, and what to do."""

    def __init__(self, path: Path, reason: str, hint: str = _TRY_AGAIN) -> None:
        self.path = Path(path)
        self.reason = reason
        self.hint = hint
        super().__init__(f"{self.path.name}: {reason}; {hint}")


_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
# A letter, a hyphen at the end of a line, then a lowercase letter: a word split by the layout.
# A capital or digit after the break ("ISO-\n8859", "UTF-\n8") is more often a real hyphen.
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-[ \t]*\n[ \t]*(?=[^\W\d_A-Z])")
# Control characters pypdf leaks from drawing operators (\x08, \x0b...), except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u00ad]")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """De-hyphenate line-end breaks, expand ligatures, and normalise whitespace.

    pdfium marks a hyphen that ends a line with \\x02 and drops the line break: that becomes
    "-\\n" first, so both extractors' text is cleaned alike. Single newlines and paragraph
    breaks are kept (runs of 3+ become 2) because the chunker prefers to split there; runs of
    spaces and tabs become one space. Hangul is composed (NFC) but otherwise untouched; NFKC
    is not used because it would rewrite far more than ligatures.
    """
    text = unicodedata.normalize("NFC", text.replace("\x02", "-\n")).translate(_LIGATURES)
    text = _LINE_END_HYPHEN.sub("", text)
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SPACES.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def check_file(path: Path) -> None:
    """Raise DocumentError for a path that is not a non-empty file starting like a PDF."""
    if not path.exists():
        raise DocumentError(path, "file not found", "check the path and add it again")
    if path.is_dir():
        raise DocumentError(path, "is a folder, not a PDF", "add the PDF files inside it")
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEADER_WINDOW)
    except OSError as exc:
        reason = f"cannot be read ({exc.strerror})"
        raise DocumentError(path, reason, "check its permissions") from exc
    if not head:
        raise DocumentError(path, "empty file (0 bytes)", "copy or download it again")
    if b"%PDF-" not in head:
        raise DocumentError(
            path, "not a PDF (no %PDF header)", "convert it to PDF first, or pick the PDF file"
        )


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, read once for both pypdf and pdfium."""
    try:
        return path.read_bytes()
    except OSError as exc:
        reason = f"cannot be read ({exc.strerror})"
        raise DocumentError(path, reason, "check its permissions") from exc


def _open_reader(path: Path, data: bytes) -> Any:
    """A pypdf reader over `data`, decrypted with the empty password if it is encrypted.

    pypdf stays the judge of a file (damage, passwords, limits) so that every bad input keeps
    its message; pdfium, which reads more, only extracts the text.
    """
    import pypdf

    try:
        reader = pypdf.PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Owner-password-only PDFs (print/copy restrictions) open with the empty user password.
            opened = reader.decrypt("")
            if opened == pypdf.PasswordType.NOT_DECRYPTED:
                raise DocumentError(
                    path,
                    "encrypted with a password",
                    "remove the password (e.g. print to PDF) and add it again",
                )
        n_pages = len(reader.pages)
    except DocumentError:
        raise
    except pypdf.errors.DependencyError as exc:
        raise DocumentError(
            path,
            "encrypted with AES, which needs the 'cryptography' package",
            "install it (pip install cryptography) or remove the encryption",
        ) from exc
    except Exception as exc:  # a corrupt PDF can raise anything: KeyError, RecursionError...
        raise DocumentError(path, f"damaged or unreadable PDF ({_describe(exc)})") from exc
    if n_pages == 0:
        raise DocumentError(path, "the PDF has no pages")
    return reader


def _describe(exc: BaseException) -> str:
    """A short one-line description of an exception for an error message."""
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _page_labels(reader: Any) -> list[str | None]:
    """Printed page labels when the PDF defines /PageLabels, else None for every page."""
    n_pages = len(reader.pages)
    try:
        if "/PageLabels" in reader.trailer["/Root"]:
            labels = list(reader.page_labels)
            if len(labels) == n_pages:
                return [str(label) for label in labels]
    except Exception:  # a broken label tree must not cost the text
        log.warning("ignoring unreadable /PageLabels", exc_info=True)
    return [None] * n_pages


def read_pdf(
    path: Path, progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
    ocr: OcrSettings | None = None, ocr_cache: OcrPages | None = None,
) -> list[Page]:
    """Read every page's cleaned text and section; raise DocumentError when no usable PDF.

    Pages whose extraction fails are skipped (logged) and the rest are kept. A page with a
    picture and no text layer is read by OCR (library/ocr.py; `ocr` defaults to
    OcrSettings.from_env()); pages already in `ocr_cache` are not read again, and each page
    read is kept there. Reports stages "pages" and "ocr"; raises Cancelled when `cancel` is set.
    """
    path = Path(path)
    check_file(path)
    data = _read_bytes(path)
    reader = _open_reader(path, data)
    labels = _page_labels(reader)
    n_pages = len(labels)
    texts: list[str | None] = []
    failure: Exception | None = None
    with PageTexts(data, reader) as extractor:
        outline = extractor.outline()
        for index in range(n_pages):
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                texts.append(clean_text(extractor.text(index)))
            except Exception as exc:  # one bad content stream should not lose the other pages
                log.warning("%s: skipping page %d, its text cannot be extracted",
                            path.name, index + 1)
                texts.append(None)
                failure = exc
            if progress is not None:
                progress(ProgressEvent("pages", index + 1, n_pages, path.name))
        read, ocr_problem = ocr_scanned_pages(extractor, texts, ocr or OcrSettings.from_env(),
                                              path.name, progress, cancel, ocr_cache)
    if all(text is None for text in texts) and failure is not None:
        # Every page failed (e.g. a decompression bomb hit pypdf's limit): not a scan.
        raise DocumentError(path, f"no page's text can be extracted ({_describe(failure)})")
    if not any(texts):
        raise _no_text(path, bool(read), ocr_problem)
    texts = [clean_text(text) if index in read and text else text
             for index, text in enumerate(texts)]
    sections = page_sections([text or "" for text in texts], outline)
    return [
        Page(index + 1, labels[index], text, *sections[index], ocr=read.get(index))
        for index, text in enumerate(texts) if text is not None
    ]


def _no_text(path: Path, ocr_ran: bool, ocr_problem: str | None) -> DocumentError:
    """The error for a PDF without any text: why OCR did not help, and what to do."""
    if ocr_problem is not None:
        return DocumentError(path, "no text layer (scanned?), and it was not read", ocr_problem)
    if ocr_ran:
        return DocumentError(path, "no text layer (scanned?), and OCR found no text in it",
                             "scan it again at 300 dpi or more (for Korean, OCR language ko)")
    return DocumentError(path, "no text layer (scanned?) and no page picture to read with OCR",
                         "add a PDF with text")


def chunk_pages(
    pages: list[Page], file: str, sha256: str, settings: ChunkSettings, *,
    length_function: LengthFunction | None = None, max_length: int | None = None,
    contextual_header: bool = False,
) -> list[Chunk]:
    """Split each page with LangChain's RecursiveCharacterTextSplitter; chunks never span pages.

    Keeping chunks inside a page makes every source citation exact. Each chunk gets the
    section in effect at its start. With `length_function` (a batch counter, e.g. of the
    embedder's tokens) and `max_length`, a chunk longer than max_length in those units is split
    again, with the same share of overlap, so that the embedder reads every chunk whole;
    with `contextual_header`, the length counted is that of `Chunk.index_text(True)`.
    """
    splitter = _splitter(settings.chunk_size, settings.chunk_overlap)
    pieces = [(page, start, text) for page in pages if page.text
              for start, text in _split(splitter, page.text)]
    if length_function is not None and max_length is not None:
        def header(piece: Piece) -> str:
            return with_header(piece[0].section_at(piece[1]), "") if contextual_header else ""

        pieces = fit_to_length(pieces, settings, length_function, max_length, header)
    return [
        Chunk(file=file, sha256=sha256, page=page.number, page_label=page.label, start=start,
              end=start + len(text), text=text, ordinal=ordinal, section=page.section_at(start))
        for ordinal, (page, start, text) in enumerate(pieces)
    ]


def _splitter(size: int, overlap: int, length: Callable[[str], int] = len) -> Any:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, length_function=length, add_start_index=True
    )


def _split(splitter: Any, text: str) -> list[tuple[int, str]]:
    """(start, piece) for each piece of `text`, with `text[start:start + len(piece)] == piece`.

    The splitter's start_index assumes lengths in characters; with another length function,
    or when it misses, a piece is searched for after the previous piece's start.
    """
    out: list[tuple[int, str]] = []
    for doc in splitter.create_documents([text]):
        start = int(doc.metadata["start_index"])
        piece = doc.page_content
        after = out[-1][0] + 1 if out else 0
        if start < after or text[start : start + len(piece)] != piece:
            start = text.find(piece, after)
            start = text.find(piece) if start < 0 else start
        out.append((start, piece))
    return out


Piece = tuple[Page, int, str]


def fit_to_length(
    pieces: list[Piece], settings: ChunkSettings, count: LengthFunction, max_length: int,
    header: Callable[[Piece], str] = lambda piece: "",
) -> list[Piece]:
    """Split again every piece whose header + text is longer than `max_length` units.

    Counts are made in batches. A split piece's units can exceed the sum of its parts'
    (a tokenizer joins differently), so a piece still too long is split again, smaller.
    """
    share = settings.chunk_overlap / max(1, settings.chunk_size)

    def lengths_of(batch: list[Piece]) -> list[int]:
        return count([header(piece) + piece[2] for piece in batch]) if batch else []

    lengths = lengths_of(pieces)
    for attempt in range(_MAX_REFITS):
        if all(n <= max_length for n in lengths):
            break
        out: list[Piece] = []
        out_lengths: list[int | None] = []  # None: a new piece, counted below in one batch
        for piece, n in zip(pieces, lengths, strict=True):
            if n <= max_length or len(piece[2]) <= 1:
                out.append(piece)
                out_lengths.append(n)
                continue
            room = max_length - (count([header(piece)])[0] if header(piece) else 0)
            size = max(1, int(room * 0.85**attempt))
            splitter = _splitter(size, int(size * share), lambda t: count([t])[0])
            page, start, text = piece
            for sub_start, sub in _split(splitter, text):
                out.append((page, start + sub_start, sub))
                out_lengths.append(None)
        fresh = iter(lengths_of([out[i] for i, n in enumerate(out_lengths) if n is None]))
        lengths = [next(fresh) if n is None else n for n in out_lengths]
        pieces = out
    return pieces
