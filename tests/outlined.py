"""A test PDF with an outline (bookmarks), written with fpdf2: headings at known places."""

from __future__ import annotations

from pathlib import Path

# One list per page: ("h", level, title) starts a section (bookmark and heading line),
# ("p", text) is a paragraph. Page 1 comes before any heading; page 3 continues 1.1; page 4
# holds three headings, the last two in mid-page.
OUTLINED_PAGES: list[list[tuple]] = [  # type: ignore[type-arg]
    [("p", "Kettle manual. Read the safety notes before the first use.")],
    [("h", 0, "1 Installation"), ("p", "Place the kettle on a flat and dry surface."),
     ("h", 1, "1.1 Unpacking"), ("p", "Remove the foam from the lid and keep the box.")],
    [("p", "Keep the plastic bags away from children; they are not toys.")],
    [("h", 0, "2 Cleaning"), ("p", "Unplug the kettle before cleaning it at all."),
     ("h", 1, "2.1 Daily care"), ("p", "Wipe the outside with a soft damp cloth daily."),
     ("h", 1, "2.2 Descaling"), ("p", "Boil vinegar and water once a month to descale.")],
]
# page number -> the section path of each paragraph on it, in order.
EXPECTED_SECTIONS = {
    1: [""],
    2: ["1 Installation", "1 Installation > 1.1 Unpacking"],
    3: ["1 Installation > 1.1 Unpacking"],
    4: ["2 Cleaning", "2 Cleaning > 2.1 Daily care", "2 Cleaning > 2.2 Descaling"],
}


def make_outlined_pdf(path: Path, pages: list[list[tuple]] = OUTLINED_PAGES) -> Path:  # type: ignore[type-arg]
    """Write `pages`; each heading is a bookmark at its line and a bold line of text."""
    from fpdf import FPDF

    pdf = FPDF()
    for items in pages:
        pdf.add_page()
        for item in items:
            if item[0] == "h":
                pdf.set_font("Helvetica", style="B", size=14)
                pdf.start_section(item[2], level=item[1])
                pdf.multi_cell(0, 10, item[2], new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.set_font("Helvetica", size=12)
                pdf.multi_cell(0, 8, item[1], new_x="LMARGIN", new_y="NEXT")
                pdf.ln(4)
    pdf.output(str(path))
    return Path(path)
