"""Random-weight GGUFs with the exact architecture of TinyLlama-1.1B and Mistral-7B, for benchmarks.

The weights are noise, but every hyperparameter, tensor name, shape and type matches the real
models, so llama.cpp does the same work per token. The vocabulary is a synthetic 32,000-piece
SentencePiece-style ("llama") one with the real special ids (<unk> 0, <s> 1, </s> 2) and
byte pieces.

    python -m benchmarks.make_arch_gguf --arch tinyllama --quant Q5_K_M --out build/arch/
    python -m benchmarks.make_arch_gguf --arch mistral --quant Q2_K --out build/arch/
    python -m benchmarks.make_arch_gguf --tiny --out /tmp/arch/

Tensors are generated and written one at a time, so a 7B F16 file (~14.5 GB) needs ~1 GB of RAM.
numpy and gguf are imported inside functions: a CUDA build of llama.cpp crashed when numpy was
imported before llama_cpp, and the CLI imports llama_cpp first when it will quantize.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ZEPHYR_TEMPLATE = (
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n"
    "{{ '<|user|>\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'system' %}\n"
    "{{ '<|system|>\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'assistant' %}\n"
    "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
)
MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}"
    "{% endfor %}"
)


@dataclass(frozen=True)
class ArchSpec:
    """Hyperparameters of a llama-architecture model (the GGUF `llama.*` keys)."""

    name: str
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_vocab: int
    n_ctx: int
    rope_theta: float
    rms_eps: float
    chat_template: str

    @property
    def head_dim(self) -> int:
        """Size of one attention head (also the RoPE dimension count)."""
        return self.n_embd // self.n_head


ARCHS: dict[str, ArchSpec] = {
    "tinyllama": ArchSpec(
        "TinyLlama-1.1B-Chat-v1.0 (arch, random weights)",
        2048, 22, 32, 4, 5632, 32000, 2048, 10000.0, 1e-5, ZEPHYR_TEMPLATE,
    ),
    "mistral": ArchSpec(
        "Mistral-7B-Instruct-v0.2 (arch, random weights)",
        4096, 32, 32, 8, 14336, 32000, 32768, 1_000_000.0, 1e-5, MISTRAL_TEMPLATE,
    ),
    "tiny": ArchSpec(
        "tiny llama (test model, random weights)", 64, 2, 4, 2, 128, 512, 256, 10000.0, 1e-5,
        ZEPHYR_TEMPLATE,
    ),
}

# llama_ftype values from llama.h; the names are what llama-quantize accepts.
QUANT_FTYPES = {
    "F16": 1, "Q8_0": 7, "Q2_K": 10, "Q3_K_M": 12, "Q4_K_M": 15, "Q5_K_M": 17, "Q6_K": 18,
}

# SentencePiece token types as llama.cpp reads them.
TT_NORMAL, TT_UNKNOWN, TT_CONTROL, TT_BYTE = 1, 2, 3, 6


def synthetic_vocab(n_vocab: int) -> tuple[list[str], list[float], list[int]]:
    """A Llama-style SentencePiece vocabulary: <unk>, <s>, </s>, 256 byte pieces, then pieces.

    The pieces are printable characters, then lowercase n-grams with and without the word-start
    marker U+2581, so ordinary English text tokenizes into multi-character pieces.
    """
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [TT_UNKNOWN, TT_CONTROL, TT_CONTROL] + [TT_BYTE] * 256
    if n_vocab < len(tokens):
        raise ValueError(f"n_vocab must be at least {len(tokens)}")
    seen = set(tokens)
    for piece in _pieces():
        if len(tokens) >= n_vocab:
            break
        if piece not in seen:
            seen.add(piece)
            tokens.append(piece)
            types.append(TT_NORMAL)
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i) for i in range(len(tokens) - 259)]
    return tokens, scores, types


def _pieces() -> Any:
    """Candidate pieces, most useful first (short ones first so merges can reach long ones)."""
    import itertools
    import string

    marker = "\u2581"
    yield marker
    for ch in string.ascii_letters + string.digits + string.punctuation:
        yield ch
        yield marker + ch
    letters = string.ascii_lowercase
    for n in (2, 3, 4):
        for combo in itertools.product(letters, repeat=n):
            word = "".join(combo)
            yield marker + word
            yield word


def tensor_shapes(spec: ArchSpec) -> list[tuple[str, tuple[int, ...]]]:
    """Tensor names and numpy shapes (rows, cols) in the order llama.cpp's converter writes them."""
    e, kv = spec.n_embd, spec.n_head_kv * spec.head_dim
    shapes: list[tuple[str, tuple[int, ...]]] = [("token_embd.weight", (spec.n_vocab, e))]
    for i in range(spec.n_layer):
        p = f"blk.{i}."
        shapes += [
            (p + "attn_norm.weight", (e,)),
            (p + "attn_q.weight", (e, e)),
            (p + "attn_k.weight", (kv, e)),
            (p + "attn_v.weight", (kv, e)),
            (p + "attn_output.weight", (e, e)),
            (p + "ffn_norm.weight", (e,)),
            (p + "ffn_gate.weight", (spec.n_ff, e)),
            (p + "ffn_up.weight", (spec.n_ff, e)),
            (p + "ffn_down.weight", (e, spec.n_ff)),
        ]
    shapes += [("output_norm.weight", (e,)), ("output.weight", (spec.n_vocab, e))]
    return shapes


def n_params(spec: ArchSpec) -> int:
    """Number of weights in the model."""
    total = 0
    for _, shape in tensor_shapes(spec):
        count = 1
        for dim in shape:
            count *= dim
        total += count
    return total


