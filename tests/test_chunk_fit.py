"""No chunk of the dev manuals is silently truncated by the embedder that reads it."""

from __future__ import annotations

import pytest

from benchmarks.devsets import dev_sets
from rag_desktop.config import ChunkSettings
from rag_desktop.library.documents import chunk_pages, read_pdf
from rag_desktop.library.embeddings import MINILM_ID, get_embedder

MARGIN = 8  # library._TOKEN_MARGIN: room for a model's prefix


@pytest.mark.parametrize("devset", dev_sets(), ids=lambda s: s.name)
def test_every_chunk_fits_minilms_window(devset) -> None:  # type: ignore[no-untyped-def]
    embedder = get_embedder(MINILM_ID)
    window = embedder.max_tokens
    assert window == 256
    pages = read_pdf(devset.pdf)
    plain = chunk_pages(pages, devset.pdf.name, "x", ChunkSettings())
    fitted = chunk_pages(pages, devset.pdf.name, "x", ChunkSettings(),
                         length_function=embedder.count_tokens, max_length=window - MARGIN)
    lengths = embedder.count_tokens([c.text for c in fitted])
    assert max(lengths) <= window - MARGIN
    # The plain character chunks of every dev manual do overflow: the fit is doing work.
    assert max(embedder.count_tokens([c.text for c in plain])) > window
    for chunk in fitted:
        assert pages[chunk.page - 1].text[chunk.start:chunk.end] == chunk.text


def test_the_library_splits_chunks_to_its_embedders_window(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rag_desktop.library.library import Library

    korean = next(s for s in dev_sets() if s.name == "pmhanguljamo-kdoc")  # the shortest
    embedder = get_embedder(MINILM_ID)
    with Library.open(tmp_path / "lib", embedder) as lib:
        lib.add_pdf(korean.pdf)
        texts = [t for _, t in lib.store.chunk_texts()]
    assert max(embedder.count_tokens(texts)) <= embedder.max_tokens
