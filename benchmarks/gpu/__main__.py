"""The GPU benchmark harness: `python -m benchmarks.gpu JOB`.

    python -m benchmarks.gpu list                      # the jobs (benchmarks/gpu/jobs.py)
    python -m benchmarks.gpu JOB [--work DIR] [--carry DIR] [--wait S] [--out DIR] [--no-build]
    python -m benchmarks.gpu report JOB RESULTS        # RESULTS: JOB-results.tgz or a folder

`JOB` starts the job (or finds it running or done), waits up to --wait seconds, copies its log
and JOB-results.tgz to --out (default $OUT, else WORK/out), and once the job is done writes its
tables into docs/performance-gpu.md. While it prints "still running", run the same command
again: finished steps are not repeated. Exit status: 0 done, 3 still running, 1 stopped or a
step failed. A finished job is not measured again: remove WORK/jobs/JOB (its results) first.
`report` writes a results archive brought back from a GPU machine into this clone's
docs/performance-gpu.md. See docs/performance-gpu.md, "Reproducing".
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from benchmarks.gpu import harness, report
from benchmarks.gpu.jobs import JOBS

STILL_RUNNING = 3


def _paths(args: argparse.Namespace) -> harness.Paths:
    work = Path(args.work or os.environ.get("RAG_GPU_WORK") or harness.REPO / "build" / "gpu-work")
    carry = Path(args.carry or os.environ.get("RAG_GPU_CARRY")
                 or harness.REPO / "build" / "gpu-carry")
    return harness.Paths(work.resolve(), carry.resolve(), build=not args.no_build)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.gpu",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("job", help="a job name, 'list', 'report' or '_run' (internal)")
    ap.add_argument("rest", nargs="*", help="report: JOB RESULTS; _run: JOB")
    ap.add_argument("--work", help="work folder (default: $RAG_GPU_WORK or build/gpu-work)")
    ap.add_argument("--carry", help="what make gpu-carry wrote (default: build/gpu-carry)")
    ap.add_argument("--wait", type=float, default=530, help="seconds to wait for the job")
    ap.add_argument("--out", help="where the log and results go (default: $OUT or WORK/out)")
    ap.add_argument("--no-build", action="store_true",
                    help="use this Python's llama_cpp, no carried wheels and no CUDA build")
    ap.add_argument("--doc", type=Path, default=report.PERFORMANCE_GPU_MD)
    return ap


def _list() -> int:
    for job in JOBS.values():
        print(f"{job.name:12} {len(job.steps):2} steps  {job.about}")
    return 0


def _run_job(args: argparse.Namespace) -> int:
    """One call: start or resume, wait, collect, and write the tables once done."""
    job = JOBS[args.job]
    p = _paths(args)
    out = Path(args.out or os.environ.get("OUT") or p.work / "out")
    state = harness.resume(job, p, args.wait, out)
    log = p.job(job.name) / "log"
    print("\n".join(log.read_text(errors="replace").splitlines()[-25:]) if log.exists() else "")
    if state == "running":
        print(f"== still running: run `python -m benchmarks.gpu {job.name}` again now")
        return STILL_RUNNING
    res = p.job(job.name) / "res"
    section = report.write(job, res, args.doc)
    (out / f"{job.name}-section.md").write_text(section, encoding="utf-8")
    print(section)
    failed = (p.job(job.name) / "DONE").read_text().split() if state == "done" else ["all"]
    print(f"== {state}; tables in {args.doc}; failed steps: {', '.join(failed) or 'none'}")
    return 0 if state == "done" and not failed else 1


def main(argv: list[str] | None = None) -> int:
    """Dispatch: list, report, the internal _run, or a job."""
    args = _parser().parse_args(argv)
    if args.job == "list":
        return _list()
    if args.job == "report":
        job_name, results = args.rest
        print(report.write_from(job_name, Path(results), args.doc))
        return 0
    if args.job == "_run":
        return harness.run_job(JOBS[args.rest[0]], _paths(args))
    if args.job not in JOBS:
        print(f"unknown job {args.job!r}; jobs: {', '.join(JOBS)}", file=sys.stderr)
        return 2
    return _run_job(args)


if __name__ == "__main__":
    sys.exit(main())
