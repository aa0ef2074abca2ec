"""A restart to a usable window: nothing heavy imported, and the model loads as the library opens.

The app is started as a user starts it (`python -m rag_desktop`, offscreen) in a fresh process,
on a library built beforehand. A small driver around rag_desktop.gui.app records, without any
clock: which heavy modules are imported when the window becomes usable (StartupLog's "usable")
and when the engine begins its after-start warm-up; which threads called LLM.load; and whether
the library's document embedder was loaded. The window closes once the warm-up is done.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rag_desktop import config
from rag_desktop.gui.app import QUIT_WHEN_READY_ENV, STARTUP_LOG_ENV, open_settings
from rag_desktop.gui.worker_setup import NOT_AT_START
from rag_desktop.library.embeddings import MINILM_ID

# Imported by the after-start warm-up on purpose (worker_setup.LATER_MODULES); never before it.
INGEST_ONLY = ("pypdf", "langchain_text_splitters", "langchain_core")

DRIVER = r"""
import json, sys, threading
from PySide6.QtCore import QMetaObject, Qt
from rag_desktop.gui import app, engine
from rag_desktop.llm.client import LLM

HEAVY = tuple(sys.argv[1].split(","))
seen = {"loads": []}
windows = []


def heavy():
    return sorted(n for n in HEAVY if n in sys.modules)


load = LLM.load


def counted_load(self, entry, settings):
    seen["loads"].append([threading.current_thread().name, entry.id])
    return load(self, entry, settings)


warm = engine.warm_library


def warm_then_close(library):
    seen["at_warm_up"] = heavy()
    seen["embedder_loaded_before_warm_up"] = library.embedder.loaded
    warm(library)
    seen["embedder_loaded_after_warm_up"] = library.embedder.loaded
    seen["after_warm_up"] = heavy()
    QMetaObject.invokeMethod(windows[0], "close", Qt.ConnectionType.QueuedConnection)


mark = app.StartupLog.mark


def marked(self, event, **fields):
    if event == "usable":
        fields.update(heavy=heavy(), loads=list(seen["loads"]))
    mark(self, event, **fields)


build = app.build_window


def kept_window(settings):
    windows.append(build(settings))
    return windows[0]


LLM.load = counted_load
engine.warm_library = warm_then_close
app.StartupLog.mark = marked
app.build_window = kept_window
code = app.main([])
print(json.dumps(seen), flush=True)
sys.exit(code)
"""


def _library(home: Path, pdf: Path, embedder: Any | None) -> Path:
    """A library of `pdf` under `home`, remembered as the last one the window used."""
    from rag_desktop.library.library import Library

    path = home / "libraries" / "manuals"
    with Library.open(path, embedder) as library:
        library.add_pdf(pdf)
    settings = open_settings(home / "gui-settings.ini")
    settings.setValue("session/library", str(path))
    settings.sync()
    return path


def _restart(home: Path, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start the app once: (its StartupLog events by name, what the driver recorded)."""
    log = tmp_path / "startup.jsonl"
    env = config.offline_env()
    env.update({config.HOME_ENV: str(home), "QT_QPA_PLATFORM": "offscreen",
                STARTUP_LOG_ENV: str(log), QUIT_WHEN_READY_ENV: "0"})
    heavy = ",".join((*NOT_AT_START, *INGEST_ONLY, "langchain_classic", "langchain_community"))
    proc = subprocess.run([sys.executable, "-c", DRIVER, heavy], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        events.setdefault(event["event"], event)
    return events, json.loads(proc.stdout.strip().splitlines()[-1])


def _check(events: dict[str, Any], seen: dict[str, Any]) -> None:
    for milestone in ("window_shown", "library_open", "model_loaded", "usable"):
        assert milestone in events, f"no {milestone}: {sorted(events)}"
    assert "failed" not in events, events["failed"]
    # The warm-up may already be importing the ingest-only modules when the window's thread
    # hears that the start is done; at the warm-up's own start none of them are loaded yet.
    assert set(events["usable"]["heavy"]) <= set(INGEST_ONLY), events["usable"]["heavy"]
    assert seen["at_warm_up"] == []  # nothing heavy while the start's jobs ran
    # One load of the model, started by the session's preload (as the engine thread began),
    # not by the window's load job after the library was open.
    assert seen["loads"] == [["model-load_0", config.DEFAULT_MODEL_ID]]
    assert events["usable"]["loads"] == seen["loads"]
    assert seen["embedder_loaded_before_warm_up"] is False


def test_restart_on_the_default_embedder_imports_nothing_heavy(
        tmp_path: Path, pdf_factory: Any) -> None:
    home = tmp_path / "home"
    _library(home, pdf_factory("manual.pdf", ["Press the red button to print a page.",
                                              "Open the lid to replace the ink."]), None)
    events, seen = _restart(home, tmp_path)
    _check(events, seen)
    assert seen["embedder_loaded_after_warm_up"] is True  # USE is also the query encoder
    # The after-start warm-up imports what ingestion needs, and still no torch or matplotlib.
    assert set(seen["after_warm_up"]) == set(INGEST_ONLY)


@pytest.mark.parametrize("model", [MINILM_ID])
def test_restart_on_a_minilm_library_never_loads_torch(
        tmp_path: Path, pdf_factory: Any, embedder: Any, model: str) -> None:
    assert embedder.model_id == model
    home = tmp_path / "home"
    _library(home, pdf_factory("manual.pdf", ["Press the red button to print a page."]),
             embedder)
    events, seen = _restart(home, tmp_path)
    _check(events, seen)
    # The question is embedded in NumPy: torch, the document embedder's, never loads.
    assert seen["embedder_loaded_after_warm_up"] is False
    assert not {"torch", "sentence_transformers"} & set(seen["after_warm_up"])
