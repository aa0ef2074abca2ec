"""Markdown tables from a GPU job's results, written into docs/performance-gpu.md.

A job's results folder holds machine.json (the machine, the start time and the load average
before and after, written by the harness) and one JSON file per step. Each job fills section
`gpu-JOB` of the page, between `<!-- bench:gpu-JOB -->` markers; text outside stays as written.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, write_section
from benchmarks.gpu import tables
from benchmarks.gpu.jobs import JOBS, Job
from benchmarks.machine import markdown_line

PERFORMANCE_GPU_MD = REPO / "docs" / "performance-gpu.md"


def load_results(job: Job, res: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The steps' JSON results by table kind, in the job's order; missing ones are skipped."""
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for step in job.steps:
        path = res / f"{step.name}.json"
        if step.kind != "model" and path.is_file():
            out.setdefault(step.kind, []).append((step.name, json.loads(path.read_text())))
    return out


def _interleaved(results: dict[str, list[tuple[str, dict[str, Any]]]]) -> list[str]:
    """Interleaved rows where a model has raw-ARCH-i and app-ARCH-i pairs, else []."""
    rows = []
    for arch in tables.LABELS:
        raws = [r for name, r in results.get("raw", []) if name.startswith(f"raw-{arch}-")
                and name.rsplit("-", 1)[1].isdigit()]
        apps = [r for name, r in results.get("app", []) if name.startswith(f"app-{arch}-")
                and name.rsplit("-", 1)[1].isdigit()]
        if raws and apps:
            rows.append(tables.interleaved_row(arch, raws, apps))
    return rows


def _servers(results: dict[str, list[tuple[str, dict[str, Any]]]]) -> list[str]:
    """One row per model of the server-ARCH-i steps (server_bench)."""
    by_arch: dict[str, list[dict[str, Any]]] = {}
    for name, r in results.get("server", []):
        by_arch.setdefault(name.split("-")[1], []).append(r)
    return [tables.server_row(arch, rs) for arch, rs in by_arch.items()]


def _table(intro: str, header: str, rows: list[str]) -> str:
    return f"{intro}\n\n{header}\n" + "\n".join(rows)


def render(job: Job, res: Path) -> str:
    """The section body: one table per kind of result the job produced."""
    results = load_results(job, res)
    parts = [f"Job `{job.name}`: {job.about}."]
    interleaved = _interleaved(results)
    if interleaved:
        parts.append(_table("Raw and app processes alternating, tok/s:",
                            tables.INTERLEAVED_HEADER, interleaved))
    else:
        if results.get("raw"):
            parts.append(_table("Raw llama-cpp-python (`benchmarks/raw_llama.py`), median "
                                "(min–max):", tables.TABLE_HEADER,
                                [tables.markdown_row(r) for _, r in results["raw"]]))
        if results.get("app"):
            parts.append(_table("The app's path (`benchmarks/gpu/app_llm_bench.py`), median "
                                "(min–max):", tables.APP_HEADER,
                                [tables.app_row(r) for _, r in results["app"]]))
    if results.get("server"):
        parts.append(_table("The app in-process (runner child) and through `python -m "
                            "llama_cpp.server` on the same GPU (`benchmarks/gpu/server_bench.py`"
                            "), rounds alternating; median (min–max) of every round:",
                            tables.SERVER_HEADER, _servers(results)))
    if results.get("breakdown"):
        parts.append(_table("One process, one context (`decode_breakdown`), median tok/s:",
                            tables.BREAKDOWN_HEADER,
                            [tables.breakdown_row(r) for _, r in results["breakdown"]]))
    for name, r in results.get("profile", []):
        parts.append(f"Per streamed token, ms ({name}):\n\n{tables.profile_table(r)}")
    done = {n for kind in results.values() for n, _ in kind}
    missing = [s.name for s in job.steps if s.kind != "model" and s.name not in done]
    if missing:
        parts.append(f"Not measured (failed or not reached): {', '.join(missing)}.")
    return "\n\n".join(parts)


def _machine(job: Job, res: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """The machine as a step saw it (with the CUDA build on its path, so llama-cpp-python's
    version and GPU offload are known), else as the harness recorded it at the start."""
    for step in job.steps:
        path = res / f"{step.name}.json"
        if step.kind in ("raw", "profile", "server") and path.is_file():
            machine = json.loads(path.read_text()).get("machine")
            if machine and machine.get("llama_cpp_python"):
                return dict(machine)
    return dict(meta["machine"])


def write(job: Job, res: Path, doc: Path = PERFORMANCE_GPU_MD) -> str:
    """Render the job's results into section `gpu-JOB` of `doc`; the section's text."""
    meta = json.loads((res / "machine.json").read_text())
    machine = markdown_line(_machine(job, res, meta))
    return write_section(doc, f"gpu-{job.name}", f"GPU job `{job.name}`", render(job, res),
                         meta.get("load_before", "unknown"),
                         machine=machine, stamp=meta.get("started"),
                         load_after=meta.get("load_after", "unknown"))


def write_from(job_name: str, results: Path, doc: Path = PERFORMANCE_GPU_MD) -> str:
    """Like write(), from a results folder or the JOB-results.tgz that a device call returned."""
    job = JOBS[job_name]
    if results.is_dir():
        return write(job, results, doc)
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(results) as tar:
        tar.extractall(tmp, filter="data")
        return write(job, Path(tmp) / job_name, doc)
