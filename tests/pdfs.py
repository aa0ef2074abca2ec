"""Test PDF factory: tiny PDFs with known text per page, written with fpdf2 and pypdf."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

PageLabels = list[tuple[int, str, int]]  # (first page index, style like "/r" or "/D", start)


def nanum_font() -> Path:
    """The Hangul TTF that koreanize-matplotlib ships (a declared dependency)."""
    import importlib.util

    # find_spec, not import: importing it reconfigures matplotlib for the whole session.
    spec = importlib.util.find_spec("koreanize_matplotlib")
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "fonts" / "NanumGothic.ttf"


def make_pdf(
    path: Path,
    pages: list[str],
    page_labels: PageLabels | None = None,
    font: Path | None = None,
) -> Path:
    """Write one page per string; `font` is a TTF for non-Latin-1 text (e.g. nanum_font())."""
    from fpdf import FPDF

    pdf = FPDF()
    if font is not None:
        pdf.add_font("custom", fname=str(font))
        pdf.set_font("custom", size=12)
    else:
        pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    path = Path(path)
    pdf.output(str(path))
    if page_labels:
        _relabel(path, page_labels)
    return path


def _relabel(path: Path, page_labels: PageLabels) -> None:
    """Add /PageLabels ranges with pypdf (fpdf2 cannot write them)."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(path))
    n = len(writer.pages)
    starts = [first for first, _, _ in page_labels] + [n]
    for (first, style, start), end in zip(page_labels, starts[1:], strict=True):
        writer.set_page_label(first, end - 1, style=style, start=start)
    writer.write(str(path))


def make_encrypted_pdf(path: Path, pages: list[str], user_password: str,
                       owner_password: str = "owner") -> Path:
    """A PDF encrypted with RC4-128 (no 'cryptography' needed); user_password "" = owner-only."""
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(path.with_suffix(".plain.pdf"), pages)
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password, owner_password, algorithm="RC4-128")
    writer.write(str(path))
    plain.unlink()
    return path


def make_image_only_pdf(path: Path, n_pages: int = 2) -> Path:
    """A 'scanned' PDF: every page is a drawn picture, with no text layer at all."""
    from fpdf import FPDF

    pdf = FPDF()
    for i in range(n_pages):
        pdf.add_page()
        pdf.set_fill_color(30 * i, 120, 200)
        pdf.rect(20, 20, 120, 60, style="F")
        pdf.ellipse(40, 100, 80, 40, style="F")
    pdf.output(str(path))
    return path


PdfFactory = Callable[..., Path]


@pytest.fixture
def pdf_factory(tmp_path: Path) -> PdfFactory:
    """make_pdf bound to a tmp dir: pdf_factory("name.pdf", ["page 1", "page 2"], ...)."""

    def factory(name: str, pages: list[str], **kwargs: object) -> Path:
        return make_pdf(tmp_path / name, pages, **kwargs)  # type: ignore[arg-type]

    return factory
