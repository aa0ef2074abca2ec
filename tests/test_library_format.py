"""The library's format version: a library from a newer app is refused, with what to do."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rag_desktop.library.library import Library, LibraryError
from rag_desktop.library.store import DB_FILE, FORMAT_VERSION
from tests.pdfs import make_pdf


def test_a_library_from_a_newer_app_is_refused_and_left_as_it_was(
        tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    with Library.open(tmp_path / "lib", embedder) as lib:
        lib.add_pdf(make_pdf(tmp_path / "kettle.pdf", ["Descale the kettle monthly."]))
    db = tmp_path / "lib" / DB_FILE
    with sqlite3.connect(db) as conn:
        manifest = json.loads(conn.execute(
            "SELECT value FROM meta WHERE key='manifest'").fetchone()[0])
        manifest["format_version"] = FORMAT_VERSION + 1
        conn.execute("UPDATE meta SET value=? WHERE key='manifest'", (json.dumps(manifest),))
    before = db.read_bytes()
    with pytest.raises(LibraryError, match="newer rag-desktop; update the app"):
        Library.open(tmp_path / "lib", embedder, create=False)
    assert db.read_bytes() == before  # refused without a write
