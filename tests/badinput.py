"""The bad-input corpus (issue #6), generated on demand, and the guarded CLI runner.

Broken PDFs, GGUFs and question files are written into a tmp folder, so tests/data/bad/ holds
no binaries. `run_cli` (tests/guard.py, re-exported here) runs `rag-desktop` as a user would,
in a subprocess whose every socket is guarded (only loopback and AF_UNIX) and that reports its
peak RSS.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.guard import (  # noqa: F401  (re-exported: the tests use bad.run_cli etc.)
    REPO,
    SITECUSTOMIZE,
    Guard,
    error_lines,
    make_guard,
    run_cli,
)
from tests.pdfs import make_encrypted_pdf, make_image_only_pdf, make_pdf, nanum_font

GOOD_TEXT = ["Blender manual. Press the pulse button for three seconds to crush ice.",
             "Cleaning. Rinse the jar with warm water after every use."]


def good_pdf(path: Path) -> Path:
    """A valid two-page PDF with known text."""
    return make_pdf(path, GOOD_TEXT)


def truncated_pdf(path: Path) -> Path:
    """A PDF cut inside its first page's content stream: no xref, no trailer, no text."""
    data = make_pdf(path.with_suffix(".full.pdf"), GOOD_TEXT).read_bytes()
    path.with_suffix(".full.pdf").unlink()
    cut = data.index(b"stream") + 10  # a few bytes into the first (compressed) stream
    path.write_bytes(data[:cut])
    return path


def random_bytes_pdf(path: Path, seed: int = 6) -> Path:
    """64 KiB of random bytes named .pdf."""
    import random

    path.write_bytes(random.Random(seed).randbytes(64 * 1024))
    return path


def random_with_header_pdf(path: Path, seed: int = 7) -> Path:
    """A %PDF header followed by random bytes: passes the header check, fails the parser."""
    import random

    path.write_bytes(b"%PDF-1.7\n" + random.Random(seed).randbytes(64 * 1024))
    return path


def encrypted_user_pdf(path: Path) -> Path:
    """Encrypted with a user password: cannot be opened without it."""
    return make_encrypted_pdf(path, GOOD_TEXT, user_password="secret")


def encrypted_owner_pdf(path: Path) -> Path:
    """Owner password only (copy/print restrictions): opens with the empty user password."""
    return make_encrypted_pdf(path, GOOD_TEXT, user_password="")


def scanned_pdf(path: Path) -> Path:
    """Pictures only, no text layer."""
    return make_image_only_pdf(path, n_pages=2)


def zero_byte_pdf(path: Path) -> Path:
    """An empty file."""
    path.write_bytes(b"")
    return path


def broken_xref_pdf(path: Path) -> Path:
    """A valid PDF whose xref offsets all point at the wrong place (and startxref too)."""
    data = make_pdf(path, GOOD_TEXT).read_bytes()
    data = re.sub(rb"\d{10} 00000 n", b"0000000001 00000 n", data)
    data = re.sub(rb"startxref\s+\d+", b"startxref\n999999", data)
    path.write_bytes(data)
    return path


def text_renamed_pdf(path: Path) -> Path:
    """A plain text file with a .pdf name."""
    path.write_text("These are my notes about the blender.\nNot a PDF at all.\n", encoding="utf-8")
    return path


