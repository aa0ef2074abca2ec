"""The benchmark tools: arch-exact GGUF writer, machine description and the raw llama benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import llama_cpp  # before numpy, as in the benchmarks
import pytest

from benchmarks import make_arch_gguf, raw_llama
from benchmarks.gpu.tables import markdown_row
from benchmarks.machine import describe_machine, markdown_line


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The miniature llama-arch model, written once for the module."""
    return make_arch_gguf.make_tiny(tmp_path_factory.mktemp("arch"), n_layer=2, n_embd=64)


def test_tiny_model_loads_with_requested_hyperparameters(tiny_gguf: Path) -> None:
    llm = llama_cpp.Llama(str(tiny_gguf), n_ctx=128, verbose=False)
    meta = llm.metadata
    assert meta["general.architecture"] == "llama"
    assert meta["llama.block_count"] == "2"
    assert meta["llama.embedding_length"] == "64"
    assert meta["llama.attention.head_count"] == "4"
    assert meta["llama.attention.head_count_kv"] == "2"
    assert meta["llama.feed_forward_length"] == "128"
    assert meta["tokenizer.ggml.model"] == "llama"
    assert "<|assistant|>" in meta["tokenizer.chat_template"]
    spec = make_arch_gguf.ARCHS["tiny"]
    assert llm._model.n_params() == make_arch_gguf.n_params(spec)
    assert llm.n_vocab() == spec.n_vocab
    llm.close()


def test_tiny_model_tokenizes_and_generates(tiny_gguf: Path) -> None:
    llm = llama_cpp.Llama(str(tiny_gguf), n_ctx=128, verbose=False, seed=0)
    tokens = llm.tokenize(b"Hello world, this is a test")
    assert tokens[0] == 1  # BOS is added
    assert llm.detokenize(tokens[1:]).strip() == b"Hello world, this is a test"
    out = llm.create_completion("Hello", max_tokens=4, temperature=0.0)
    assert out["usage"]["completion_tokens"] >= 1
    llm.close()


def test_full_size_specs_match_the_published_models() -> None:
    tiny = make_arch_gguf.ARCHS["tinyllama"]
    mistral = make_arch_gguf.ARCHS["mistral"]
    assert round(make_arch_gguf.n_params(tiny) / 1e9, 2) == 1.10
    assert round(make_arch_gguf.n_params(mistral) / 1e9, 2) == 7.24
    assert (tiny.head_dim, mistral.head_dim) == (64, 128)
    shapes = dict(make_arch_gguf.tensor_shapes(mistral))
    assert shapes["blk.31.attn_k.weight"] == (1024, 4096)
    assert shapes["blk.0.ffn_down.weight"] == (4096, 14336)
    assert len(shapes) == 2 + 32 * 9 + 1


def test_synthetic_vocab_is_llama_style() -> None:
    tokens, scores, types = make_arch_gguf.synthetic_vocab(32000)
    assert len(tokens) == len(set(tokens)) == len(scores) == len(types) == 32000
    assert tokens[:3] == ["<unk>", "<s>", "</s>"]
    assert tokens[3] == "<0x00>" and tokens[258] == "<0xFF>"
    assert types[3:259] == [make_arch_gguf.TT_BYTE] * 256


def test_raw_llama_runs_on_tiny_model(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    argv = [str(tiny_gguf), "--n-threads", "1", "--n-ctx", "128", "--repeats", "1",
            "--prompt-tokens", "16", "--stream-prompt-tokens", "8", "--gen-tokens", "4",
            "--json", str(out)]
    assert raw_llama.main(argv) == 0
    result = json.loads(out.read_text())
    assert set(result["summary"]) == set(raw_llama.METRICS)
    assert result["rounds"][0]["stream_tokens"] >= 1
    assert markdown_row(result).count("|") == 13


def test_machine_description_has_the_table_fields() -> None:
    d = describe_machine()
    assert d["logical_cores"] >= 1
    assert d["llama_cpp_python"]
    line = markdown_line(d)
    assert line.startswith("**Machine**") and d["cpu"] in line


def test_profile_stream_runs_on_tiny_model(tiny_gguf: Path, tmp_path: Path) -> None:
    from benchmarks.gpu import profile_stream, tables

    prof = tmp_path / "p.json"
    argv = [str(tiny_gguf), "--n-threads", "1", "--repeats", "1", "--gen-tokens", "4",
            "--json", str(prof)]
    assert profile_stream.main(argv) == 0
    result = json.loads(prof.read_text())
    for name in profile_stream.VARIANTS:
        assert result[name]["total"] > 0
        assert "decode" in result[name]
    table = tables.profile_table(result).splitlines()
    assert table[2].startswith("| raw eval loop |") and len(table) == 2 + 1 + len(
        profile_stream.VARIANTS)


def test_decode_breakdown_runs_on_tiny_model(tiny_gguf: Path, tmp_path: Path) -> None:
    from benchmarks.gpu import decode_breakdown, tables

    out = tmp_path / "b.json"
    assert decode_breakdown.main([str(tiny_gguf), "--n-gpu-layers", "0", "--rounds", "1",
                                  "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["medians"]) == {"raw", "argmax+decode", "chain+decode", "generate"}
    assert tables.breakdown_row(result).startswith(f"| {tiny_gguf.name} |")
