"""Each benchmark runs end to end on tiny inputs; no timing is ever asserted."""

from __future__ import annotations

import argparse
from pathlib import Path

import llama_cpp  # noqa: F401  (before numpy, as in the benchmarks)
import numpy as np
import pytest

from benchmarks import b1_cold_start, b2_ingest, b3_retrieval, b4_generation, b5_memory, common

PAGES = [
    "LilyPond writes a PDF by default. Use --png to write PNG images of each page instead.",
    "The -H option dumps a header field such as the title into a plain text file.",
    "Convert-ly updates old input files to the current syntax version.",
]


def test_stats_and_interleaving() -> None:
    order: list[str] = []
    runs = common.interleaved({"a": lambda: order.append("a") or 1.0,
                               "b": lambda: order.append("b") or 2.0}, n=2, warmup=1)
    assert order == ["a", "b"] * 3
    assert runs == {"a": [1.0, 1.0], "b": [2.0, 2.0]}
    assert common.spread([1.0, 2.0, 3.0]) == "2.00 (1.00–3.00)"
    assert common.percentile([0.0, 10.0], 50) == pytest.approx(5.0)


def test_write_section_replaces_only_its_own_section(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nhand-written analysis\n", encoding="utf-8")
    common.write_section(doc, "bx", "Bx", "| a |\n|---|\n| 1 |", "0 / 0 / 0", probe_llama=False)
    common.write_section(doc, "bx", "Bx", "| a |\n|---|\n| 2 |", "0 / 0 / 0", probe_llama=False)
    text = doc.read_text(encoding="utf-8")
    assert "hand-written analysis" in text
    assert text.count("<!-- bench:bx -->") == 1
    assert "| 2 |" in text and "| 1 |" not in text
    assert "**Machine**" in text


def test_b1_render_and_app_child(pdf_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pdf = pdf_factory("tiny.pdf", PAGES)
    library = b1_cold_start.ensure_library(tmp_path / "home", pdf)
    result = b1_cold_start.child_app(library, common.SMOLLM2_ID, "How do I get PNG?", 4)
    assert result["documents_embedded"] == 0
    assert result["phases"]["answer"] >= result["phases"]["imports"]
    seed = {"side": "seed", "phases": {"first_token": 2.0, "answer": 3.0}, "wall_s": 3.5,
            "pages": 3, "chunks": 3}
    saved = dict(seed, phases={"first_token": 1.5, "answer": 2.5}, wall_s=3.0)
    app = dict(result, wall_s=1.0)
    body, notes = b1_cold_start.render({"seed": [seed], "seed_saved": [saved], "app": [app]},
                                       pdf, "m", 4)
    header = body.splitlines()[0]
    assert "seed / app" in header and "seed saved index / app" in header
    assert "index saved and reloaded" in header and "launch → answer" in body
    assert "index saved and reloaded phases" in notes


def test_baseline_seed_answers_from_a_tiny_pdf(pdf_factory) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.baseline_seed import SeedPipeline
    from rag_desktop.llm.catalog import load_catalog

    pdf = pdf_factory("tiny.pdf", PAGES)
    seed = SeedPipeline(pdf, load_catalog().get(common.SMOLLM2_ID).path, max_tokens=2)
    seed.build()
    result = seed.ask("How do I write PNG images?")
    seed.close()
    assert seed.n_pages == 3 and result["pages"]
    assert {"imports", "embed_index", "llm_load", "answer"} <= set(seed.phases)


def test_baseline_seed_reloads_its_saved_index(pdf_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.baseline_seed import SeedPipeline
    from rag_desktop.llm.catalog import load_catalog

    pdf, gguf = pdf_factory("tiny.pdf", PAGES), load_catalog().get(common.SMOLLM2_ID).path
    first = SeedPipeline(pdf, gguf, max_tokens=1)
    first.build(tmp_path / "index")
    first_pages = first.ask("How do I write PNG images?")["pages"]
    first.close()
    assert "index_saved" in first.phases and (tmp_path / "index" / "index.faiss").is_file()
    again = SeedPipeline(pdf, gguf, max_tokens=1)
    again.build(tmp_path / "index")
    pages = again.ask("How do I write PNG images?")["pages"]
    again.close()
    assert "index_load" in again.phases and "pdf_split" not in again.phases
    assert "embed_index" not in again.phases and again.n_chunks == first.n_chunks
    assert pages == first_pages


def test_b2_measures_app_and_raw(pdf_factory) -> None:  # type: ignore[no-untyped-def]
    pdf = pdf_factory("tiny.pdf", PAGES)
    rows = b2_ingest.measure(pdf, [(8, 1)], n=1)
    assert rows[0]["pages"] == 3 and len(rows[0]["app"]) == len(rows[0]["raw"]) == 1
    assert 1.0 <= rows[0]["padding"]["app"] <= rows[0]["padding"]["raw"]
    assert "app / raw" in b2_ingest.render(rows, pdf.name)


def test_b3_synthesized_library_searches(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, embedder.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [p + f" chunk {i}" for i, p in enumerate(PAGES + PAGES[:2])]
    s_texts, s_vecs = b3_retrieval.synthesize(texts, vectors, 1200)
    assert len(s_texts) == 1200 and np.allclose(np.linalg.norm(s_vecs, axis=1), 1.0, atol=1e-5)
    lib = b3_retrieval.build_library(tmp_path / "lib", s_texts, s_vecs, embedder)
    assert lib.chunk_count() == 1200
    assert len(lib.search("PNG images", k=4).hits) == 4
    lib.close()
    legs = b3_retrieval.faiss_legs(s_vecs, s_vecs[:3], 5)
    assert len(legs["recall"]) == 3 and all(0 <= r <= 1 for r in legs["recall"])


def test_b4_app_and_direct_stream_the_same_model() -> None:
    from rag_desktop.config import GenerationSettings

    entry = b4_generation.model_entries(["smollm2"])[0]
    settings = GenerationSettings(max_tokens=4, n_batch=64, n_threads=1, n_ctx_cap=2048)
    row = b4_generation.measure_one(entry, settings, ["What does --png do?"], n=1, with_raw=True)
    app, direct = row["app"][0], row["direct"][0]
    assert app["prompt_tokens"] == direct["prompt_tokens"] > 0
    # Both sides count model tokens (at most max_tokens), not stream chunks.
    assert 0 < app["n"] <= 4 and 0 < direct["n"] <= 4 and direct["chunks"] <= direct["n"] + 1
    assert row["raw"][0]["n"] == 4
    assert "app / direct decode" in b4_generation.render_table([row])


def test_b5_ingest_child_reports_peak_rss(pdf_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pdf = pdf_factory("tiny.pdf", PAGES)
    out = b5_memory.child_ingest(pdf, tmp_path / "lib")
    assert out["pages"] == 3 and out["peak_rss_mib"] > 0


def test_common_args_default_to_quick() -> None:
    ap = argparse.ArgumentParser()
    common.add_common_args(ap)
    args = ap.parse_args([])
    assert common.repeats(args, quick=2, full=5) == 2
    assert common.repeats(ap.parse_args(["--full"]), quick=2, full=5) == 5


def test_the_seed_baselines_saved_index_round_trips_without_a_pickle(tmp_path: Path) -> None:
    from langchain_community.embeddings import FakeEmbeddings
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document

    from benchmarks.baseline_seed import _load_saved_index, _save_index

    emb = FakeEmbeddings(size=8)
    store = FAISS.from_documents([Document(page_content=f"chunk {i}", metadata={"page": i})
                                  for i in range(5)], emb)
    _save_index(store, tmp_path / "idx")
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == ["docstore.json", "index.faiss"]
    again = _load_saved_index(tmp_path / "idx", emb)
    query = emb.embed_query("chunk 2")
    assert again.index.ntotal == 5
    assert again.similarity_search_by_vector(query, k=5) == store.similarity_search_by_vector(
        query, k=5)
