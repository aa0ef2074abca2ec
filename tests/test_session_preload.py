"""Session.preload_model: the model loads in the background while the library opens.

The GUI's engine and the CLI's open_session start the load before opening the library; the
later load_model of the same model waits for it instead of loading again. Real runner, real
GGUF: every LLM.load call is counted with the thread that made it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from rag_desktop.config import DEFAULT_MODEL_ID, GenerationSettings
from rag_desktop.llm.catalog import ModelUnavailableError, UnknownModelError
from rag_desktop.session import Session

SECOND_MODEL_ID = "gemma3-270m-q4_k_m"
MISSING_MODEL_ID = "mistral-7b-instruct-v0.2-q2_k"  # in the catalog, never on this machine
SETTINGS = GenerationSettings(max_tokens=6, n_ctx_cap=1024)


@pytest.fixture
def session() -> Iterator[tuple[Session, list[tuple[str, str]]]]:
    """A fresh session whose LLM.load calls are recorded as (thread name, model id)."""
    s = Session.create(use_cache=False)
    loads: list[tuple[str, str]] = []
    real_load = s.llm.load

    def counted(entry: Any, settings: GenerationSettings) -> Any:
        loads.append((threading.current_thread().name, entry.id))
        return real_load(entry, settings)

    s.llm.load = counted  # type: ignore[method-assign]
    yield s, loads
    s.close()


def test_load_model_waits_for_the_preload_of_the_same_model(
        session: tuple[Session, list[tuple[str, str]]]) -> None:
    s, loads = session
    s.preload_model(DEFAULT_MODEL_ID, SETTINGS)
    info = s.load_model(DEFAULT_MODEL_ID, SETTINGS)
    assert info.id == DEFAULT_MODEL_ID and s.llm.info == info
    assert loads == [("model-load_0", DEFAULT_MODEL_ID)]  # loaded once, in the background
    assert s.llm.alive


def test_another_model_or_setting_is_loaded_after_the_preload(
        session: tuple[Session, list[tuple[str, str]]]) -> None:
    s, loads = session
    s.preload_model(DEFAULT_MODEL_ID, SETTINGS)
    info = s.load_model(SECOND_MODEL_ID, SETTINGS)
    assert info.id == SECOND_MODEL_ID and s.llm.info == info
    assert [model for _, model in loads] == [DEFAULT_MODEL_ID, SECOND_MODEL_ID]
    assert loads[1][0] == threading.current_thread().name
    s.preload_model(SECOND_MODEL_ID, SETTINGS)
    other_settings = GenerationSettings(max_tokens=6, n_ctx_cap=512)
    assert s.load_model(SECOND_MODEL_ID, other_settings).n_ctx == 512  # new settings: reloaded
    assert len(loads) == 4


def test_a_failed_preload_is_the_error_of_its_load(
        session: tuple[Session, list[tuple[str, str]]]) -> None:
    s, loads = session
    with pytest.raises(UnknownModelError):
        s.preload_model("no-such-model")
    assert loads == []  # nothing started
    s.preload_model(MISSING_MODEL_ID, SETTINGS)
    with pytest.raises(ModelUnavailableError):
        s.load_model(MISSING_MODEL_ID, SETTINGS)
    assert s.load_model(DEFAULT_MODEL_ID, SETTINGS).id == DEFAULT_MODEL_ID


def test_pipeline_and_close_wait_for_the_preload(
        session: tuple[Session, list[tuple[str, str]]], dev_library: Any) -> None:
    s, loads = session
    s.library = dev_library
    s.preload_model(DEFAULT_MODEL_ID, SETTINGS)
    pipe = s.pipeline()  # a question must not race the load in the runner
    assert s.llm.info is not None and s.llm.info.id == DEFAULT_MODEL_ID
    assert pipe.llm is s.llm
    s.library = None  # the dev library belongs to the test session
    s.preload_model(SECOND_MODEL_ID, SETTINGS)
    s.close()
    assert not s.llm.alive and s.llm.info is None
    assert [model for _, model in loads] == [DEFAULT_MODEL_ID, SECOND_MODEL_ID]
