"""Reading PDFs with pypdf into cleaned, labelled pages, and splitting them into chunks."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag_desktop.config import ChunkSettings
from rag_desktop.progress import CancelToken, ProgressCallback, ProgressEvent

log = logging.getLogger(__name__)

# The header may follow a little junk; the PDF spec's readers look in the first 1024 bytes.
_HEADER_WINDOW = 1024
_TRY_AGAIN = "check that it opens in a PDF viewer, or save it again as PDF, and add it again"


@dataclass(frozen=True)
class Page:
    """One page: 1-based physical number, printed label (None without /PageLabels), clean text."""

    number: int
    label: str | None
    text: str


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

    Single newlines and paragraph breaks are kept (runs of 3+ become 2) because the chunker
    prefers to split there; runs of spaces and tabs become one space. Hangul is composed (NFC)
    but otherwise untouched; NFKC is not used because it would rewrite far more than ligatures.
    """
    text = unicodedata.normalize("NFC", text).translate(_LIGATURES)
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


def _open_reader(path: Path) -> Any:
    """A pypdf reader for `path`, decrypted with the empty password if it is encrypted."""
    import pypdf

    try:
        reader = pypdf.PdfReader(path, strict=False)
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
    path: Path, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
) -> list[Page]:
    """Read every page's cleaned text; raise DocumentError when the file is no usable PDF.

    Pages whose extraction fails are skipped (logged) and the rest are kept.
    Reports stage "pages"; raises Cancelled when `cancel` is set.
    """
    path = Path(path)
    check_file(path)
    reader = _open_reader(path)
    labels = _page_labels(reader)
    n_pages = len(labels)
    pages: list[Page] = []
    failure: Exception | None = None
    for index in range(n_pages):
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            raw = reader.pages[index].extract_text() or ""
        except Exception as exc:  # one bad content stream should not lose the other pages
            log.warning("%s: skipping page %d, its text cannot be extracted", path.name, index + 1)
            raw, failure = None, exc
        if raw is not None:
            pages.append(Page(number=index + 1, label=labels[index], text=clean_text(raw)))
        if progress is not None:
            progress(ProgressEvent("pages", index + 1, n_pages, path.name))
    if not pages and failure is not None:
        # Every page failed (e.g. a decompression bomb hit pypdf's limit): not a scan.
        raise DocumentError(path, f"no page's text can be extracted ({_describe(failure)})")
    if not any(page.text for page in pages):
        raise DocumentError(
            path, "no text layer (scanned?); OCR is not supported yet", "add a PDF with text"
        )
    return pages


def chunk_pages(
    pages: list[Page], file: str, sha256: str, settings: ChunkSettings
) -> list[Chunk]:
    """Split each page with LangChain's RecursiveCharacterTextSplitter; chunks never span pages.

    Keeping chunks inside a page makes every source citation exact.
    """
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        add_start_index=True,
    )
    chunks: list[Chunk] = []
    for page in pages:
        if not page.text:
            continue
        for doc in splitter.create_documents([page.text]):
            start = int(doc.metadata["start_index"])
            text = doc.page_content
            if start < 0 or page.text[start : start + len(text)] != text:
                start = page.text.find(text)  # defensive: the splitter's search is heuristic
            chunks.append(
                Chunk(
                    file=file,
                    sha256=sha256,
                    page=page.number,
                    page_label=page.label,
                    start=start,
                    end=start + len(text),
                    text=text,
                    ordinal=len(chunks),
                )
            )
    return chunks
