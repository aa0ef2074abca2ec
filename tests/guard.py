"""The guarded CLI runner: `rag-desktop` in a subprocess whose every socket is guarded (only
loopback and AF_UNIX) and that reports its peak RSS. tests/badinput.py re-exports it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# ----- the guarded CLI ----------------------------------------------------------------------
# Installed in every Python process started with guard_env() (the runner child too, which
# inherits the environment): connections to anything but loopback or AF_UNIX fail and are
# logged, and the peak RSS is written at exit.
SITECUSTOMIZE = """
import atexit, errno, json, os, socket

_ALLOWED = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
_NET_LOG = os.environ.get("RAG_TEST_NET_LOG")
_RSS_LOG = os.environ.get("RAG_TEST_RSS_LOG")


def _record(what):
    if _NET_LOG:
        with open(_NET_LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"pid": os.getpid(), "blocked": repr(what)}) + "\\n")


def _check(sock, address):
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    if host not in _ALLOWED:
        _record(address)
        raise OSError(errno.ENETUNREACH, "network blocked by the rag-desktop test guard")


_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kwargs):
    if host not in _ALLOWED and host is not None:
        _record(host)
        raise socket.gaierror(socket.EAI_NONAME, "name lookup blocked by the test guard")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
socket.getaddrinfo = getaddrinfo


def _rss():
    # VmHWM belongs to this program's memory map; ru_maxrss would also count the parent's
    # pages that fork copied before exec.
    with open("/proc/self/status", encoding="utf-8") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    with open(_RSS_LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps({"pid": os.getpid(), "maxrss_kib": hwm}) + "\\n")


if _RSS_LOG:
    atexit.register(_rss)

if os.environ.get("RAG_TEST_ENV_LOG"):
    with open("/proc/self/cmdline", "rb") as f:
        _cmd = f.read().replace(b"\\0", b" ").decode(errors="replace").strip()
    with open(os.environ["RAG_TEST_ENV_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"pid": os.getpid(), "cmd": _cmd,
                            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE")}) + "\\n")
"""

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Guard:
    """A folder with the guard's sitecustomize.py and its logs."""

    folder: Path

    @property
    def net_log(self) -> Path:
        return self.folder / "net.jsonl"

    @property
    def rss_log(self) -> Path:
        return self.folder / "rss.jsonl"

    @property
    def env_log(self) -> Path:
        return self.folder / "env.jsonl"

    def started(self) -> list[dict[str, str]]:
        """Every guarded process that started: its command line and HF_HUB_OFFLINE then."""
        if not self.env_log.exists():
            return []
        return [json.loads(line) for line in self.env_log.read_text().splitlines()]

    def env(self, home: Path | None = None, **extra: str) -> dict[str, str]:
        """os.environ plus the guard on PYTHONPATH (and RAG_DESKTOP_HOME when given)."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(self.folder), str(REPO)])
        env["RAG_TEST_NET_LOG"] = str(self.net_log)
        env["RAG_TEST_RSS_LOG"] = str(self.rss_log)
        env["RAG_TEST_ENV_LOG"] = str(self.env_log)
        env["PYTHONIOENCODING"] = "utf-8"
        if home is not None:
            env["RAG_DESKTOP_HOME"] = str(home)
        env.update(extra)
        return env

    def blocked(self) -> list[dict[str, object]]:
        """Every connection or lookup the guard refused so far."""
        if not self.net_log.exists():
            return []
        return [json.loads(line) for line in self.net_log.read_text().splitlines()]

    def peak_rss_mib(self, pid: int | None = None) -> float:
        """The largest peak RSS written at exit (by `pid`, or by any guarded process)."""
        rows = [json.loads(line) for line in self.rss_log.read_text().splitlines()]
        return max(r["maxrss_kib"] for r in rows if pid is None or r["pid"] == pid) / 1024


def make_guard(folder: Path) -> Guard:
    """Write the guard's sitecustomize.py into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return Guard(folder)


def run_cli(guard: Guard, home: Path, *args: str,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`rag-desktop ARGS` in a guarded subprocess; the timeout only guards against hangs."""
    if guard.rss_log.exists():
        guard.rss_log.unlink()
    return subprocess.run([sys.executable, "-m", "rag_desktop", *args],
                          capture_output=True, text=True, encoding="utf-8",
                          env=guard.env(home), timeout=timeout, cwd=REPO)


def error_lines(stderr: str, name: str) -> list[str]:
    """The lines of stderr that give file `name`'s outcome: 'NAME: reason; what to do'.

    (A warning such as 'NAME: skipping page 3' may come before it; it is not an outcome.)
    """
    return [line for line in stderr.splitlines() if "; " in line
            and (line.startswith(f"{name}: ") or line.startswith(f"error: {name}: "))]
