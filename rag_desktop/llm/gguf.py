"""Reads a GGUF file's header (metadata and tensor table) without loading the model."""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GGUF_MAGIC = b"GGUF"
# GGUF value types (gguf spec): the struct format of each scalar type.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?",
            10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9
# Arrays longer than this (token lists, merges) are skipped, not kept: we only need their length.
_MAX_KEPT_ARRAY = 64


class GGUFError(Exception):
    """The file is not a readable GGUF; the message names the file and what is wrong."""


@dataclass(frozen=True)
class GGUFInfo:
    """What the app shows about a GGUF: read from its metadata, nothing computed by loading it."""

    path: Path
    size_bytes: int
    architecture: str
    name: str
    quant: str
    context_length: int
    n_params: int
    n_layers: int
    chat_template: str | None
    metadata: dict[str, Any] = field(repr=False, default_factory=dict)


class _Reader:
    """Walks a GGUF header in a memory map: a 49k-token vocabulary is ~100k values to step over,
    which took 0.3 s a file with one read() per value (cold start, docs/performance.md)."""

    def __init__(self, buf: Any, path: Path, pos: int = 0) -> None:
        self.buf, self.path, self.pos = buf, path, pos

    def _truncated(self) -> GGUFError:
        return GGUFError(f"{self.path.name}: the file is truncated (header ends early)")

    def read(self, fmt: str) -> Any:
        unpack = _struct(fmt)
        if self.pos + unpack.size > len(self.buf):
            raise self._truncated()
        value = unpack.unpack_from(self.buf, self.pos)[0]
        self.pos += unpack.size
        return value

    def _string_bytes(self) -> int:
        n = self.read("Q")
        if n > 1 << 26:
            raise GGUFError(f"{self.path.name}: corrupt GGUF header (string of {n} bytes)")
        if self.pos + n > len(self.buf):
            raise self._truncated()
        return int(n)

    def string(self) -> str:
        n = self._string_bytes()
        data = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return data.decode("utf-8", errors="replace")

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.read(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            itype, n = self.read("I"), self.read("Q")
            if n <= _MAX_KEPT_ARRAY:
                return [self.value(itype) for _ in range(n)]
            self._skip_array(itype, n)
            return _LongArray(n)
        raise GGUFError(f"{self.path.name}: corrupt GGUF header (value type {vtype})")

    def _skip_array(self, itype: int, n: int) -> None:
        if itype in _SCALARS:
            self.pos += _struct(_SCALARS[itype]).size * n
            if self.pos > len(self.buf):
                raise self._truncated()
        elif itype == _STRING:
            buf, pos, end, unpack = self.buf, self.pos, len(self.buf), _struct("Q").unpack_from
            for _ in range(n):  # the hot loop of a header: locals only
                if pos + 8 > end:
                    raise self._truncated()
                pos += 8 + unpack(buf, pos)[0]
            if pos > end:
                raise self._truncated()
            self.pos = pos
        else:
            for _ in range(n):
                self.value(itype)


_STRUCTS: dict[str, struct.Struct] = {}


def _struct(fmt: str) -> struct.Struct:
    found = _STRUCTS.get(fmt)
    if found is None:
        found = _STRUCTS[fmt] = struct.Struct("<" + fmt)
    return found


@dataclass(frozen=True)
class _LongArray:
    length: int


def read_gguf_info(path: Path) -> GGUFInfo:
    """Parse the header of `path`; raise GGUFError for a missing, non-GGUF or truncated file."""
    path = Path(path)
    if not path.is_file():
        raise GGUFError(f"{path}: model file not found")
    size = path.stat().st_size
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise GGUFError(f"{path.name}: not a GGUF model file (wrong magic bytes); "
                            "choose a .gguf model, or download or copy it again")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            r = _Reader(buf, path, 4)
            version = r.read("I")
            if version not in (2, 3):
                raise GGUFError(f"{path.name}: unsupported GGUF version {version}")
            n_tensors, n_kv = r.read("Q"), r.read("Q")
            meta = {r.string(): r.value(r.read("I")) for _ in range(n_kv)}
            n_params, data_end = _tensor_table(r, n_tensors)
            header_end = r.pos
    align = int(meta.get("general.alignment", 32))
    data_start = -(-header_end // align) * align
    if data_start + data_end > size:
        raise GGUFError(
            f"{path.name}: the file is truncated ({size:,} bytes, needs "
            f"{data_start + data_end:,}); download or copy it again"
        )
    return _info(path, size, meta, n_params)


def _tensor_table(r: _Reader, n_tensors: int) -> tuple[int, int]:
    """Return (parameter count, end offset of tensor data) from the tensor infos."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    n_params = data_end = 0
    for _ in range(n_tensors):
        r.string()
        dims = [r.read("Q") for _ in range(r.read("I"))]
        ttype, offset = r.read("I"), r.read("Q")
        count = 1
        for d in dims:
            count *= d
        n_params += count
        try:
            block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ttype)]
        except (ValueError, KeyError):
            continue  # an unknown newer type: skip the size check for it
        data_end = max(data_end, offset + count // block * type_size)
    return n_params, data_end


def _info(path: Path, size: int, meta: dict[str, Any], n_params: int) -> GGUFInfo:
    arch = str(meta.get("general.architecture", "unknown"))
    template = meta.get("tokenizer.chat_template")
    return GGUFInfo(
        path=path,
        size_bytes=size,
        architecture=arch,
        name=str(meta.get("general.name", path.stem)),
        quant=quant_name(meta.get("general.file_type"), path.name),
        context_length=int(meta.get(f"{arch}.context_length", 0) or 0),
        n_params=n_params,
        n_layers=int(meta.get(f"{arch}.block_count", 0) or 0),
        chat_template=template if isinstance(template, str) and template else None,
        metadata={k: v for k, v in meta.items() if not isinstance(v, _LongArray)},
    )


def quant_name(file_type: Any, filename: str = "") -> str:
    """Human quant name (Q4_K_M, Q2_K…) from general.file_type, else guessed from the file name."""
    if isinstance(file_type, int):
        from gguf import LlamaFileType

        try:
            return LlamaFileType(file_type).name.removeprefix("MOSTLY_").replace("ALL_", "")
        except ValueError:
            pass
    for token in filename.replace("-", ".").upper().split("."):
        if token.startswith(("Q", "IQ", "F16", "BF16", "F32")) and any(c.isdigit() for c in token):
            return token
    return "unknown"
