"""Help → About: the version and links to the licence files."""

from __future__ import annotations

from rag_desktop import __version__
from rag_desktop.gui.panels.about import about_html, licence_files
from tests.conftest import REPO


def test_about_names_the_version_backend_and_links_the_licences() -> None:
    assert licence_files() == {"LICENSE": REPO / "LICENSE",
                               "THIRD_PARTY.md": REPO / "THIRD_PARTY.md"}
    html = about_html("CUDA")
    assert f"rag-desktop {__version__}" in html and "llama.cpp backend: CUDA" in html
    assert (REPO / "LICENSE").as_uri() in html and (REPO / "THIRD_PARTY.md").as_uri() in html
    assert "no model loaded yet" in about_html(None)
