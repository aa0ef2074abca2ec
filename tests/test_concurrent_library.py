"""Many readers, one writer (issue 15, part 5): real processes on one library folder.

A writer process adds (and removes) small PDFs one at a time while two reader processes search
in a loop; every hit a reader gets must be a chunk of the generation it searched, as the writer
recorded it right after that commit. A second writer, in-process and through the CLI, gets
LibraryBusyError naming the holder; stale locks are taken over or reported. Two in-process tests
force the races that real processes only hit now and then: a vector file deleted between a
reader's pin and its read, and chunk ids reused between a search and its chunk fetch.

Every process embeds with a model2vec folder made from MiniLM's own word-piece table: a real
embedder that a child loads in milliseconds, without torch.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag_desktop.library.documents import DocumentError
from rag_desktop.library.embeddings import get_embedder
from rag_desktop.library.library import Library, LibraryBusyError
from rag_desktop.library.retrieval import SearchState
from rag_desktop.library.writelock import LOCK_FILE, STALE_AFTER_S
from tests.pdfs import make_pdf

REPO = Path(__file__).resolve().parents[1]
WORDS = ["kettle", "toaster", "blender", "grinder", "steamer", "juicer", "waffle"]
WAIT_S = 120  # a hang guard, never a timing assertion


def _pdf(folder: Path, word: str) -> Path:
    return make_pdf(folder / f"{word}.pdf",
                    [f"The {word} manual. Descale the {word} monthly. " * 12,
                     f"Cleaning the {word}: unplug the {word} first. " * 12])


def _wait_for(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def static_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model2vec folder: MiniLM's word-piece table (first 64 columns) and tokenizer."""
    from safetensors.numpy import load_file, save_file

    from rag_desktop.library.embed_registry import MINILM_ID, model_folder

    src = model_folder(MINILM_ID)
    weights = load_file(str(src / "model.safetensors"))
    key = next(k for k in weights if k.endswith("word_embeddings.weight"))
    folder = tmp_path_factory.mktemp("static") / "model"
    folder.mkdir()
    table = np.ascontiguousarray(weights[key][:, :64].astype(np.float32))
    save_file({"embeddings": table}, str(folder / "model.safetensors"))
    (folder / "tokenizer.json").write_bytes((src / "tokenizer.json").read_bytes())
    (folder / "config.json").write_text(json.dumps({"model_type": "model2vec"}))
    return folder


@pytest.fixture()
def lib_dir(tmp_path: Path, static_model: Path) -> Path:
    """A library with one manual in it, built with the static model."""
    path = tmp_path / "lib"
    with Library.open(path, get_embedder(str(static_model))) as lib:
        lib.add_pdf(_pdf(tmp_path, WORDS[0]))
    return path


def _child(function: str, *args: str) -> subprocess.Popen[str]:
    """Run `function(*args)` of this module in a new Python process."""
    code = (f"import sys; from tests.test_concurrent_library import {function}; "
            f"{function}(*sys.argv[1:])")
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    return out


# ----- the child processes ---------------------------------------------------------------------
def _committed(lib: Library) -> dict[str, Any]:
    """The writer's record of the generation it just committed: every chunk's text."""
    rows = lib.store.conn.execute("SELECT sha256, ordinal, text FROM chunks")
    return {"generation": lib.store.generation,
            "chunks": {f"{sha}/{ordinal}": text for sha, ordinal, text in rows}}


def _all_seen(gate_dir: Path, generation: int) -> bool:
    return all(int(p.read_text() or -1) >= generation for p in gate_dir.glob("*.seen"))


