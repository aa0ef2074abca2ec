"""Bad input through the real `rag-desktop` CLI and the library API (issue #6, part 1).

Each rejected input gives exit code 2 and one line that names the file and says what to do;
the library and its other documents stay byte-for-byte untouched. Inputs a reader can recover
(a broken xref, an owner-password-only PDF, a self-drawing form) are ingested correctly.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from rag_desktop.library.documents import DocumentError
from rag_desktop.library.library import Library
from tests import badinput as bad

SOAK = bool(os.environ.get("RAG_DESKTOP_SOAK"))
HANG_GUARD_S = 300  # a hang guard only; no test asserts on elapsed time
# pyproject's 600 s per-test timeout guards `make test`; the soak forms get 3 hours.
pytestmark = pytest.mark.timeout(10800 if SOAK else 600)

# file name -> (generator, words the one-line message must contain)
REJECTED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "truncated.pdf": (bad.truncated_pdf, "damaged or unreadable PDF"),
    "random-bytes.pdf": (bad.random_bytes_pdf, "not a PDF"),
    "random-after-header.pdf": (bad.random_with_header_pdf, "damaged or unreadable PDF"),
    "encrypted-user-password.pdf": (bad.encrypted_user_pdf, "encrypted with a password"),
    "scanned.pdf": (bad.scanned_pdf, "no text layer"),
    "zero-byte.pdf": (bad.zero_byte_pdf, "empty file"),
    "notes-renamed.pdf": (bad.text_renamed_pdf, "not a PDF"),
    "bomb.pdf": (bad.bomb_pdf, "no page's text can be extracted"),
    "nested.pdf": (bad.nested_pdf, "damaged or unreadable PDF"),
    "손상된 설명서.pdf": (bad.truncated_pdf, "damaged or unreadable PDF"),
}
# Readable in spite of their oddity: they must be ingested with their text.
RECOVERED: dict[str, Callable[[Path], Path]] = {
    "encrypted-owner-password.pdf": bad.encrypted_owner_pdf,
    "broken-xref.pdf": bad.broken_xref_pdf,
    "self-drawing-form.pdf": bad.recursive_xobject_pdf,
    "믹서기 설명서.pdf": bad.korean_pdf,
}
HINTS = ("check", "convert", "remove the password", "add a PDF with text", "copy or download",
         "save the file", "choose a smaller", "download or copy")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    for name, (make, _) in REJECTED.items():
        make(folder / name)
    return folder


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bad.Guard]:
    g = bad.make_guard(tmp_path_factory.mktemp("guard"))
    yield g
    assert g.blocked() == [], "a CLI run tried to reach the network"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    """A user home whose default library holds one good document."""
    home = tmp_path_factory.mktemp("home")
    with Library.open(home / "libraries" / "default", embedder) as lib:
        lib.add_pdf(bad.good_pdf(home / "blender.pdf"))
    return home


def _library_state(home: Path, embedder) -> tuple[dict[str, str], list, list]:  # type: ignore[no-untyped-def]
    """Every file's sha256, the documents, and a search's (file, page, text) ranking."""
    lib_dir = home / "libraries" / "default"
    with Library.open(lib_dir, embedder) as lib:
        hits = [(h.chunk.file, h.chunk.page, h.chunk.text)
                for h in lib.search("how long to press pulse for ice", k=2).hits]
        docs = lib.documents()
    # Hashed after the search: its first run saves the BM25 postings (a cache of the chunks).
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(lib_dir.iterdir()) if p.is_file()}
    return files, docs, hits


def cli(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    """`rag-desktop ARGS` in this process (the embedder's imports are already paid for)."""
    from rag_desktop.cli.main import main

    mp = pytest.MonkeyPatch()
    mp.setenv("RAG_DESKTOP_HOME", str(home))
    try:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
    finally:
        mp.undo()
    return code, out, err


def _assert_one_line_each(stderr: str, expected: dict[str, str]) -> None:
    for name, words in expected.items():
        lines = bad.error_lines(stderr, name)
        assert len(lines) == 1, f"{name}: expected one line, got {lines}\n{stderr}"
        assert words in lines[0], lines[0]
        assert any(h in lines[0].split("; ", 1)[-1] for h in HINTS), f"no advice: {lines[0]}"


def test_rejected_pdfs_exit_2_one_line_each_library_untouched(
        corpus: Path, home: Path, guard: bad.Guard, capsys: pytest.CaptureFixture[str],
        embedder) -> None:  # type: ignore[no-untyped-def]
    before = _library_state(home, embedder)
    docs_before = cli(capsys, home, "docs", "--json")
    missing = corpus / "gone.pdf"
    r = bad.run_cli(guard, home, "ingest", *sorted(map(str, corpus.iterdir())), str(missing),
                    timeout=HANG_GUARD_S)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""  # nothing was added
    _assert_one_line_each(r.stderr, {n: w for n, (_, w) in REJECTED.items()}
                          | {"gone.pdf": "file not found"})
    # The 1 GiB bomb was cut off by pypdf's limit: the whole ingest stayed far below it.
    assert guard.peak_rss_mib() < 600
    assert _library_state(home, embedder) == before
    assert cli(capsys, home, "docs", "--json") == docs_before


def test_recovered_pdfs_are_ingested_beside_a_bad_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], embedder) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    files = [make(tmp_path / name) for name, make in RECOVERED.items()]
    broken = bad.truncated_pdf(tmp_path / "cut.pdf")
    code, out, err = cli(capsys, home, "ingest", str(files[0]), str(broken), *map(str, files[1:]))
    assert code == 2, err
    _assert_one_line_each(err, {"cut.pdf": "damaged"})
    for name in RECOVERED:
        assert f"added {name}:" in out, out
    docs = json.loads(cli(capsys, home, "docs", "--json")[1])["documents"]
    assert sorted(d["name"] for d in docs) == sorted(RECOVERED)
    with Library.open(home / "libraries" / "default") as lib:  # the CLI's default embedder
        assert lib.check().ok
        top = lib.search("펄스 버튼", k=1).hits[0].chunk
        assert top.file == "믹서기 설명서.pdf" and "펄스 버튼" in top.text
        texts = {h.chunk.file: h.chunk.text for h in lib.search("pulse button ice", k=4).hits}
        assert "pulse button" in texts["broken-xref.pdf"]
        assert "pulse button" in texts["encrypted-owner-password.pdf"]


