"""The NumPy query encoder against sentence-transformers, on the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag_desktop.library.embeddings import SentenceTransformerEmbedder, model_folder
from rag_desktop.library.query_encoder import BertQueryEncoder

TEXTS = [
    "How do I install lilypond-book?",
    "설치 방법을 한국어로 설명해 주세요.",
    "x",
    "What is the default paper size for PDF output? " * 40,  # past the 256-token limit
]


def test_vectors_match_sentence_transformers() -> None:
    from sentence_transformers import SentenceTransformer

    folder = model_folder("all-MiniLM-L6-v2")
    encoder = BertQueryEncoder.load(folder)
    assert encoder is not None
    ours = np.stack([encoder.encode(t) for t in TEXTS])
    ref = SentenceTransformer(str(folder), device="cpu").encode(TEXTS, normalize_embeddings=True)
    assert ours.dtype == np.float32 and ours.shape == ref.shape == (4, 384)
    assert np.abs(ours - ref).max() < 1e-5
    # Different texts stay apart: the check above is not passed by a constant vector.
    assert float(ours[0] @ ours[1]) < 0.9


def test_the_embedder_answers_queries_without_loading_torch_weights() -> None:
    emb = SentenceTransformerEmbedder()
    vector = emb.embed_query(TEXTS[0])
    assert not emb.loaded and vector.shape == (384,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_other_poolings_are_left_to_sentence_transformers(tmp_path: Path) -> None:
    folder = tmp_path / "cls-model"
    shutil.copytree(model_folder("all-MiniLM-L6-v2"), folder)
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))
    assert BertQueryEncoder.load(folder) is None
    emb = SentenceTransformerEmbedder(str(folder))
    assert emb.query_encoder() is None
    emb.embed_query("hello")
    assert emb.loaded  # went through sentence-transformers


@pytest.mark.parametrize("missing", ["model.safetensors", "tokenizer.json"])
def test_a_folder_without_its_files_is_not_supported(tmp_path: Path, missing: str) -> None:
    folder = tmp_path / "m"
    shutil.copytree(model_folder("all-MiniLM-L6-v2"), folder)
    (folder / missing).unlink()
    assert BertQueryEncoder.load(folder) is None
