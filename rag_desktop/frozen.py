"""Frozen (PyInstaller) or not: how a child process of the app is started.

A frozen app has no `python -m`: its model runner is started as the app's own executable with a
hidden `--runner` argument (runner_command), which rag_desktop.entry dispatches.

This module imports only the standard library, so the LLM client can import it.
"""

from __future__ import annotations

import sys

RUNNER_FLAG = "--runner"
SMOKE_FLAG = "--smoke-test"
RUNNER_MODULE = "rag_desktop.llm.runner"
# The window must be up, the sample library loaded and the model resident within this.
SMOKE_TIMEOUT_S = 300.0
# Seconds the window sits idle after it is ready before its memory is read.
SMOKE_IDLE_S = 3.0


def is_frozen() -> bool:
    """True inside a PyInstaller (or similar) bundle, where sys.executable is the app itself."""
    return bool(getattr(sys, "frozen", False))


def runner_command(python: str = sys.executable, module: str = RUNNER_MODULE) -> list[str]:
    """The command line that starts `module` (by default the model runner) as a child process.

    Frozen: the app's own executable, with `--runner` for the runner or `-m MODULE` for any other
    module (main_entry serves both). From source or a wheel: `python -m MODULE`.
    """
    if is_frozen():
        if module == RUNNER_MODULE:
            return [sys.executable, RUNNER_FLAG]
        return [sys.executable, "-m", module]
    return [python, "-m", module]
