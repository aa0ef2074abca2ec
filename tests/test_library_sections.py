"""Section paths on chunks, and libraries made before them: opened, migrated, still searched."""

from __future__ import annotations

from pathlib import Path

from rag_desktop.library.embeddings import SentenceTransformerEmbedder
from rag_desktop.library.library import Library
from tests.test_library import QUERY, build


def test_chunks_keep_their_section_paths(tmp_path: Path,
                                         embedder: SentenceTransformerEmbedder) -> None:
    from rag_desktop.config import ChunkSettings
    from tests.outlined import make_outlined_pdf

    small = ChunkSettings(chunk_size=70, chunk_overlap=0)  # one chunk a paragraph
    with Library.open(tmp_path / "lib", embedder, chunk_settings=small) as lib:
        lib.add_pdf(make_outlined_pdf(tmp_path / "kettle.pdf"))
        top = lib.search("descale with vinegar once a month", k=1).hits[0].chunk
        assert top.page == 4 and top.section == "2 Cleaning > 2.2 Descaling"
        texts = dict(lib.store.chunk_texts(contextual_header=True))
        assert "2 Cleaning > 2.2 Descaling\nBoil vinegar and water once a month to descale." in (
            texts.values())
    with Library.open(tmp_path / "lib", embedder, create=False) as again:  # stored, not recomputed
        hits = again.search("plastic bags and children", k=1).hits
        assert hits[0].chunk.section == "1 Installation > 1.1 Unpacking"


def _drop_section_column(lib_dir: Path) -> None:
    """Turn a library's chunk table into the one of libraries made before section paths."""
    import sqlite3

    conn = sqlite3.connect(lib_dir / "library.sqlite")
    with conn:
        conn.execute("ALTER TABLE chunks DROP COLUMN section")
    assert "section" not in {row[1] for row in conn.execute("PRAGMA table_info(chunks)")}
    conn.close()


def test_an_old_library_without_sections_opens_migrates_and_searches(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    from tests.outlined import make_outlined_pdf

    lib = build(tmp_path, embedder)
    before = [(h.chunk.page, h.chunk.text) for h in lib.search(QUERY, k=4).hits]
    lib.close()
    _drop_section_column(tmp_path / "lib")
    with Library.open(tmp_path / "lib", embedder, create=False) as old:
        hits = old.search(QUERY, k=4).hits
        assert [(h.chunk.page, h.chunk.text) for h in hits] == before
        assert {h.chunk.section for h in hits} == {""}  # old rows: no section, not an error
        old.add_pdf(make_outlined_pdf(tmp_path / "kettle.pdf"))  # new rows get theirs
        top = old.search("keep plastic bags away from children", k=1).hits[0].chunk
        assert (top.page, top.section) == (3, "1 Installation > 1.1 Unpacking")
        assert old.check().ok


def test_an_old_library_that_cannot_be_migrated_now_is_still_searched(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    import sqlite3

    lib = build(tmp_path, embedder)
    before = [(h.chunk.page, h.chunk.text) for h in lib.search(QUERY, k=4).hits]
    lib.close()
    _drop_section_column(tmp_path / "lib")
    writer = sqlite3.connect(tmp_path / "lib" / "library.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock (as read-only would)
    try:
        with Library.open(tmp_path / "lib", embedder, create=False) as old:
            assert not old.store.has_section
            hits = old.search(QUERY, k=4).hits
            assert [(h.chunk.page, h.chunk.text) for h in hits] == before
            assert {h.chunk.section for h in hits} == {""}
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with Library.open(tmp_path / "lib", embedder, create=False) as later:  # migrated next time
        assert later.store.has_section


def test_library_details_name_the_embedder_and_the_korean_tokenizer(tmp_path: Path) -> None:
    from rag_desktop.config import DEFAULT_EMBEDDING_MODEL
    from rag_desktop.library.results import library_details

    with Library.open(tmp_path / "lib") as lib:
        text = library_details(lib.manifest)
    assert DEFAULT_EMBEDDING_MODEL in text and "Kiwi" in text and "800 characters" in text
