"""The frozen app's command line: one executable is the app, the CLI and the model runner.

main_entry dispatches a hidden `--runner` before anything heavy is imported, because the runner
must import llama_cpp before numpy (llm/runner.py says why). `--smoke-test` opens the window
offscreen, loads the sample library and the default model, reports timings and memory as JSON
lines on stdout, and quits (packaging/linux/smoke_test.py).
"""

from __future__ import annotations

import sys

from rag_desktop.frozen import RUNNER_FLAG, RUNNER_MODULE, SMOKE_FLAG


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
