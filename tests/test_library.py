"""The library on real parts: exact hybrid ranks, persistence, atomic commits, check, reindex."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag_desktop.library.documents import DocumentError
from rag_desktop.library.embeddings import SentenceTransformerEmbedder
from rag_desktop.library.library import CheckReport, EmbeddingMismatchError, Library, LibraryError
from rag_desktop.library.store import LibraryStore
from rag_desktop.library.textindex import tokenize
from rag_desktop.progress import Cancelled, CancelToken, ProgressEvent
from tests.pdfs import make_pdf, nanum_font

# Four short, distinct pages: one chunk each, so a page number names a chunk.
CORPUS = [
    "The metronome mark sets the tempo of a piece in beats per minute.",
    "Lyrics are attached to notes and split into syllables with hyphens.",
    "A MIDI file lets the music play back on a software synthesizer.",
    "Page breaks and paper margins decide how the printed sheet looks.",
]
# BM25 likes page 4 ("how"); MiniLM knows that speed is tempo (page 1).
QUERY = "how fast should the song be played"


def build(root: Path, embedder: SentenceTransformerEmbedder, pages: list[str] = CORPUS,
          name: str = "four.pdf") -> Library:
    """A new library at root/lib holding one PDF of `pages`."""
    lib = Library.open(root / "lib", embedder)
    lib.add_pdf(make_pdf(root / name, pages))
    return lib


def pages_of(lib: Library, query: str, **kwargs: float) -> list[int]:
    return [hit.chunk.page for hit in lib.search(query, **kwargs).hits]  # type: ignore[arg-type]


@pytest.fixture
def four(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Library:
    lib = build(tmp_path, embedder)
    yield lib  # type: ignore[misc]
    lib.close()


@pytest.mark.parametrize(
    ("weight", "expected"),
    [(1.0, [4, 1, 3, 2]), (0.0, [1, 2, 3, 4]), (0.3, [1, 3, 4, 2])],
)
def test_exact_ranks_for_each_weight(four: Library, weight: float, expected: list[int]) -> None:
    assert pages_of(four, QUERY, k=4, bm25_weight=weight, fusion="rrf") == expected


def test_hit_scores_are_the_raw_leg_scores_and_the_rrf_sum(
    four: Library, embedder: SentenceTransformerEmbedder
) -> None:
    from rank_bm25 import BM25Okapi

    result = four.search(QUERY, k=4, bm25_weight=0.3, k_per_leg=4, fusion="rrf")
    assert [h.rank for h in result.hits] == [1, 2, 3, 4] and result.retrieval_s > 0
    bm25 = BM25Okapi([tokenize(text) for text in CORPUS]).get_scores(tokenize(QUERY))
    query = embedder.embed_query(QUERY)
    dense = embedder.embed_documents(CORPUS) @ query
    bm25_rank = {p: r for r, p in enumerate(
        [p for p in np.argsort(-bm25, kind="stable") + 1 if bm25[p - 1] != 0], start=1)}
    dense_rank = {p: r for r, p in enumerate(np.argsort(-dense) + 1, start=1)}
    for hit in result.hits:
        page = hit.chunk.page
        assert hit.bm25 == pytest.approx(bm25[page - 1])
        assert hit.dense == pytest.approx(dense[page - 1], abs=1e-5)
        fused = 0.7 / (60 + dense_rank[page])
        if page in bm25_rank:
            fused += 0.3 / (60 + bm25_rank[page])
        assert hit.fused == pytest.approx(fused)
    assert result.hits[-1].chunk.page == 2 and result.hits[-1].bm25 == 0.0  # dense-only hit


def test_convex_fusion_mixes_min_max_normalised_leg_scores(
    four: Library, embedder: SentenceTransformerEmbedder
) -> None:
    from rank_bm25 import BM25Okapi

    bm25 = BM25Okapi([tokenize(text) for text in CORPUS]).get_scores(tokenize(QUERY))
    dense = embedder.embed_documents(CORPUS) @ embedder.embed_query(QUERY)

    def scaled(x: np.ndarray) -> np.ndarray:
        return (x - x.min()) / (x.max() - x.min())

    for w in (0.0, 0.3, 0.5, 1.0):
        expected = w * scaled(bm25) + (1 - w) * scaled(dense)
        result = four.search(QUERY, k=4, bm25_weight=w, k_per_leg=4, fusion="convex")
        fused = {h.chunk.page: h.fused for h in result.hits}
        assert fused == pytest.approx({p: float(expected[p - 1]) for p in range(1, 5)}, abs=1e-5)
        assert [h.fused for h in result.hits] == sorted(fused.values(), reverse=True)


def test_one_chunk_per_page_frees_places_for_other_pages(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    # Page 1 is long enough for several chunks that all match; page 2 matches once.
    long_page = " ".join(["The metronome mark sets the tempo in beats per minute."] * 40)
    lib = build(tmp_path, embedder, [long_page, CORPUS[0], CORPUS[2]])
    assert lib.chunk_count() > 3
    assert pages_of(lib, "metronome tempo", k=3, one_chunk_per_page=False).count(1) >= 2
    deduped = pages_of(lib, "metronome tempo", k=3, one_chunk_per_page=True)
    assert sorted(deduped) == [1, 2, 3]
    lib.close()


def test_empty_library_returns_no_hits(tmp_path: Path, embedder: SentenceTransformerEmbedder
                                       ) -> None:
    with Library.open(tmp_path / "empty", embedder) as lib:
        assert lib.search("anything").hits == []
        assert lib.documents() == [] and lib.chunk_count() == 0


def test_reopen_gives_identical_results_without_embedding_documents(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    lib = build(tmp_path, embedder)
    before = lib.search(QUERY, k=4)
    lib.close()
    embedded = embedder.documents_embedded
    with Library.open(tmp_path / "lib", embedder, create=False) as again:
        after = again.search(QUERY, k=4)
        assert embedder.documents_embedded == embedded
        assert [(h.chunk, h.bm25, h.dense, h.fused) for h in after.hits] == [
            (h.chunk, h.bm25, h.dense, h.fused) for h in before.hits
        ]
    lazy = Library.open(tmp_path / "lib")  # no embedder given: the manifest's, never loaded yet
    assert lazy.embedder.model_id == embedder.model_id and lazy.manifest.dim == 384
    assert not lazy.embedder.loaded and lazy.embedder.documents_embedded == 0  # type: ignore[attr-defined]
    lazy.close()


def test_second_add_is_a_duplicate(four: Library, tmp_path: Path) -> None:
    version, count = four.version, four.chunk_count()
    result = four.add_pdf(tmp_path / "four.pdf")
    assert result.status == "duplicate" and result.document.name == "four.pdf"
    assert (four.version, four.chunk_count(), len(four.documents())) == (version, count, 1)


def test_remove_drops_chunks_and_vectors(four: Library, tmp_path: Path) -> None:
    other = make_pdf(tmp_path / "other.pdf", ["Transposing moves every pitch by an interval."])
    four.add_pdf(other)
    assert pages_of(four, "transpose the pitch", k=1) == [1]
    removed = four.remove("four.pdf")
    assert removed.chunks == 4 and [d.name for d in four.documents()] == ["other.pdf"]
    assert four.chunk_count() == 1
    assert [h.chunk.file for h in four.search(QUERY, k=4).hits] == ["other.pdf"]
    assert four.store.load_index().ntotal == 1
    with pytest.raises(LibraryError, match="no document"):
        four.get_document("four.pdf")


def test_crash_between_vector_file_and_commit_keeps_the_old_library(
    four: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = four.search(QUERY, k=4)
    written: list[Path] = []
    original = LibraryStore.write_faiss

    def write_then_crash(self: LibraryStore, path: Path, index: object) -> None:
        original(self, path, index)
        written.append(path)
        raise OSError("power cut")

    monkeypatch.setattr(LibraryStore, "write_faiss", write_then_crash)
    with pytest.raises(OSError, match="power cut"):
        four.add_pdf(make_pdf(tmp_path / "new.pdf", ["Another page about clefs."]))
    monkeypatch.undo()
    assert written and written[0].name == "vectors-2.faiss"
    four.close()
    with Library.open(tmp_path / "lib", create=False) as again:
        assert [d.name for d in again.documents()] == ["four.pdf"]
        assert again.check().ok
        assert [h.chunk for h in again.search(QUERY, k=4).hits] == [h.chunk for h in before.hits]
    assert sorted(p.name for p in (tmp_path / "lib").glob("vectors-*")) == ["vectors-1.faiss"]


def test_stray_files_of_a_crash_are_swept_at_open(four: Library, tmp_path: Path) -> None:
    four.close()
    lib_dir = tmp_path / "lib"
    (lib_dir / "vectors-7.faiss").write_bytes(b"half written")
    (lib_dir / ".vectors-8.faiss.abc.tmp").write_bytes(b"temp")
    with Library.open(lib_dir, create=False) as again:
        assert again.check().ok
    assert sorted(p.name for p in lib_dir.iterdir()) == [
        "library.sqlite", "manifest.json", "vectors-1.faiss"
    ]


def test_cancel_mid_add_leaves_the_library_unchanged(four: Library, tmp_path: Path) -> None:
    token = CancelToken()
    stages: list[str] = []

    def cancel_while_embedding(event: ProgressEvent) -> None:
        stages.append(event.stage)
        if event.stage == "chunks":
            token.cancel()

    long_pdf = make_pdf(tmp_path / "long.pdf", [f"Page {i} about beams." for i in range(40)])
    version = four.version
    with pytest.raises(Cancelled):
        four.add_pdf(long_pdf, progress=cancel_while_embedding, cancel=token)
    assert "pages" in stages and "saving" not in stages
    assert (four.version, four.chunk_count(), len(four.documents())) == (version, 4, 1)


def test_add_pdfs_records_a_bad_file_and_goes_on(four: Library, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    make_pdf(folder / "a.pdf", ["Ties join two notes of the same pitch."])
    (folder / "b.pdf").write_text("not really a pdf")
    make_pdf(folder / "sub" / "c.PDF", ["Slurs join notes of different pitch."])
    outcomes = four.add_pdfs([folder, tmp_path / "four.pdf"])
    assert [(o.path.name, o.status) for o in outcomes] == [
        ("a.pdf", "added"), ("b.pdf", "error"), ("c.PDF", "added"), ("four.pdf", "duplicate"),
    ]
    assert outcomes[1].error is not None and outcomes[1].error.startswith("b.pdf: not a PDF")
    assert len(four.documents()) == 3


def test_add_pdfs_after_cancel_marks_the_rest_cancelled(four: Library, tmp_path: Path) -> None:
    token = CancelToken()
    files = [make_pdf(tmp_path / f"{n}.pdf", [f"Page {n} on grace notes."]) for n in "xyz"]

    def cancel_after_first(event: ProgressEvent) -> None:
        if event.stage == "saving" and event.done == 1:
            token.cancel()

    outcomes = four.add_pdfs(files, progress=cancel_after_first, cancel=token)
    assert [o.status for o in outcomes] == ["added", "cancelled", "cancelled"]


def test_bad_input_raises_document_error_and_changes_nothing(four: Library, tmp_path: Path
                                                             ) -> None:
    (tmp_path / "zero.pdf").write_bytes(b"")
    version = four.version
    with pytest.raises(DocumentError, match="zero.pdf: empty file"):
        four.add_pdf(tmp_path / "zero.pdf")
    assert four.version == version and version.startswith("1-")


def test_other_embedding_model_is_refused(four: Library, tmp_path: Path) -> None:
    four.close()
    other = HalfMiniLM(SentenceTransformerEmbedder())
    with pytest.raises(EmbeddingMismatchError) as info:
        Library.open(tmp_path / "lib", other)
    message = str(info.value)
    assert "sentence-transformers/all-MiniLM-L6-v2" in message and other.model_id in message
    assert "rag-desktop reindex --library" in message


class HalfMiniLM:
    """Another 'model' for reindex tests: MiniLM's first 192 dimensions, renormalised."""

    model_id = "test/minilm-first-192"
    dim = 192

    def __init__(self, base: SentenceTransformerEmbedder) -> None:
        self.base = base

    def embed_documents(self, texts: list[str], batch_size: int = 32, progress: object = None,
                        cancel: object = None) -> np.ndarray:
        return _half(self.base.embed_documents(texts, batch_size))

    def embed_query(self, text: str) -> np.ndarray:
        return _half(self.base.embed_query(text)[None, :])[0]


