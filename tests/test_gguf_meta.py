"""GGUF header reading on the real packaged model and on broken copies of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.gguf import GGUFError, quant_name, read_gguf_info


@pytest.fixture(scope="module")
def smollm_path() -> Path:
    entry = load_catalog().get("smollm2-135m-instruct-q4_1")
    assert entry.path is not None
    return entry.path


def test_reads_packaged_smollm2_header(smollm_path: Path) -> None:
    info = read_gguf_info(smollm_path)
    assert info.architecture == "llama"
    assert info.quant == "Q4_1"
    assert info.context_length == 8192
    assert info.n_layers == 30
    assert 130_000_000 < info.n_params < 140_000_000
    assert info.chat_template and "<|im_start|>" in info.chat_template


def test_truncated_gguf_is_named_and_explained(smollm_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cut.gguf"
    bad.write_bytes(smollm_path.read_bytes()[: 5 * 2**20])
    with pytest.raises(GGUFError, match=r"cut\.gguf: the file is truncated"):
        read_gguf_info(bad)


def test_header_cut_short(smollm_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "short.gguf"
    bad.write_bytes(smollm_path.read_bytes()[:1000])
    with pytest.raises(GGUFError, match="truncated"):
        read_gguf_info(bad)


@pytest.mark.parametrize("content", [b"", b"hello, not a model\n" * 10, b"PK\x03\x04zip"])
def test_non_gguf_files(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "model.gguf"
    bad.write_bytes(content)
    with pytest.raises(GGUFError, match="not a GGUF"):
        read_gguf_info(bad)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GGUFError, match="not found"):
        read_gguf_info(tmp_path / "nope.gguf")


def test_quant_name_from_file_type_and_name() -> None:
    assert quant_name(17) == "Q5_K_M"
    assert quant_name(10) == "Q2_K"
    assert quant_name(None, "mistral-7b-instruct-v0.2.Q2_K.gguf") == "Q2_K"
