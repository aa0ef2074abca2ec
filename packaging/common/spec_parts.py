"""The PyInstaller build graph shared by every OS's spec: Analysis, PYZ, EXE and COLLECT.

A spec calls `make(globals(), ...)` with its OS's options; PyInstaller's classes come from the
spec's own namespace, so this file needs PyInstaller only when a spec runs it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load_bundle() -> Any:
    """packaging/common/bundle.py as a module (packaging/ is not a package: the PyPI
    `packaging` distribution owns that import name)."""
    spec = importlib.util.spec_from_file_location("rag_desktop_bundle", HERE / "bundle.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it is executed
    spec.loader.exec_module(module)
    return module


def make(ns: dict[str, Any], icon: str | None = None, console: bool = True,
         extra_binaries: list[tuple[str, str]] | None = None) -> Any:
    """Build the one-folder app with the spec namespace's PyInstaller classes; the COLLECT.

    One folder, not one file: Qt's LGPL libraries stay replaceable files (THIRD_PARTY.md), and
    nothing is unpacked to a temp dir at each start. No UPX and no strip: both slow the build
    and the start, and UPX breaks Qt's plugins.
    """
    bundle = load_bundle()
    variant = bundle.variant_from_env()
    inputs = bundle.analysis_inputs(variant)
    inputs["binaries"] += extra_binaries or []
    a = ns["Analysis"](**inputs)
    a.binaries = bundle.filter_toc(a.binaries)
    a.datas = bundle.filter_toc(a.datas)
    modules = {str(entry[0]).split(".")[0] for entry in a.pure}
    modules |= {str(entry[0]).split("/")[0] for entry in [*a.binaries, *a.datas]}
    a.datas += [(str(Path(dest) / Path(src).name), src, "DATA")  # Analysis' TOC form
                for src, dest in bundle.license_datas(modules)]
    pyz = ns["PYZ"](a.pure)
    exe = ns["EXE"](pyz, a.scripts, [], exclude_binaries=True, name=bundle.APP_NAME,
                    console=console, icon=icon, strip=False, upx=False)
    return ns["COLLECT"](exe, a.binaries, a.datas, strip=False, upx=False, name=bundle.APP_NAME)
