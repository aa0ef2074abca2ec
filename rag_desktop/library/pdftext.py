"""Page text with pdfium (word spaces, speed), guarded by pypdf's stream limits; pypdf as fallback.

pypdf glues Korean words together (it only inserts a space where the PDF draws one) and reads
about 75 pages/s; pdfium places spaces from the glyph positions and reads hundreds of pages a
second (docs/retrieval.md, "Text extraction"). pdfium has no decompression limit, though: a
1 GiB Flate bomb costs it 2 GB of memory. So pypdf, which stops at its limit, first decodes
every stream pdfium will decode for a page's text, and a page that fails that is skipped.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from rag_desktop.library.outline import Heading, read_outline

log = logging.getLogger(__name__)

# PDFium is not thread-safe, even across documents: every call goes through this lock.
_PDFIUM_LOCK = threading.Lock()
_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


class PageTexts:
    """Raw text per page of one PDF: pdfium's where it opens the file, else pypdf's."""

    def __init__(self, data: bytes, reader: Any) -> None:
        self.reader = reader
        self.pdf: Any = None
        self._checked: set[int] = set()  # streams already decoded by pypdf within its limits
        try:
            import pypdfium2

            with _PDFIUM_LOCK:
                self.pdf = pypdfium2.PdfDocument(data)
                self.n_pages = len(self.pdf)
        except Exception as exc:  # pypdf opened it, so its text is still worth having
            log.warning("pdfium cannot open this PDF (%s); using pypdf's text", exc)
            self.pdf = None

    def __enter__(self) -> PageTexts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pdfium's document."""
        if self.pdf is not None:
            with _PDFIUM_LOCK:
                self.pdf.close()
            self.pdf = None

    def outline(self) -> list[Heading]:
        """The outline's headings in page order ([] without pdfium, or without an outline)."""
        if self.pdf is None:
            return []
        with _PDFIUM_LOCK:
            return read_outline(self.pdf)

    def text(self, index: int) -> str:
        """The raw text of page `index` (0-based); raises when the page cannot be read."""
        page = self.reader.pages[index]
        if self.pdf is None or index >= self.n_pages:
            return str(page.extract_text() or "")
        check_streams(page, self._checked)
        with _PDFIUM_LOCK:
            pdf_page = self.pdf[index]
            try:
                textpage = pdf_page.get_textpage()
                try:
                    return str(textpage.get_text_bounded())
                finally:
                    textpage.close()
            finally:
                pdf_page.close()

    def has_images(self, index: int) -> bool:
        """Whether page `index` draws a picture (a scan's page does); False without pdfium."""
        if self.pdf is None or index >= self.n_pages:
            return False
        import pypdfium2.raw as pdfium_c

        with _PDFIUM_LOCK:
            pdf_page = self.pdf[index]
            try:
                images = pdf_page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3)
                return next(iter(images), None) is not None
            finally:
                pdf_page.close()

    def render(self, index: int, dpi: int) -> Any:
        """Page `index` as a PIL image at `dpi`, grey (OCR's input); needs pdfium."""
        if self.pdf is None:
            raise RuntimeError("pdfium cannot open this PDF, so its pages cannot be rendered")
        check_images(self.reader.pages[index])
        with _PDFIUM_LOCK:
            pdf_page = self.pdf[index]
            try:
                bitmap = pdf_page.render(scale=dpi / 72, grayscale=True)
                try:
                    return bitmap.to_pil().copy()  # its own pixels: the bitmap is freed
                finally:
                    bitmap.close()
            finally:
                pdf_page.close()


def check_streams(page: Any, checked: set[int]) -> None:
    """Decode with pypdf the page's content, forms and fonts; raises at pypdf's size limit.

    Other decoding trouble is left to pdfium, which reads more broken files than pypdf.
    `checked` holds the object numbers already decoded (fonts are shared by many pages); an
    object is added only once it decoded, so a bomb fails every page that uses it.
    """
    from pypdf.errors import LimitReachedError

    pending: list[Any] = [page.get("/Resources")]
    try:
        contents = page.get_contents()
        if contents is not None:
            contents.get_data()
    except LimitReachedError:
        raise
    except Exception:
        log.debug("pypdf cannot decode a content stream; pdfium may", exc_info=True)
    while pending:
        resources = _resolve(pending.pop())
        for group_name in ("/XObject", "/Font"):
            group: Any = _resolve(resources.get(group_name)) if hasattr(resources, "get") else {}
            for ref in group.values() if hasattr(group, "values") else ():
                try:
                    pending += _check_object(ref, checked)
                except LimitReachedError:
                    raise
                except Exception:
                    log.debug("pypdf cannot decode a resource; pdfium may", exc_info=True)


def check_images(page: Any) -> None:
    """Decode the page's pictures with pypdf first: a picture bomb stops at its limit.

    pdfium decodes a picture whole to render it and has no limit of its own.
    """
    pending: list[Any] = [page.get("/Resources")]
    seen: set[int] = set()  # a form that draws itself must not loop
    while pending:
        resources = _resolve(pending.pop())
        group: Any = _resolve(resources.get("/XObject")) if hasattr(resources, "get") else {}
        for ref in group.values() if hasattr(group, "values") else ():
            key = getattr(ref, "idnum", None)
            if key is not None and key in seen:
                continue
            seen.add(key if key is not None else -1)
            obj = _resolve(ref)
            if obj.get("/Subtype") == "/Image":
                obj.get_data()
            elif obj.get("/Subtype") == "/Form":
                pending.append(obj.get("/Resources"))


def _check_object(ref: Any, checked: set[int]) -> list[Any]:
    """Decode one form XObject or font (and its font files); returns resources to visit next."""
    key = getattr(ref, "idnum", None)
    if key is not None and key in checked:
        return []
    obj = _resolve(ref)
    nested: list[Any] = []
    if obj.get("/Subtype") == "/Form":
        obj.get_data()
        nested.append(obj.get("/Resources"))
    elif obj.get("/Type") == "/Font":
        fonts = [obj, *(_resolve(d) for d in _resolve(obj.get("/DescendantFonts", [])))]
        for font in fonts:
            _decode(font.get("/ToUnicode"))
            descriptor = _resolve(font.get("/FontDescriptor", {}))
            for name in _FONT_FILES:
                _decode(descriptor.get(name))
        for glyph in _resolve(obj.get("/CharProcs", {})).values():  # Type 3 glyph streams
            _decode(glyph)
        nested.append(obj.get("/Resources"))
    if key is not None:
        checked.add(key)
    return nested


def _decode(ref: Any) -> None:
    stream = _resolve(ref)
    if hasattr(stream, "get_data"):
        stream.get_data()


def _resolve(obj: Any) -> Any:
    return obj.get_object() if hasattr(obj, "get_object") else obj
