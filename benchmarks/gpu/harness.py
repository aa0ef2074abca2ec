"""Runs a job of jobs.py on a GPU machine: installs what was carried, builds, measures, resumes.

Everything lives under one work folder (default build/gpu-work; `--work` or RAG_GPU_WORK):
`site/` the carried wheels, `llama/` the CUDA build of llama-cpp-python, `arch/` the generated
GGUFs, `src/` a copy of the code the job runs, `jobs/JOB/` its log, results and markers.

The lent GPU machine runs one command for at most 10 minutes and is lost ~30 s after a command
ends, while the CUDA build alone takes ~5 minutes. So a call starts the job in its own process
session (it outlives the call), waits, and copies what is done to OUT; the next call finds the
job running or finished and never starts it twice. The job runs from its copy in `src/`, so the
device tool re-sending the working tree between calls cannot change code under a running job.

This module imports nothing heavy: the steps import llama_cpp in their own processes, first.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.gpu.jobs import Job, Step

REPO = Path(__file__).resolve().parents[2]
LLAMA_SDIST = "llama_cpp_python-0.3.36-trim.tar.gz"
CMAKE_ARGS = ("-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_NATIVE=OFF "
              "-DGGML_CUDA_NO_VMM=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF "
              "-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF")


@dataclass(frozen=True)
class Paths:
    """The work folder's layout (see the module docstring) and the carried folder."""

    work: Path
    carry: Path
    build: bool = True  # False: use this interpreter's llama_cpp (a CPU check of the harness)

    @property
    def site(self) -> Path:
        return self.work / "site"

    @property
    def llama(self) -> Path:
        return self.work / "llama"

    @property
    def arch(self) -> Path:
        return self.work / "arch"

    @property
    def src(self) -> Path:
        return self.work / "src"

    def job(self, name: str) -> Path:
        """The job's folder: log, pid, DONE and res/ (its results)."""
        return self.work / "jobs" / name


def _log(text: str) -> None:
    """One line of the job's log (the job's stdout goes to jobs/JOB/log)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _nvidia_lib() -> str | None:
    """cuBLAS and the CUDA runtime of the `nvidia` wheels next to PyTorch, where there are any."""
    spec = importlib.util.find_spec("nvidia")
    for root in (spec.submodule_search_locations or []) if spec else []:
        lib = Path(root) / "cu13" / "lib"
        if lib.is_dir():
            return str(lib)
    return None


def step_env(p: Paths, step: Step | None = None) -> dict[str, str]:
    """The environment of a step: the carried wheels and the CUDA build first on the path."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", RAG_DESKTOP_HOME=str(p.work / "home"))
    paths = [str(p.llama), str(p.site)] if p.build else []
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(p.src), env.get("PYTHONPATH", "")])
    lib = _nvidia_lib()
    if lib:
        env["LD_LIBRARY_PATH"] = os.pathsep.join([lib, env.get("LD_LIBRARY_PATH", "")])
    env.update(step.env if step else {})
    return env


def install_wheels(p: Paths) -> None:
    """pip-install the carried wheels into site/, once (no index: the machine has none)."""
    marker = p.site / ".installed"
    wheels = sorted(str(w) for w in (p.carry / "wheels").glob("*.whl"))
    if marker.exists() or not p.build or not wheels:
        return
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                    "--no-compile", "--no-cache-dir", "--upgrade", "--target", str(p.site),
                    *wheels], check=True)
    marker.touch()
    _log(f"installed {len(wheels)} wheels into {p.site}")


def start_build(p: Paths) -> subprocess.Popen[bytes] | None:
    """Start compiling llama-cpp-python with CUDA into llama/, unless done (None then)."""
    if not p.build or (p.llama / ".built").exists():
        return None
    sdist = p.carry / LLAMA_SDIST
    tree = p.work / "llbuild"
    shutil.rmtree(tree, ignore_errors=True)
    with tarfile.open(sdist) as tar:
        tar.extractall(tree, filter="data")
    (src,) = tree.iterdir()
    env = dict(step_env(p), CMAKE_ARGS=CMAKE_ARGS, PYTHONPATH=str(p.site),
               CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 1),
               PATH=os.environ.get("PATH", "") + os.pathsep + "/usr/local/cuda/bin")
    _log(f"building {src.name} with CUDA into {p.llama}")
    with (p.work / "build.log").open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps",
             "--no-build-isolation", "--no-cache-dir", "--target", str(p.llama), str(src)],
            env=env, stdout=out, stderr=subprocess.STDOUT)


def _finish_build(p: Paths, build: subprocess.Popen[bytes]) -> None:
    t0 = time.perf_counter()
    if build.wait() != 0:
        tail = (p.work / "build.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the CUDA build failed:\n{tail}")
    (p.llama / ".built").touch()
    _log(f"build done (waited {time.perf_counter() - t0:.0f} s for it)")


