"""One description of the machine a benchmark ran on, for the header line of every results table.

Nothing heavy is imported here: numpy or torch imported before llama_cpp crashed a CUDA build of
llama.cpp, so benchmark scripts call this before or after loading llama_cpp, never numpy first.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
from importlib import metadata
from typing import Any


def _cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, else platform's guess."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _physical_cores() -> int | None:
    """Physical cores: psutil if installed, else distinct (physical id, core id) pairs."""
    try:
        import psutil

        return psutil.cpu_count(logical=False)
    except ImportError:
        pass
    pairs = set()
    phys = core = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "physical id":
                    phys = value.strip()
                elif key.strip() == "core id":
                    core = value.strip()
                    pairs.add((phys, core))
    except OSError:
        return None
    return len(pairs) or None


def _ram_gib() -> float | None:
    """Total RAM in GiB (MemTotal; on a VM whose memory grows on use this reads low)."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def gpus() -> list[dict[str, Any]]:
    """Each NVIDIA GPU's name, total and used MiB and driver, from nvidia-smi; [] if none."""
    if shutil.which("nvidia-smi") is None:
        return []
    query = "--query-gpu=name,memory.total,memory.used,driver_version"
    try:
        out = subprocess.run(
            ["nvidia-smi", query, "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    result = []
    for line in out.strip().splitlines():
        name, total, used, driver = (part.strip() for part in line.split(","))
        result.append({"name": name, "vram_mib": int(total), "used_mib": int(used),
                       "driver": driver})
    return result


def _llama_info(probe: bool) -> tuple[str | None, bool | None]:
    """llama-cpp-python's version and, if `probe`, whether its build can offload to a GPU."""
    try:
        version: str | None = metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        version = None
    if not probe:
        return version, None
    try:
        import llama_cpp

        return version or llama_cpp.__version__, bool(llama_cpp.llama_supports_gpu_offload())
    except (ImportError, OSError):
        return version, None


def describe_machine(probe_llama: bool = True) -> dict[str, Any]:
    """CPU, cores, RAM, GPUs, OS, Python and llama-cpp-python of this machine, as a plain dict.

    With `probe_llama`, llama_cpp is imported to ask `llama_supports_gpu_offload()`.
    """
    llama_version, offload = _llama_info(probe_llama)
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": _cpu_model(),
        "physical_cores": _physical_cores(),
        "logical_cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "gpus": gpus(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "llama_cpp_python": llama_version,
        "gpu_offload": offload,
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def markdown_line(d: dict[str, Any]) -> str:
    """One Markdown line naming the machine, e.g. for the line above a results table."""
    gpu = ", ".join(f"{g['name']} ({g['vram_mib']:,} MiB)" for g in d.get("gpus") or []) or "no GPU"
    offload = {True: "GPU offload on", False: "CPU-only build", None: "offload unknown"}[
        d.get("gpu_offload")
    ]
    return (
        f"**Machine** ({d.get('date')}): {d.get('cpu')}, {d.get('physical_cores')} physical / "
        f"{d.get('logical_cores')} logical cores, {d.get('ram_gib')} GiB RAM; {gpu}; "
        f"{d.get('os')}; Python {d.get('python')}; llama-cpp-python {d.get('llama_cpp_python')} "
        f"({offload}); load average {d.get('load_avg_1m')}"
    )


if __name__ == "__main__":
    print(markdown_line(describe_machine()))