def _raw_pdf(path: Path, objects: list[bytes]) -> Path:
    """Write objects 1..n as a PDF with a correct xref; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _flate_bomb(prefix: bytes, inflated_mib: int) -> bytes:
    """A zlib stream of `prefix` then `inflated_mib` MiB of spaces, built in milliseconds.

    After a full flush deflate forgets its history, so the compressed form of each further
    MiB is the same ~1 KiB of bytes: repeat them, then end with an empty final block and the
    Adler-32 of everything.
    """
    z = zlib.compressobj(9)
    block = b" " * 2**20
    first = z.compress(prefix) + z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    adler = zlib.adler32(prefix)
    for _ in range(inflated_mib):
        adler = zlib.adler32(block, adler)
    return first + again * (inflated_mib - 1) + b"\x03\x00" + struct.pack(">I", adler)


def bomb_pdf(path: Path, inflated_mib: int = 1024) -> Path:
    """A decompression bomb: one page whose ~1 MiB Flate content stream inflates to 1 GiB."""
    packed = _flate_bomb(b"BT /F1 12 Tf 72 720 Td (bomb) Tj ET\n", inflated_mib)
    return _raw_pdf(path, [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(packed, b"/Filter /FlateDecode "),
        _FONT,
    ])


def nested_pdf(path: Path, depth: int = 100_000) -> Path:
    """A page dictionary holding an array nested 100,000 deep."""
    nest = b"[" * depth + b"]" * depth
    return _raw_pdf(path, [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Junk "
        + nest + b" /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(b"BT /F1 12 Tf 72 720 Td (deep) Tj ET"),
        _FONT,
    ])


def recursive_xobject_pdf(path: Path) -> Path:
    """A form XObject that draws itself: endless recursion for a naive text extractor."""
    return _raw_pdf(path, [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /XObject << /X1 5 0 R >> /Font << /F1 6 0 R >> >> >>",
        _stream(b"/X1 Do"),
        _stream(b"BT /F1 12 Tf 72 720 Td (loop) Tj ET /X1 Do",
                b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] "
                b"/Resources << /XObject << /X1 5 0 R >> /Font << /F1 6 0 R >> >> "),
        _FONT,
    ])


def many_pages_pdf(path: Path, n_pages: int, text_every: int = 1) -> Path:
    """n_pages pages sharing two tiny content streams, written in well under a second.

    Every `text_every`-th page (the first included) carries one line of text, so yields one
    chunk; the others are blank. text_every=1 gives a chunk per page: the full cost of a long
    manual for the reader, the chunker, the embedder and the index.
    """
    kids = b" ".join(b"%d 0 R" % (6 + i) for i in range(n_pages))
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>")
    pages = [page % (3 if i % text_every == 0 else 4) for i in range(n_pages)]
    return _raw_pdf(path, [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n_pages,
        _stream(b"BT /F1 12 Tf 72 720 Td (Maintenance log entry: check the filter.) Tj ET"),
        _stream(b"% blank page"),
        _FONT,
        *pages,
    ])


def korean_pdf(path: Path) -> Path:
    """A valid PDF with Hangul text (use a Hangul file name for the path)."""
    return make_pdf(path, ["믹서기 설명서. 얼음을 갈 때는 펄스 버튼을 3초 동안 누르세요."],
                    font=nanum_font())


# ----- models -------------------------------------------------------------------------------
def truncated_gguf(path: Path, source: Path, keep_bytes: int = 20 * 2**20) -> Path:
    """The first 20 MiB of a real GGUF: a complete header whose tensor data ends early."""
    with source.open("rb") as f:
        path.write_bytes(f.read(keep_bytes))
    return path


def fake_gguf(path: Path) -> Path:
    """A text file named .gguf."""
    path.write_text("not a model, just text\n", encoding="utf-8")
    return path


def huge_gguf(path: Path, size_bytes: int) -> Path:
    """A well-formed GGUF header for a llama model whose (sparse) file is `size_bytes` long.

    The header is real and the tensor table fits the file, so only the memory estimate
    (file size + KV cache) can refuse it; the sparse tail costs no disk.
    """
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_name("Huge test model")
    writer.add_block_count(80)
    writer.add_context_length(4096)
    writer.add_embedding_length(8192)
    writer.add_head_count(64)
    writer.add_head_count_kv(8)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.truncate(path, size_bytes)
    return path


# ----- question files ---------------------------------------------------------------------------
def questions_wrong_columns(path: Path) -> Path:
    """A CSV whose header lacks reference_answer."""
    path.write_text("id,query,answer\n1,How long to pulse?,3 seconds\n", encoding="utf-8")
    return path


def questions_bad_encoding(path: Path) -> Path:
    """A CSV saved as Latin-1/CP949 bytes rather than UTF-8."""
    text = "id,question,reference_answer\n1,Qu'est-ce qu'un mixeur à glaçons ?,Un appareil\n"
    path.write_bytes(text.encode("latin-1"))
    return path


def questions_empty(path: Path) -> Path:
    """A zero-byte CSV."""
    path.write_bytes(b"")
    return path


Generator = Callable[[Path], Path]
