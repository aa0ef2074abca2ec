"""The model registry: catalog entries, packaged files, GGUFs found on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag_desktop import config
from rag_desktop.fsutil import file_sha256
from rag_desktop.llm.catalog import (
    ModelUnavailableError,
    UnknownModelError,
    ensure_file,
    load_catalog,
    with_metadata,
)


def test_catalog_lists_the_four_named_models() -> None:
    ids = load_catalog(model_dirs=[]).ids()
    assert ids[:4] == ["smollm2-135m-instruct-q4_1", "gemma3-270m-q4_k_m",
                       "tinyllama-1.1b-chat-q5_k_m", "mistral-7b-instruct-v0.2-q2_k"]


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(UnknownModelError) as err:
        load_catalog().get("gpt-5")
    assert "unknown model 'gpt-5'" in str(err.value)
    assert "smollm2-135m-instruct-q4_1" in str(err.value)


def test_packaged_default_is_present_and_matches_its_checksum() -> None:
    entry = load_catalog().get(config.DEFAULT_MODEL_ID)
    assert entry.present and entry.path is not None
    assert file_sha256(entry.path) == entry.sha256
    meta = with_metadata(entry)
    assert (meta.quant, meta.context_length, meta.architecture) == ("Q4_1", 8192, "llama")


def test_gemma_is_assembled_from_its_chunk_packages() -> None:
    entry = load_catalog().get("gemma3-270m-q4_k_m")
    assert entry.present
    path = ensure_file(entry)  # RAG_DESKTOP_HOME is a tmp dir: assembled fresh here
    assert path.is_file() and path.parent == config.user_models_dir()
    assert file_sha256(path) == entry.sha256
    assert with_metadata(entry).quant == "Q4_K_M"


def test_missing_download_says_how_to_get_it() -> None:
    entry = load_catalog().get("tinyllama-1.1b-chat-q5_k_m")
    assert not entry.present
    with pytest.raises(ModelUnavailableError, match="models pull tinyllama-1.1b-chat-q5_k_m"):
        ensure_file(entry)


def test_user_ggufs_are_discovered_with_their_metadata(tmp_path: Path) -> None:
    src = load_catalog().get(config.DEFAULT_MODEL_ID).path
    assert src is not None
    folder = config.user_models_dir()
    folder.mkdir(parents=True)
    shutil.copy(src, folder / "My-Model.Q4_1.gguf")
    (folder / "broken.gguf").write_bytes(b"not a model")
    cat = load_catalog()
    mine = cat.get("my-model.q4_1")
    assert mine.present and mine.quant == "Q4_1" and mine.context_length == 8192
    assert mine.family == "zephyr"  # llama architecture without a family name: Zephyr template
    broken = cat.get("broken")
    assert broken.quant == "unknown" and broken.size_bytes == len(b"not a model")


def test_catalog_file_drops_into_repo_models_dir_entry() -> None:
    # A catalog model whose file is in the user's folder is found there (no download).
    entry = load_catalog().get("mistral-7b-instruct-v0.2-q2_k")
    folder = config.user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / entry.file).write_bytes(b"GGUF")
    again = load_catalog().get("mistral-7b-instruct-v0.2-q2_k")
    assert again.present and again.path == folder / entry.file
