"""Help → About: the version, the llama.cpp backend in use, and the licences the app ships."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from rag_desktop import __version__

DOCS = ("LICENSE", "THIRD_PARTY.md")

# lupdate finds translate("Context", "text") calls.
translate = QCoreApplication.translate



def licence_files() -> dict[str, Path]:
    """Where LICENSE and THIRD_PARTY.md are: beside a frozen app, in its bundle, or the checkout."""
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller's _internal folder
    roots = [Path(sys.executable).parent, *([Path(bundle)] if bundle else []),
             Path(__file__).resolve().parents[3]]
    found: dict[str, Path] = {}
    for name in DOCS:
        for root in roots:
            if (root / name).is_file():
                found[name] = root / name
                break
    return found


def about_html(backend: str | None) -> str:
    """The About text; `backend` is the loaded model's (CPU, CUDA, Metal), None before a load."""
    files = licence_files()
    links = " · ".join(f'<a href="{p.as_uri()}">{name}</a>' for name, p in files.items())
    backend_line = translate("About", "llama.cpp backend: {backend}").format(
        backend=backend or translate("About", "no model loaded yet"))
    summary = translate("About", "Offline answers from PDF manuals with small local language "
                                 "models.")
    licences = translate("About", "Licensed under the Apache License 2.0. The app ships "
                                  "third-party software and models under their own licences "
                                  "(llama.cpp MIT, Qt/PySide6 LGPL, SmolLM2 Apache-2.0, Gemma "
                                  "terms, the sample manual GNU FDL).")
    metadata = translate("About", "The licence files are in the package's metadata "
                                  "(pip show -f rag-desktop).")
    return (f"<h3>rag-desktop {__version__}</h3><p>{summary}</p><p>{backend_line}</p>"
            f"<p>{licences}</p><p>{links or metadata}</p>")


def show_about(parent: QWidget, backend: str | None) -> None:
    """The About box, with clickable links to the licence files."""
    box = QMessageBox(parent)
    box.setWindowTitle(translate("About", "About rag-desktop"))
    box.setTextFormat(box.textFormat().RichText)
    box.setText(about_html(backend))
    box.exec()
