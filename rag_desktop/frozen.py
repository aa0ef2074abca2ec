"""The frozen (PyInstaller) app's entry: one executable is the app, the CLI and the model runner.

A frozen app has no `python -m`: its model runner is started as the app's own executable with a
hidden `--runner` argument (runner_command). main_entry dispatches that argument before anything
heavy is imported, because the runner must import llama_cpp before numpy (llm/runner.py says
why). `--smoke-test` opens the window offscreen, loads the sample library and the default model,
reports timings and memory as JSON lines on stdout, and quits (packaging/linux/smoke_test.py).

This module imports only the standard library at import time.
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


def _run_runner() -> int:
    # Nothing from rag_desktop but this import: runner.py imports llama_cpp first thing.
    from rag_desktop.llm import runner

    runner.main()
    return 0


def _run_module(module: str, args: list[str]) -> int:
    """`python -m module args` inside the bundle (modules are in the frozen archive)."""
    import runpy

    sys.argv = [sys.executable, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def main_entry(argv: list[str] | None = None) -> int:
    """Dispatch the bundle's command line: `--runner`, `-m MODULE`, `--smoke-test`, else the CLI.

    The CLI (rag_desktop.cli.main) opens the desktop app when given no arguments.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == [RUNNER_FLAG] or argv[:2] == ["-m", RUNNER_MODULE]:
        return _run_runner()
    if argv[:1] == ["-m"] and len(argv) >= 2:
        # Code that still starts `sys.executable -m X` keeps working in the bundle.
        return _run_module(argv[1], argv[2:])
    if argv[:1] == [SMOKE_FLAG]:
        from rag_desktop.gui.smoke import smoke_test

        return smoke_test()
    from rag_desktop.cli.main import main

    return main(argv)
