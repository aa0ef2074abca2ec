"""The bundled sample: its manual, its question set, and where its library is built."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from rag_desktop import config


def data_file(name: str) -> Path:
    """A file shipped in the package's data folder (read through importlib.resources)."""
    return Path(str(resources.files("rag_desktop") / "data" / name))


def sample_pdf() -> Path:
    """The bundled sample manual (LilyPond Usage, GNU FDL: docs/sample-manual.md)."""
    return data_file("sample-manual.pdf")


def sample_questions() -> Path:
    """The sample manual's question set with reference answers."""
    return data_file("sample-questions.jsonl")


def sample_library_dir() -> Path:
    """Where the sample library lives (built on the app's first start)."""
    return config.libraries_dir() / "sample"