def _fill(text: str, p: Paths, res: Path, step: Step) -> str:
    """`text` with {arch}, {res}, {name}, {out} and {nproc} filled in (jobs.py)."""
    keys = {"arch": p.arch, "res": res, "name": step.name, "nproc": os.cpu_count() or 1}
    return text.format(out=step.output.format(**keys), **keys)


def run_step(p: Paths, res: Path, step: Step) -> bool:
    """Run one step unless its output exists; False when it failed (the job goes on)."""
    out = Path(_fill(step.output, p, res, step))
    if out.exists() or (step.done_if and Path(_fill(step.done_if, p, res, step)).exists()):
        _log(f"{step.name}: done before")
        return True
    cmd = [sys.executable, "-m", step.module, *(_fill(a, p, res, step) for a in step.args)]
    if step.cpus and shutil.which("taskset"):
        cmd = ["taskset", "-c", step.cpus, *cmd]
    _log(f"{step.name}: {' '.join(cmd[-len(step.args) - 2:])}")
    t0 = time.perf_counter()
    with (res / f"{step.name}.log").open("wb") as f:
        try:
            rc = subprocess.run(cmd, cwd=p.src, env=step_env(p, step), stdout=f,
                                stderr=subprocess.STDOUT, timeout=step.timeout_s).returncode
        except subprocess.TimeoutExpired:
            rc = -1
    ok = rc == 0 and out.exists()
    verdict = "ok" if ok else f"FAILED (rc {rc}; see res/{step.name}.log)"
    _log(f"{step.name}: {verdict} in {time.perf_counter() - t0:.0f} s")
    return ok


def _machine(res: Path, key: str) -> None:
    """Record the machine and the load average (before or after the job) in res/machine.json."""
    from benchmarks.common import load_average
    from benchmarks.machine import describe_machine

    path = res / "machine.json"
    data = json.loads(path.read_text()) if path.exists() else {
        "machine": describe_machine(probe_llama=False), "started": time.strftime("%Y-%m-%d %H:%M")}
    data[key] = load_average()
    path.write_text(json.dumps(data, indent=2))


def run_job(job: Job, p: Paths) -> int:
    """The job's body, in its own process session: every step in order; 0 when all succeeded."""
    folder = p.job(job.name)
    res = folder / "res"
    res.mkdir(parents=True, exist_ok=True)
    p.arch.mkdir(parents=True, exist_ok=True)
    _machine(res, "load_before")
    install_wheels(p)
    build = start_build(p)
    failed = []
    for step in job.steps:
        if step.needs_llama and build is not None:
            _finish_build(p, build)
            build = None
        if not run_step(p, res, step):
            failed.append(step.name)
    if build is not None:
        _finish_build(p, build)
    _machine(res, "load_after")
    (folder / "DONE").write_text(" ".join(failed))
    _log(f"job {job.name} done; failed steps: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


def _running(folder: Path) -> bool:
    try:
        os.kill(int((folder / "pid").read_text()), 0)
        return True
    except (OSError, ValueError):
        return False


def start(job: Job, p: Paths) -> subprocess.Popen[bytes] | None:
    """Copy the code to src/ and start the job in its own session, unless done or running."""
    folder = p.job(job.name)
    if (folder / "DONE").exists() or _running(folder):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(p.src, ignore_errors=True)
    for name in ("benchmarks", "rag_desktop"):
        shutil.copytree(REPO / name, p.src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "devsets"))
    cmd = [sys.executable, "-m", "benchmarks.gpu", "_run", job.name, "--work", str(p.work),
           "--carry", str(p.carry), *([] if p.build else ["--no-build"])]
    with (folder / "log").open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=p.src, env=dict(os.environ, PYTHONPATH=str(p.src)),
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    (folder / "pid").write_text(str(proc.pid))
    print(f"started job {job.name} (pid {proc.pid})", flush=True)
    return proc


def collect(job: Job, p: Paths, out: Path) -> None:
    """Copy the job's log and results (res/ as results.tgz) to `out`."""
    folder = p.job(job.name)
    out.mkdir(parents=True, exist_ok=True)
    if (folder / "log").exists():
        shutil.copy(folder / "log", out / f"{job.name}.log")
    with tarfile.open(out / f"{job.name}-results.tgz", "w:gz") as tar:
        tar.add(folder / "res", arcname=job.name)


def resume(job: Job, p: Paths, wait_s: float, out: Path) -> str:
    """Start or resume the job, wait up to wait_s, collect; 'done', 'running' or 'stopped'."""
    proc = start(job, p)
    folder, t0 = p.job(job.name), time.monotonic()

    def running() -> bool:  # a job this process started must be reaped, not just signalled
        return proc.poll() is None if proc is not None else _running(folder)

    while running() and time.monotonic() - t0 < wait_s:
        time.sleep(2)
    collect(job, p, out)
    if (folder / "DONE").exists():
        return "done"
    return "running" if running() else "stopped"
