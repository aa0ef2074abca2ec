"""`make bench`: run the benchmarks of docs/performance.md, each in its own process.

B1 cold start (and its GUI row, b1-gui), B2 ingestion, B3 retrieval latency, B4 generation,
B5 memory; each updates its section of docs/performance.md.

    python -m benchmarks.run_all [--quick|--full] [--only b1,b3] [--no-write]

Each benchmark runs in a fresh interpreter: the generation benchmark must import llama_cpp
before numpy, and a benchmark's memory or threads must not leak into the next one's numbers.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

BENCHMARKS = {
    "b1": "benchmarks.b1_cold_start",
    "b1-gui": "benchmarks.gui_start",
    "b2": "benchmarks.b2_ingest",
    "b3": "benchmarks.b3_retrieval",
    "b4": "benchmarks.b4_generation",
    "b5": "benchmarks.b5_memory",
}


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; a failing one is reported and the others still run."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes (default)")
    mode.add_argument("--full", action="store_true", help="every size and model")
    ap.add_argument("--only", default=",".join(BENCHMARKS),
                    help="comma-separated: b1, b1-gui, b2..b5")
    ap.add_argument("--no-write", action="store_true", help="print tables only")
    args = ap.parse_args(argv)
    flags = ["--full" if args.full else "--quick"] + (["--no-write"] if args.no_write else [])
    failed = []
    for name in args.only.split(","):
        module = BENCHMARKS[name.strip()]
        print(f"== {name}: {module} {' '.join(flags)}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", module, *flags])
        print(f"== {name}: exit {code} after {time.perf_counter() - t0:.0f} s", file=sys.stderr,
              flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