def _add_metadata(writer: Any, spec: ArchSpec, file_type: int) -> None:
    """The GGUF key/values of a llama-architecture chat model."""
    writer.add_name(spec.name)
    writer.add_context_length(spec.n_ctx)
    writer.add_embedding_length(spec.n_embd)
    writer.add_block_count(spec.n_layer)
    writer.add_feed_forward_length(spec.n_ff)
    writer.add_rope_dimension_count(spec.head_dim)
    writer.add_head_count(spec.n_head)
    writer.add_head_count_kv(spec.n_head_kv)
    writer.add_layer_norm_rms_eps(spec.rms_eps)
    writer.add_rope_freq_base(spec.rope_theta)
    writer.add_vocab_size(spec.n_vocab)
    writer.add_file_type(file_type)
    tokens, scores, types = synthetic_vocab(spec.n_vocab)
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(spec.chat_template)


def _random_matrix(shape: tuple[int, ...], seed: int, dtype: Any, std: float = 0.02) -> Any:
    """N(0, std) values of `shape`, generated in parallel chunks with independent generators."""
    import numpy as np

    size = 1
    for dim in shape:
        size *= dim
    buf = np.empty(size, dtype=np.float32)
    n_chunks = max(1, min(os.cpu_count() or 1, size // (1 << 20)))
    bounds = [size * k // n_chunks for k in range(n_chunks + 1)]
    seeds = np.random.SeedSequence(seed).spawn(n_chunks)

    def fill(k: int) -> None:
        part = buf[bounds[k] : bounds[k + 1]]
        np.random.default_rng(seeds[k]).standard_normal(out=part, dtype=np.float32)
        np.multiply(part, std, out=part)

    with ThreadPoolExecutor(max_workers=n_chunks) as pool:
        list(pool.map(fill, range(n_chunks)))
    return buf.astype(dtype, copy=False).reshape(shape)


def write_f16_gguf(spec: ArchSpec, path: Path, *, dtype: str = "f16", seed: int = 0) -> Path:
    """Write `spec` as a GGUF with random weights; 2-D tensors in `dtype` (f16/f32), norms in F32.

    Tensors are generated and written one at a time (header first), so peak RAM is one tensor.
    """
    import gguf
    import numpy as np

    np_dtype = np.float16 if dtype == "f16" else np.float32
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "llama")
    _add_metadata(writer, spec, 1 if dtype == "f16" else 0)
    shapes = tensor_shapes(spec)
    for name, shape in shapes:
        t = np_dtype if len(shape) == 2 else np.float32
        nbytes = int(np.prod(shape)) * np.dtype(t).itemsize
        writer.add_tensor_info(name, shape, np.dtype(t), nbytes)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for i, (_, shape) in enumerate(shapes):
        if len(shape) == 1:
            writer.write_tensor_data(np.ones(shape, dtype=np.float32))
        else:
            writer.write_tensor_data(_random_matrix(shape, seed * 100_003 + i, np_dtype))
    writer.close()
    return path


def quantize(src: Path, dst: Path, quant: str, n_threads: int = 0) -> Path:
    """Quantize a GGUF with llama.cpp's own `llama_model_quantize` (as llama-quantize does)."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_FTYPES[quant]
    params.nthread = n_threads
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize({src} -> {quant}) returned {rc}")
    return dst


def make(arch: str, quant: str, out_dir: Path, *, keep_f16: bool = False, seed: int = 0) -> Path:
    """Write the `arch` model and quantize it to `quant`; returns the final GGUF's path."""
    spec = ARCHS[arch]
    base = out_dir / f"{arch}-arch-f16.gguf"
    if quant == "F32":
        return write_f16_gguf(spec, out_dir / f"{arch}-arch-f32.gguf", dtype="f32", seed=seed)
    if not base.exists():
        t0 = time.perf_counter()
        write_f16_gguf(spec, base.with_suffix(".part"), seed=seed)
        base.with_suffix(".part").rename(base)
        print(f"wrote {base} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if quant == "F16":
        return base
    dst = out_dir / f"{arch}-arch-{quant}.gguf"
    t0 = time.perf_counter()
    quantize(base, dst, quant)
    print(f"quantized {dst} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if not keep_f16:
        base.unlink()
    return dst


def make_tiny(out_dir: Path, *, n_layer: int = 2, n_embd: int = 64, seed: int = 0) -> Path:
    """A miniature llama-arch model (F32, vocab 512) that is written in well under a second."""
    spec = replace(ARCHS["tiny"], n_layer=n_layer, n_embd=n_embd)
    return write_f16_gguf(spec, out_dir / f"tiny-llama-{n_layer}x{n_embd}.gguf", dtype="f32",
                          seed=seed)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", choices=["tinyllama", "mistral"], action="append")
    ap.add_argument("--quant", action="append", choices=[*QUANT_FTYPES, "F32"])
    ap.add_argument("--out", type=Path, default=Path("build/arch"))
    ap.add_argument("--tiny", action="store_true", help="write the miniature test model only")
    ap.add_argument("--keep-f16", action="store_true", help="keep the F16 intermediate file")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.tiny:
        print(make_tiny(args.out))
        return 0
    defaults = {"tinyllama": "Q5_K_M", "mistral": "Q2_K"}
    if any(q not in ("F16", "F32") for q in args.quant or ["Q"]):
        import llama_cpp  # noqa: F401  (before numpy: see the module docstring)

    for arch in args.arch or ["tinyllama"]:
        quants = args.quant or [defaults[arch]]
        for k, quant in enumerate(quants):
            keep = args.keep_f16 or k < len(quants) - 1
            print(make(arch, quant, args.out, keep_f16=keep, seed=args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