def writer_main(lib_dir: str, plan: str, log: str, gate: str) -> None:
    """Apply the plan (["add", pdf] / ["remove", name]) one change at a time, recording each
    generation; after each commit, wait until both readers have searched it."""
    gate_dir = Path(gate)
    _wait_for(lambda: len(list(gate_dir.glob("*.seen"))) == 2, "the readers to start")
    with Library.open(Path(lib_dir), create=False) as lib, open(log, "w") as out:
        out.write(json.dumps(_committed(lib)) + "\n")
        for op, arg in json.loads(plan):
            if op == "add":
                assert lib.add_pdf(Path(arg)).status == "added"
            else:
                lib.remove(arg)
            out.write(json.dumps(_committed(lib)) + "\n")
            out.flush()
            _wait_for(functools.partial(_all_seen, gate_dir, lib.store.generation),
                      "the readers to see the commit")
    (gate_dir / "done").write_text("")


def reader_main(lib_dir: str, name: str, gate: str) -> None:
    """Search every word in a loop until the writer is done; one JSON line a search in
    `gate`/`name`.jsonl."""
    gate_dir = Path(gate)
    with Library.open(Path(lib_dir), create=False) as lib, \
            open(gate_dir / f"{name}.jsonl", "w") as out:
        while True:
            done = (gate_dir / "done").exists()
            for word in WORDS:
                result = lib.search(f"how to descale the {word}", k=4)
                assert lib._state is not None  # the state this search ran on
                generation = lib._state.generation
                hits = [[h.chunk.sha256, h.chunk.ordinal, h.chunk.text, h.chunk.file]
                        for h in result.hits]
                out.write(json.dumps({"generation": generation, "word": word,
                                      "hits": hits}) + "\n")
            seen = gate_dir / f"{name}.seen.tmp"
            seen.write_text(str(generation))
            os.replace(seen, gate_dir / f"{name}.seen")
            if done:
                return


def holder_main(lib_dir: str, pdf: str, gate: str) -> None:
    """Ingest `pdf`, pausing at its first progress event until `gate`/release exists."""
    gate_dir = Path(gate)

    def pause(event: object) -> None:
        if not (gate_dir / "holding").exists():
            (gate_dir / "holding").write_text("")
            _wait_for(lambda: (gate_dir / "release").exists(), "the release")

    with Library.open(Path(lib_dir), create=False) as lib:
        outcomes = lib.add_pdfs([Path(pdf)], pause)
    assert [o.status for o in outcomes] == ["added"], outcomes


# ----- one writer, two readers ------------------------------------------------------------------
def test_readers_see_whole_generations_while_a_writer_ingests(lib_dir: Path,
                                                             tmp_path: Path) -> None:
    pdfs = {w: _pdf(tmp_path, w) for w in WORDS[1:]}
    # Removing the newest document, then adding one, reuses its chunk ids for other text.
    plan = [["add", str(pdfs["toaster"])], ["add", str(pdfs["blender"])],
            ["add", str(pdfs["grinder"])], ["remove", "grinder.pdf"],
            ["add", str(pdfs["steamer"])], ["remove", "toaster.pdf"],
            ["add", str(pdfs["juicer"])], ["add", str(pdfs["waffle"])]]
    gate, log = tmp_path / "gate", tmp_path / "writer.jsonl"
    gate.mkdir()
    readers = [_child("reader_main", str(lib_dir), name, str(gate)) for name in ("r1", "r2")]
    writer = _child("writer_main", str(lib_dir), json.dumps(plan), str(log), str(gate))
    try:  # the first process to fail fails the test with its traceback
        _wait_for(lambda: all(proc.poll() is not None for proc in [writer, *readers])
                  or any(proc.poll() for proc in [writer, *readers]), "the processes")
        for proc in [writer, *readers]:
            _finish(proc)
    finally:
        for proc in [writer, *readers]:
            proc.kill()  # after a failure: no process is left searching
    outputs = [(gate / f"{name}.jsonl").read_text() for name in ("r1", "r2")]
    committed = {c["generation"]: c["chunks"]
                 for c in map(json.loads, log.read_text().splitlines())}
    final = max(committed)
    assert len(committed) == len(plan) + 1
    for output in outputs:
        records = [json.loads(line) for line in output.splitlines()]
        for r in records:
            chunks = committed[r["generation"]]  # a committed generation, never a half one
            for sha, ordinal, text, _ in r["hits"]:
                assert chunks[f"{sha}/{ordinal}"] == text, (r["generation"], r["word"])
        # Every generation was searched, and the last searches saw the final library.
        assert {r["generation"] for r in records} == set(committed)
        last = {r["word"]: r for r in records[-len(WORDS):]}
        assert {r["generation"] for r in last.values()} == {final}
        assert last["waffle"]["hits"][0][3] == "waffle.pdf"
        assert all(h[3] not in ("toaster.pdf", "grinder.pdf") for r in last.values()
                   for h in r["hits"])
    assert not (lib_dir / LOCK_FILE).exists()