@pytest.mark.parametrize("name", [*REJECTED, "a-folder"])
def test_library_api_rejects_and_stays_unchanged(
        name: str, corpus: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    path = corpus / name if name in REJECTED else tmp_path
    with Library.open(tmp_path / "lib", embedder) as lib:
        lib.add_pdf(bad.good_pdf(tmp_path / "blender.pdf"))
        version, docs, n = lib.version, lib.documents(), lib.chunk_count()
        with pytest.raises(DocumentError) as err:
            lib.add_pdf(path)
        assert str(err.value).startswith(f"{path.name}: ")
        assert (lib.version, lib.documents(), lib.chunk_count()) == (version, docs, n)
        assert lib.check().ok


@pytest.mark.slow
def test_many_pages_ingest_in_bounded_memory(tmp_path: Path, guard: bad.Guard,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """5,000 pages, each a chunk, through a subprocess whose peak RSS is bounded, under
    `make soak`; in `make test` 1,000 pages in this process, text on every 25th page (the
    reader's full page count, 40 chunks to embed on a shared 2-core machine)."""
    home = tmp_path / "home"
    if SOAK:
        n_pages, every = 5000, 1
        pdf = bad.many_pages_pdf(tmp_path / "long-manual.pdf", n_pages, text_every=every)
        r = bad.run_cli(guard, home, "ingest", str(pdf), timeout=1800)
        code, out, err = r.returncode, r.stdout, r.stderr
        # Pages, chunks and vectors of 5,000 pages are small next to the embedder itself.
        assert guard.peak_rss_mib() < 2000
    else:
        n_pages, every = 1000, 25
        pdf = bad.many_pages_pdf(tmp_path / "long-manual.pdf", n_pages, text_every=every)
        code, out, err = cli(capsys, home, "ingest", str(pdf))
    assert code == 0, err
    n_chunks = -(-n_pages // every)
    assert f"added long-manual.pdf: {n_pages} pages, {n_chunks} chunks" in out


@pytest.fixture(scope="module")
def model_files(home: Path) -> dict[str, Path]:
    """Broken GGUFs dropped into the user's models folder, which the catalog scans."""
    from rag_desktop.config import DEFAULT_MODEL_ID
    from rag_desktop.llm.catalog import load_catalog

    models = home / "models"
    models.mkdir(exist_ok=True)
    source = load_catalog().get(DEFAULT_MODEL_ID).path
    assert source is not None
    huge = 2 * psutil.virtual_memory().total  # sparse: no disk is used
    return {"cut-model": bad.truncated_gguf(models / "cut-model.gguf", source),
            "notes-model": bad.fake_gguf(models / "notes-model.gguf"),
            "huge-model": bad.huge_gguf(models / "huge-model.gguf", huge)}


@pytest.mark.parametrize("model_id, words", [
    ("cut-model", "the file is truncated"),
    ("notes-model", "not a GGUF model file"),
])
def test_broken_models_exit_2_library_untouched(
        model_id: str, words: str, home: Path, model_files: dict[str, Path],
        capsys: pytest.CaptureFixture[str], embedder) -> None:  # type: ignore[no-untyped-def]
    before = _library_state(home, embedder)
    code, _, err = cli(capsys, home, "ask", "How long to pulse?", "--model", model_id,
                       "--no-cache")
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {model_files[model_id].name}: ")
    assert words in lines[0] and any(h in lines[0] for h in HINTS), lines[0]
    assert _library_state(home, embedder) == before


def test_model_too_big_for_memory_is_refused_before_loading(
        home: Path, model_files: dict[str, Path], guard: bad.Guard) -> None:
    r = bad.run_cli(guard, home, "ask", "How long to pulse?", "--model", "huge-model",
                    "--no-cache", timeout=HANG_GUARD_S)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: huge-model.gguf: needs about ")
    assert "GiB of memory" in lines[0] and "choose a smaller model" in lines[0]
    # Refused from the header and the estimate: nothing was mapped, so the peak RSS of every
    # guarded process (the runner child included) is far below the model's size.
    assert guard.peak_rss_mib() < 1000 < model_files["huge-model"].stat().st_size / 2**20


@pytest.mark.parametrize("make, words", [
    (bad.questions_wrong_columns, "missing column 'question', 'reference_answer'"),
    (bad.questions_bad_encoding, "not valid UTF-8"),
    (bad.questions_empty, "the file is empty"),
])
def test_bad_question_files_exit_2(make: Callable[[Path], Path], words: str, tmp_path: Path,
                                   home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = make(tmp_path / "questions.csv")
    out = tmp_path / "out"
    code, _, err = cli(capsys, home, "eval", "--questions", str(questions), "--out", str(out),
                       "--limit", "1", "--max-tokens", "4")
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: questions.csv:"), lines
    assert words in lines[0] and ("save the file" in lines[0] or "columns are" in lines[0]
                                  or "needs a header" in lines[0])
    assert not out.exists()
