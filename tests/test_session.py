"""The one composition root: a session owns one runner, and an evaluation reuses it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from rag_desktop.config import DEFAULT_MODEL_ID, GenerationSettings
from rag_desktop.evaluation.questions import load_questions
from rag_desktop.evaluation.results import EvalConfig, EvalRow
from rag_desktop.evaluation.run import run_evaluation
from rag_desktop.library import library as library_module
from rag_desktop.session import NoLibraryError, Session, open_session
from tests.conftest import dev_questions

SECOND_MODEL_ID = "gemma3-270m-q4_k_m"
RUNNER = "rag_desktop.llm.runner"


def runner_processes() -> list[psutil.Process]:
    """This process's model-runner children (the client starts them with -m)."""
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if RUNNER in " ".join(child.cmdline()):
                out.append(child)
        except psutil.Error:  # exited while we looked
            continue
    return out


@pytest.fixture(scope="module")
def session(dev_library) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """A session over the shared dev library, with the packaged model loaded."""
    s = Session.create(use_cache=False)
    s.library = dev_library
    s.generation = GenerationSettings(max_tokens=6, n_ctx_cap=2048)
    s.load_model(DEFAULT_MODEL_ID)
    yield s
    s.library = None  # the dev library is the test session's; it stays open
    s.close()


def test_an_evaluation_reuses_the_sessions_runner_and_restores_its_model(
        session: Session, dev_library, tmp_path: Path,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    pid = session.llm.runner_pid
    # Runners that other tests' fixtures still hold are not this session's concern.
    others = {p.pid for p in runner_processes()} - {pid}
    assert pid is not None and pid in {p.pid for p in runner_processes()}
    opened: list[Path] = []
    real_open = library_module.Library.open.__func__  # type: ignore[attr-defined]

    def counting_open(cls, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(path)
        return real_open(cls, path, *args, **kwargs)

    monkeypatch.setattr(library_module.Library, "open", classmethod(counting_open))
    seen: list[list[int]] = []

    def on_row(row: EvalRow) -> None:
        assert not row.error, row.error
        seen.append(sorted({p.pid for p in runner_processes()} - others))

    cfg = EvalConfig(library=dev_library.path, questions=load_questions(dev_questions()),
                     models=[SECOND_MODEL_ID, DEFAULT_MODEL_ID], out_dir=tmp_path / "out",
                     k=1, limit=1, max_tokens=4)
    rows = run_evaluation(cfg, on_row=on_row, session=session)

    assert [r.model_id for r in rows] == [SECOND_MODEL_ID, DEFAULT_MODEL_ID]
    assert seen == [[pid], [pid]]  # one runner, the session's, for both models
    assert opened == []  # the session's library was used, not a second copy
    assert session.llm.runner_pid == pid
    assert session.llm.info is not None and session.llm.info.id == DEFAULT_MODEL_ID
    # the model the session had before the evaluation is loaded again after it
    rows = run_evaluation(replace(cfg, models=[SECOND_MODEL_ID], out_dir=tmp_path / "out2"),
                          session=session)
    assert rows[0].model_id == SECOND_MODEL_ID
    assert session.llm.info is not None and session.llm.info.id == DEFAULT_MODEL_ID


def test_a_session_pipeline_borrows_its_parts(session: Session) -> None:
    pipe = session.pipeline()
    assert pipe.library is session.library and pipe.llm is session.llm
    answer = pipe.ask("How do I make LilyPond write PNG images?", use_cache=False)
    assert answer.model.id == DEFAULT_MODEL_ID and answer.sources


def test_without_a_library_the_session_says_what_to_do() -> None:
    with Session.create(use_cache=False) as s, pytest.raises(NoLibraryError, match="open"):
        s.pipeline()


def test_open_session_loads_the_model_and_close_stops_the_runner(
        dev_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = {p.pid for p in runner_processes()}
    s = open_session(dev_library.path, DEFAULT_MODEL_ID, GenerationSettings(max_tokens=4))
    try:
        assert s.llm.info is not None and s.llm.info.id == DEFAULT_MODEL_ID
        assert s.library is not None and s.library.documents()
        started = {p.pid for p in runner_processes()} - before
        assert started == {s.llm.runner_pid}
    finally:
        s.close()
    assert s.llm.runner_pid is None
    assert {p.pid for p in runner_processes()} - before == set()
