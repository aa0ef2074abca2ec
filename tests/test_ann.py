"""Million-chunk libraries at small scale: the dense index's auto switch, its recall, and the
BM25 postings saved per generation (real FAISS, real SQLite, real PDFs and embedder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag_desktop.library import ann, postings
from rag_desktop.library.bm25 import BM25Leg
from rag_desktop.library.library import Library
from rag_desktop.library.textindex import tokenize

# Small enough that a library of two 12-page PDFs crosses the threshold; every list is probed.
SMALL = ann.DenseIndexSettings(threshold=20, min_lists=2, train_per_list=4)
WORDS = ["printer", "driver", "paper", "margin", "scanner", "glass", "cartridge", "firmware",
         "wireless", "button", "tray", "toner", "duplex", "colour", "resolution", "queue",
         "network", "cable", "update", "install"]


def clustered(n: int, dim: int, seed: int, centers: int = 40) -> np.ndarray:
    """A normalised gaussian mixture: points around `centers` random directions."""
    rng = np.random.default_rng(seed)
    middle = np.random.default_rng(99).standard_normal((centers, dim)).astype(np.float32)
    x = middle[rng.integers(0, centers, n)] + rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def flat_of(vectors: np.ndarray, first_id: int = 0) -> Any:
    index = ann.new_flat(vectors.shape[1])
    index.add_with_ids(vectors, np.arange(first_id, first_id + len(vectors), dtype=np.int64))
    return index


def test_auto_is_exact_up_to_the_threshold_then_ivf() -> None:
    settings = ann.DenseIndexSettings(threshold=1000)
    below = ann.fit(flat_of(clustered(900, 32, 1)), ann.AUTO, settings)
    assert ann.kind_of(below) == ann.FLAT_KIND
    above = ann.fit(flat_of(clustered(1200, 32, 1)), ann.AUTO, settings)
    assert ann.kind_of(above) == ann.IVF_KIND and above.ntotal == 1200
    assert above.nprobe == settings.nprobe(above.nlist) < above.nlist  # really approximate
    # Vectors and ids move over unchanged: read back through the IVF's hash direct map.
    assert np.allclose(above.reconstruct(7), clustered(1200, 32, 1)[7], atol=1e-6)
    assert sorted(ann.stored_ids(above).tolist()) == list(range(1200))
    # Shrinking to 700 keeps the IVF index (above half the threshold); to 400 it goes exact.
    above.remove_ids(np.arange(500, dtype=np.int64))
    assert ann.kind_of(ann.fit(above, ann.AUTO, settings)) == ann.IVF_KIND
    above.remove_ids(np.arange(500, 800, dtype=np.int64))
    back = ann.fit(above, ann.AUTO, settings)
    assert ann.kind_of(back) == ann.FLAT_KIND and sorted(ann.stored_ids(back)) == list(
        range(800, 1200))


def test_exact_forces_flat_and_ivf_needs_enough_vectors() -> None:
    settings = ann.DenseIndexSettings(threshold=100)
    ivf = ann.fit(flat_of(clustered(1200, 32, 2)), ann.IVF, settings)
    assert ann.kind_of(ivf) == ann.IVF_KIND
    assert ann.kind_of(ann.fit(ivf, ann.EXACT, settings)) == ann.FLAT_KIND
    assert ann.kind_of(ann.fit(flat_of(clustered(50, 32, 2)), ann.IVF, settings)) == ann.FLAT_KIND
    with pytest.raises(ValueError, match="unknown dense index"):
        ann.fit(ivf, "hnsw-please", settings)


def test_recall_at_20_against_exact_on_clustered_vectors() -> None:
    """The default settings (nlist, nprobe) on 6,000 clustered vectors: recall@20 >= 0.95."""
    base, queries = clustered(6000, 64, 3, centers=60), clustered(100, 64, 4, centers=60)
    exact = flat_of(base)
    ivf = ann.fit(flat_of(base), ann.IVF)
    assert ann.kind_of(ivf) == ann.IVF_KIND and ivf.nprobe < ivf.nlist
    _, truth = exact.search(queries, 20)
    _, found = ivf.search(queries, 20)
    recall = np.mean([len(set(t) & set(f)) / 20 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95
    ivf.nprobe = 1  # the check can fail: one list of ~100 misses many neighbours
    _, poor = ivf.search(queries, 20)
    assert np.mean([len(set(t) & set(f)) / 20 for t, f in zip(truth, poor, strict=True)]) < 0.9


def test_index_files_round_trip(tmp_path: Path) -> None:
    ivf = ann.fit(flat_of(clustered(1500, 32, 5)), ann.IVF)
    ann.write_index(tmp_path / "v.faiss", ivf)
    again = ann.read_index(tmp_path / "v.faiss")
    assert ann.kind_of(again) == ann.IVF_KIND and again.nprobe == ivf.nprobe
    q = clustered(5, 32, 6)
    assert np.array_equal(again.search(q, 10)[1], ivf.search(q, 10)[1])
    assert [p.name for p in tmp_path.iterdir()] == ["v.faiss"]  # no temp file left


def pages(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, 40)) + f". Section {seed}-{i}." for i in range(n)]


def test_library_switches_and_a_reopened_library_keeps_the_kind(
        tmp_path: Path, pdf_factory: Any, embedder: Any) -> None:
    lib = Library.open(tmp_path / "lib", embedder)
    lib.dense_settings = SMALL
    lib.add_pdf(pdf_factory("a.pdf", pages(1, 12)))
    assert lib.manifest.dense_kind == ann.FLAT_KIND and lib.manifest.dense_index == ann.AUTO
    lib.add_pdf(pdf_factory("b.pdf", pages(2, 12)))
    assert lib.chunk_count() > SMALL.threshold
    assert lib.manifest.dense_kind == ann.IVF_KIND
    before = lib.search("scanner glass toner", k=4)
    lib.close()
    with Library.open(tmp_path / "lib") as again:
        assert again.manifest.dense_kind == ann.IVF_KIND
        assert ann.kind_of(again.store.load_index()) == ann.IVF_KIND
        after = again.search("scanner glass toner", k=4)
        assert [h.chunk for h in after.hits] == [h.chunk for h in before.hits]
        assert again.check().ok
        again.dense_settings = SMALL
        again.remove("a.pdf")  # an IVF index removes ids too
        assert again.store.load_index().ntotal == again.chunk_count() and again.check().ok
        again.set_dense_index(ann.EXACT)
        again.add_pdf(pdf_factory("c.pdf", pages(3, 12)))
    with Library.open(tmp_path / "lib") as exact:
        assert exact.manifest.dense_index == ann.EXACT
        assert ann.kind_of(exact.store.load_index()) == ann.FLAT_KIND
        assert exact.chunk_count() > SMALL.threshold


# ----- BM25 postings -------------------------------------------------------------------------
def zipf_texts(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(300)]
    ranks = np.minimum(rng.zipf(1.3, size=(n, 30)), 300) - 1
    return [" ".join(vocab[r] for r in row[: rng.integers(1, 30)]) for row in ranks]


QUERIES = ["w0 w5", "w17", "w1 w2 w3 w250", "w299 w42 w42", "nothing here"]


def top_k(leg: BM25Leg, query: str, k: int = 20) -> list[int]:
    leg.k = k
    return leg.top_ids(query)


def test_saved_postings_rank_exactly_as_a_fresh_build(tmp_path: Path) -> None:
    texts = zipf_texts(2000, 1) + [""]  # an empty chunk counts as one token, as in rank_bm25
    ids = list(range(5, 5 + len(texts)))
    fresh = BM25Leg.from_texts(ids, texts)
    postings.save(tmp_path / "p.npz", fresh.postings, "key")
    assert postings.load(tmp_path / "p.npz", "other key") is None
    loaded = BM25Leg(postings.load(tmp_path / "p.npz", "key"))  # type: ignore[arg-type]
    reference = fresh.bm25  # rank_bm25's BM25Okapi over the same chunks
    for query in QUERIES:
        assert top_k(loaded, query) == top_k(fresh, query)
        assert np.array_equal(loaded.scores(query), fresh.scores(query))
        expected = reference.get_scores(tokenize(query))
        assert np.allclose(fresh.scores(query), expected)
        order = [i for i in np.argsort(-expected, kind="stable") if expected[i] != 0][:20]
        assert top_k(fresh, query) == [ids[i] for i in order]


def test_merged_postings_equal_a_fresh_build() -> None:
    texts = zipf_texts(900, 2)
    old = postings.build(range(600), texts[:600], tokenize)
    keep = np.ones(600, dtype=bool)
    keep[100:250] = False  # a removed document
    added = postings.build(range(600, 900), texts[600:], tokenize)
    merged = postings.merge(old, keep, added)
    ids = [i for i in range(900) if not 100 <= i < 250]
    fresh = postings.build(ids, [texts[i] for i in ids], tokenize)
    assert merged.vocab == fresh.vocab and merged.stems == fresh.stems
    for name in ("ptr", "rows", "tf", "doc_len", "chunk_ids"):
        assert np.array_equal(getattr(merged, name), getattr(fresh, name)), name
    for query in QUERIES:
        assert top_k(BM25Leg(merged), query) == top_k(BM25Leg(fresh), query)


def search_all(lib: Library) -> list[list[Any]]:
    return [[(h.chunk.text, h.bm25) for h in lib.search(q, k=6).hits]
            for q in ("printer driver", "toner tray Section", "install update network")]


def test_a_library_saves_postings_and_updates_them_by_generation(
        tmp_path: Path, pdf_factory: Any, embedder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lib"
    with Library.open(path, embedder) as lib:
        lib.add_pdf(pdf_factory("a.pdf", pages(1, 8)))
        lib.add_pdf(pdf_factory("b.pdf", pages(2, 8)))
        first = search_all(lib)
        assert [p.name for p in path.glob("postings-*.npz")] == [
            postings.file_name(lib.store.generation)]
    built: list[int] = []
    real_build = postings.build

    def counting_build(ids: Any, texts: Any, *args: Any, **kwargs: Any) -> Any:
        texts = list(texts)
        built.append(len(texts))
        return real_build(ids, texts, *args, **kwargs)

    monkeypatch.setattr(postings, "build", counting_build)
    with Library.open(path, embedder) as lib:
        assert search_all(lib) == first and built == []  # read from the file: nothing tokenized
        lib.remove("b.pdf")  # frees the highest chunk ids, which the next add reuses
        lib.add_pdf(pdf_factory("c.pdf", pages(3, 8)))
        incremental = search_all(lib)
        assert built == [lib.get_document("c.pdf").chunks]  # only c.pdf's chunks: tokenized
    for file in path.glob("postings-*.npz"):
        file.unlink()
    with Library.open(path, embedder) as lib:
        assert search_all(lib) == incremental and built[-1] == lib.chunk_count()


def test_the_cli_switches_the_dense_index_without_re_embedding(
        tmp_path: Path, pdf_factory: Any, embedder: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    from rag_desktop.cli.main import main

    with Library.open(tmp_path / "lib", embedder) as lib:
        lib.add_pdf(pdf_factory("a.pdf", pages(1, 3)))
        vectors = lib.store.load_index().ntotal
    assert main(["reindex", "--library", str(tmp_path / "lib"), "--dense-index", "exact"]) == 0
    assert "dense index exact (flat now)" in capsys.readouterr().out
    with Library.open(tmp_path / "lib") as again:
        assert again.manifest.dense_index == ann.EXACT
        assert again.store.load_index().ntotal == vectors  # the same vectors, not re-embedded