# ----- a second writer -------------------------------------------------------------------------
def test_a_second_writer_is_told_who_holds_the_library(lib_dir: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    holder = _child("holder_main", str(lib_dir), str(_pdf(tmp_path, "toaster")), str(gate))
    try:
        _wait_for(lambda: (gate / "holding").exists() or holder.poll() is not None, "the lock")
        assert holder.poll() is None, holder.communicate()
        host = socket.gethostname()
        with Library.open(lib_dir, create=False) as lib:  # reading a busy library is fine
            assert lib.search("descale the kettle").hits
            with pytest.raises(LibraryBusyError) as info:
                lib.add_pdf(_pdf(tmp_path, "blender"))
            assert info.value.holder is not None and info.value.holder.pid == holder.pid
            assert (f"is being updated by another process (pid {holder.pid} on host {host} "
                    "since ") in str(info.value)
            assert "try again when it finishes" in str(info.value)
            with pytest.raises(LibraryBusyError):
                lib.remove("kettle.pdf")
        cli = subprocess.run(
            [sys.executable, "-m", "rag_desktop", "ingest", "--library", str(lib_dir),
             str(tmp_path / "blender.pdf")], cwd=REPO, capture_output=True, text=True,
            timeout=WAIT_S)
        assert cli.returncode == 75, cli.stderr
        assert f"pid {holder.pid} on host {host}" in cli.stderr
        assert "Traceback" not in cli.stderr and cli.stdout == ""
    finally:
        (gate / "release").write_text("")
        _finish(holder)
    assert not (lib_dir / LOCK_FILE).exists()
    with Library.open(lib_dir, create=False) as lib:
        assert lib.add_pdf(tmp_path / "blender.pdf").status == "added"
        assert sorted(d.name for d in lib.documents()) == ["blender.pdf", "kettle.pdf",
                                                           "toaster.pdf"]


def _write_lock(lib_dir: Path, **fields: Any) -> bytes:
    holder = {"pid": 1, "host": socket.gethostname(), "app_version": "0.1.0", "token": "t",
              "started_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
              "process_started": None} | fields
    data = json.dumps(holder).encode()
    (lib_dir / LOCK_FILE).write_bytes(data)
    return data


def test_a_lock_whose_process_died_is_taken_over(lib_dir: Path, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    _write_lock(lib_dir, pid=int(dead.stdout))
    with caplog.at_level(logging.WARNING), Library.open(lib_dir, create=False) as lib:
        assert lib.add_pdf(_pdf(tmp_path, "toaster")).status == "added"
        # A live pid of another process (this one, by start time) is a reused pid: stale too.
        _write_lock(lib_dir, pid=os.getpid(), process_started=1.0)
        lib.remove("toaster.pdf")
    assert f"taking over the write lock of pid {dead.stdout.strip()}" in caplog.text
    assert f"pid {os.getpid()}" in caplog.text
    assert not (lib_dir / LOCK_FILE).exists()


def test_another_hosts_lock_is_never_broken(lib_dir: Path, tmp_path: Path) -> None:
    pdf = _pdf(tmp_path, "toaster")
    with Library.open(lib_dir, create=False) as lib:
        _write_lock(lib_dir, host="other-host", pid=4242)
        with pytest.raises(LibraryBusyError) as fresh:
            lib.add_pdf(pdf)
        assert "pid 4242 on host other-host" in str(fresh.value)
        assert "stale" not in str(fresh.value)
        old = time.gmtime(time.time() - STALE_AFTER_S - 3600)
        data = _write_lock(lib_dir, host="other-host", pid=4242,
                           started_at=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", old))
        with pytest.raises(LibraryBusyError) as stale:
            lib.add_pdf(pdf)
        assert "probably stale" in str(stale.value)
        assert f"delete {lib_dir / LOCK_FILE}" in str(stale.value)
        assert (lib_dir / LOCK_FILE).read_bytes() == data
        assert [d.name for d in lib.documents()] == ["kettle.pdf"]


def test_an_empty_lock_is_busy_until_it_is_old(lib_dir: Path, tmp_path: Path) -> None:
    (lib_dir / LOCK_FILE).write_bytes(b"")
    with Library.open(lib_dir, create=False) as lib:
        with pytest.raises(LibraryBusyError, match="its lock file is being written"):
            lib.remove("kettle.pdf")
        two_minutes_ago = time.time() - 120
        os.utime(lib_dir / LOCK_FILE, (two_minutes_ago, two_minutes_ago))
        lib.remove("kettle.pdf")
        assert lib.documents() == []
        with pytest.raises(DocumentError):  # a failed change still releases the lock
            lib.add_pdf(tmp_path / "missing.pdf")
    assert not (lib_dir / LOCK_FILE).exists()


# ----- the races, forced -----------------------------------------------------------------------
def test_a_vector_file_deleted_under_a_reader_is_read_again(
        lib_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Library.open(lib_dir, create=False) as reader, \
            Library.open(lib_dir, create=False) as writer:
        assert reader.search("descale the kettle").hits
        writer.add_pdf(_pdf(tmp_path, "toaster"))
        original, calls = reader.store.load_index, list[str | None]()

        def two_commits_first(file_name: str | None = None) -> Any:
            if not calls:  # the writer commits twice between the pin and the read
                writer.add_pdf(_pdf(tmp_path, "blender"))
                writer.add_pdf(_pdf(tmp_path, "grinder"))
            calls.append(file_name)
            return original(file_name)

        monkeypatch.setattr(reader.store, "load_index", two_commits_first)
        result = reader.search("descale the grinder", k=2)
        assert len(calls) == 2 and calls[0] != calls[1]  # the first file was gone
        assert reader._state is not None
        assert reader._state.generation == writer.store.generation
        assert result.hits[0].chunk.file == "grinder.pdf"


def test_chunk_ids_reused_between_search_and_fetch_never_mix(
        lib_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Library.open(lib_dir, create=False) as reader, \
            Library.open(lib_dir, create=False) as writer:
        writer.add_pdf(_pdf(tmp_path, "toaster"))
        toaster_ids = [r[0] for r in writer.store.conn.execute(
            "SELECT id FROM chunks WHERE text LIKE '%toaster%'")]
        original, runs = SearchState.search, list[int]()

        def commit_during_first_search(state: SearchState, *args: Any) -> Any:
            scored = original(state, *args)
            if not runs:  # toaster's chunk ids now name the waffle manual's chunks
                writer.remove("toaster.pdf")
                writer.add_pdf(_pdf(tmp_path, "waffle"))
            runs.append(state.generation)
            return scored

        monkeypatch.setattr(SearchState, "search", commit_during_first_search)
        result = reader.search("descale the toaster", k=4)
        monkeypatch.undo()
        waffle_ids = [r[0] for r in writer.store.conn.execute(
            "SELECT id FROM chunks WHERE text LIKE '%waffle%'")]
        assert set(waffle_ids) & set(toaster_ids)  # the race this test is about
        assert runs == [runs[0], runs[0] + 2]  # searched again on the new generation
    with Library.open(lib_dir, create=False) as fresh:
        expected = fresh.search("descale the toaster", k=4)
    assert [(h.chunk, h.fused) for h in result.hits] == [(h.chunk, h.fused)
                                                          for h in expected.hits]