def _half(vectors: np.ndarray) -> np.ndarray:
    part = vectors[:, :192]
    return (part / np.linalg.norm(part, axis=1, keepdims=True)).astype(np.float32)


def test_reindex_switches_model_and_dim_atomically(
    four: Library, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    half = HalfMiniLM(embedder)
    four.reindex(half)  # type: ignore[arg-type]
    assert (four.manifest.embedding_model, four.manifest.dim) == (half.model_id, 192)
    assert four.store.load_index().d == 192 and four.check().ok
    assert pages_of(four, "syllables of the words under notes", k=1) == [2]
    four.close()
    on_disk = (tmp_path / "lib" / "manifest.json").read_text()
    assert half.model_id in on_disk and '"dim": 192' in on_disk
    with pytest.raises(EmbeddingMismatchError):
        Library.open(tmp_path / "lib", embedder)
    with Library.open(tmp_path / "lib", half) as again:  # type: ignore[arg-type]
        assert pages_of(again, "syllables of the words under notes", k=1) == [2]


def test_check_finds_and_repairs_an_orphan_vector(four: Library, tmp_path: Path) -> None:
    four.close()
    store = LibraryStore.connect(tmp_path / "lib")
    index = store.load_index()
    index.add_with_ids(np.ones((1, 384), dtype=np.float32) / np.sqrt(384),
                       np.asarray([999], dtype=np.int64))
    store.write_faiss(tmp_path / "lib" / store.meta("faiss_file"), index)
    store.close()
    with Library.open(tmp_path / "lib", create=False) as lib:
        assert len(lib.search(QUERY, k=10).hits) == 4  # the orphan never becomes a hit
        report = lib.check()
        assert not report.ok and report.problems == ["1 vectors have no chunk (ids [999])"]
        repaired = lib.check(repair=True)
        assert repaired.ok and repaired.repaired == report.problems
        assert lib.check() == CheckReport(ok=True, problems=[], repaired=[])
        assert lib.store.load_index().ntotal == 4


def test_check_reembeds_chunks_that_lost_their_vector(four: Library) -> None:
    index = four.store.load_index()
    index.remove_ids(np.asarray([1], dtype=np.int64))
    four.store.write_faiss(four.path / four.store.meta("faiss_file"), index)
    (four.path / "manifest.json").write_text("{ broken")
    report = four.check(repair=True)
    assert report.problems == ["manifest.json is missing, unreadable or out of date",
                               "1 chunks have no vector, or two"]
    assert four.check().ok and four.store.load_index().ntotal == 4
    assert pages_of(four, "metronome tempo", k=1) == [1]


def test_no_file_in_a_library_is_a_pickle(four: Library) -> None:
    four.search(QUERY)
    for file in four.path.iterdir():
        head = file.read_bytes()[:2]
        assert not (len(head) == 2 and head[0] == 0x80 and head[1] <= 5), file.name


def test_a_korean_query_finds_the_korean_page(tmp_path: Path,
                                              embedder: SentenceTransformerEmbedder) -> None:
    pages = ["악보를 인쇄하려면 파일 메뉴에서 인쇄를 누르세요.",
             "가사는 음표 아래에 음절 단위로 붙습니다.",
             "템포는 메트로놈 표시로 정합니다."]
    lib = Library.open(tmp_path / "lib")  # the default, multilingual embedder
    lib.add_pdf(make_pdf(tmp_path / "ko.pdf", pages, font=nanum_font()))
    assert pages_of(lib, "가사를 음절로 나누는 방법", k=1, bm25_weight=1.0) == [2]
    assert pages_of(lib, "악보 인쇄", k=1) == [1]
    assert pages_of(lib, "템포는 어떻게 정하나요?", k=1) == [3]
    lib.close()


def test_opening_what_is_not_a_library_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="no library at"):
        Library.open(tmp_path / "missing", create=False)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "library.sqlite").write_bytes(b"this is not sqlite at all" * 40)
    with pytest.raises(LibraryError, match="cannot open library"):
        Library.open(tmp_path / "junk")


def test_version_changes_on_every_commit_and_between_libraries(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    import shutil

    lib = build(tmp_path, embedder)
    added = lib.version
    lib.remove("four.pdf")
    assert lib.version != added
    lib.close()
    shutil.rmtree(tmp_path / "lib")
    again = build(tmp_path, embedder)  # same path, same generation number, another library
    assert again.version.split("-")[0] == added.split("-")[0] and again.version != added
    again.close()
