"""No unpickling, ever (issue #6, part 3): no pickle on disk, no unpickling call in the package.

LangChain's FAISS.load_local unpickles its docstore, so a shared library folder could run code.
Ours is SQLite + a FAISS index + JSON; these tests keep it that way.
"""

from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from rag_desktop.library.library import Library
from tests import badinput as bad

PACKAGE = Path(__file__).resolve().parents[1] / "rag_desktop"
# The benchmarks too: a baseline that unpickled its own files would still break the rule.
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# Calls that unpickle (or load a format built on pickle), and the flag that allows it.
UNPICKLING = re.compile(
    r"\b(c?pickle|dill|cloudpickle|joblib|shelve|marshal)\s*\.\s*loads?\b"
    r"|\bimport\s+(c?pickle|dill|cloudpickle|shelve)\b|\bfrom\s+(c?pickle|dill|shelve)\s+import"
    r"|\btorch\s*\.\s*load\b|allow_dangerous_deserialization|allow_pickle\s*=\s*True"
    r"|\bload_local\s*\(|\bpd\s*\.\s*read_pickle\b"
)


def is_pickle(data: bytes) -> bool:
    """Protocol 2+ (b'\\x80' + version), or a torch/joblib zip that holds a .pkl member."""
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return True
    # protocol 0/1: opcodes, then STOP
    return data[:1] in (b"(", b"]", b"}") and data.rstrip().endswith(b".")


def _zip_has_pickle(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n.endswith((".pkl", ".pickle")) for n in z.namelist())


def _sqlite_blobs(path: Path) -> list[bytes]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        blobs = []
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                blobs.extend(c if isinstance(c, bytes) else str(c).encode() for c in row)
        return blobs
    finally:
        conn.close()


def test_the_detector_knows_a_pickle(tmp_path: Path) -> None:
    import pickle

    assert all(is_pickle(pickle.dumps({"a": [1, 2]}, protocol=p)) for p in (2, 3, 4, 5))
    assert is_pickle(pickle.dumps([1], protocol=0))
    assert not is_pickle(b"SQLite format 3\x00") and not is_pickle(b'{"a": 1}\n')
    assert UNPICKLING.search("docs = pickle.load(f)") and UNPICKLING.search("torch.load(p)")
    assert UNPICKLING.search("FAISS.load_local(d, e, allow_dangerous_deserialization=True)")
    assert not UNPICKLING.search("faiss.deserialize_index(buf)")


def test_no_file_in_a_library_is_a_pickle(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir, embedder) as lib:
        lib.add_pdf(bad.good_pdf(tmp_path / "blender.pdf"))
        lib.add_pdf(bad.korean_pdf(tmp_path / "믹서기.pdf"))
        lib.remove("blender.pdf")  # a second generation of the vector file
        assert lib.check().ok
    files = [p for p in lib_dir.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".json", ".sqlite", ".faiss"}
    for path in files:
        data = path.read_bytes()
        assert not is_pickle(data) and not _zip_has_pickle(path), path
        if data.startswith(b"SQLite format 3"):
            blobs = _sqlite_blobs(path)
            assert blobs and not any(is_pickle(b) for b in blobs), path


@pytest.mark.parametrize("path", sorted([*PACKAGE.rglob("*.py"), *BENCHMARKS.rglob("*.py")]),
                         ids=lambda p: p.name)
def test_the_package_never_unpickles(path: Path) -> None:
    hits = [f"{path.name}:{n}: {line.strip()}"
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if UNPICKLING.search(line.split("#", 1)[0])]
    assert hits == []
