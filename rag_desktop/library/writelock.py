"""The writer lock of a library folder (write.lock): one process changes a library at a time.

Many app instances may search one library (a folder on a team drive, say) while one of them
adds PDFs. SQLite still makes each commit atomic; this lock tells a second writer at once, before
it spends minutes embedding, that another process is updating the library, and which one.

The lock is a file created with O_CREAT | O_EXCL, which network file systems (SMB, NFSv3+)
honour where fcntl/flock locks often do not. It holds JSON: pid, host, the process's start
time, started_at (UTC), the app version and a random token; it is deleted when the change ends,
also on an exception. A lock that outlived its process is:
- on this host, its pid gone (or now another process's, by start time): taken over, logged;
- from another host: never broken, since that host's processes cannot be seen; after
  STALE_AFTER_S the busy error says that it is probably stale and how to delete it;
- unreadable (a crash between creating and writing it) and older than UNREADABLE_GRACE_S:
  taken over.
A takeover renames the old file aside and checks that it renamed the lock it judged stale, so
two processes taking over one stale lock do not both end up holding it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from rag_desktop import __version__
from rag_desktop.library.store import LibraryError, LibraryStore, utc_now

log = logging.getLogger(__name__)

LOCK_FILE = "write.lock"
STALE_AFTER_S = 6 * 3600  # another host's lock this old is reported as probably stale
UNREADABLE_GRACE_S = 60.0  # a lock file still empty after this was left by a crash
_ATTEMPTS = 3


@dataclass(frozen=True)
class LockHolder:
    """What write.lock says about the process that holds it."""

    pid: int
    host: str
    started_at: str  # ISO-8601 UTC
    app_version: str
    token: str
    process_started: float | None  # psutil's create_time: tells a reused pid apart

    def to_bytes(self) -> bytes:
        """The lock file's content."""
        return (json.dumps(asdict(self), sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> LockHolder | None:
        """Parse a lock file; None when it is empty or half-written."""
        try:
            raw = json.loads(data.decode("utf-8"))
            started = raw.get("process_started")
            return cls(int(raw["pid"]), str(raw["host"]), str(raw["started_at"]),
                       str(raw.get("app_version", "?")), str(raw["token"]),
                       None if started is None else float(started))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def since(self) -> str:
        """started_at in local time: "12:03" today, else with the date."""
        try:
            when = datetime.fromisoformat(self.started_at).astimezone()
        except ValueError:
            return self.started_at
        today = datetime.now().astimezone().date()
        return when.strftime("%H:%M" if when.date() == today else "%Y-%m-%d %H:%M")

    def age_s(self) -> float:
        """Seconds since started_at (by this host's clock), 0 when unreadable."""
        try:
            return max(0.0, time.time() - datetime.fromisoformat(self.started_at).timestamp())
        except ValueError:
            return 0.0


class LibraryBusyError(LibraryError):
    """Another process holds the library's write lock; the message names it."""

    def __init__(self, folder: Path, holder: LockHolder | None) -> None:
        self.folder = folder
        self.holder = holder
        if holder is None:
            who = "another process (its lock file is being written)"
        else:
            who = f"another process (pid {holder.pid} on host {holder.host} since {holder.since()})"
        message = f"the library at {folder} is being updated by {who}; try again when it finishes"
        if holder is not None and holder.age_s() > STALE_AFTER_S:
            message += (f"; the lock is {holder.age_s() / 3600:.0f} hours old, so it is probably "
                        f"stale: if no rag-desktop on {holder.host} is updating this library, "
                        f"delete {folder / LOCK_FILE} and try again")
        super().__init__(message)


def _me() -> LockHolder:
    import psutil

    return LockHolder(os.getpid(), socket.gethostname(), utc_now(), __version__,
                      uuid.uuid4().hex, psutil.Process().create_time())


def _alive(holder: LockHolder) -> bool:
    """Whether the holder's process still runs (asked only for a lock of this host)."""
    import psutil

    try:
        proc = psutil.Process(holder.pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        started = holder.process_started
        return started is None or abs(proc.create_time() - started) < 1.0
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # another user's process: it exists
        return True


def _create(path: Path, data: bytes) -> bool:
    """Create `path` holding `data` if it does not exist; False if it does."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o644)
    except FileExistsError:
        return False
    except OSError as exc:  # a read-only folder or drive
        raise LibraryError(f"library {path.parent} cannot be changed ({exc})") from exc
    try:
        os.write(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return True


def _read(path: Path) -> tuple[bytes, float] | None:
    """The lock file's bytes and age in seconds (by mtime), or None once it is gone."""
    try:
        data = path.read_bytes()
        return data, max(0.0, time.time() - path.stat().st_mtime)
    except FileNotFoundError:
        return None


def _stale(holder: LockHolder | None, file_age_s: float) -> bool:
    """Whether a lock may be taken over: see the module docstring."""
    if holder is None:
        return file_age_s > UNREADABLE_GRACE_S
    return holder.host == socket.gethostname() and not _alive(holder)


def _take_over(path: Path, seen: bytes) -> None:
    """Delete the stale lock `seen`, but not a live lock that replaced it meanwhile."""
    aside = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.stale")
    try:
        os.replace(path, aside)  # of two processes renaming one file, one gets it
    except FileNotFoundError:
        return
    data = aside.read_bytes()
    if data != seen:  # another process took over first: put its lock back
        _create(path, data)
    aside.unlink(missing_ok=True)


def acquire(path: Path) -> str:
    """Create the lock file `path` for this process; returns its token.

    Raises LibraryBusyError while another live process holds it.
    """
    me = _me()
    holder: LockHolder | None = None
    for _ in range(_ATTEMPTS):
        if _create(path, me.to_bytes()):
            return me.token
        found = _read(path)
        if found is None:  # released meanwhile
            continue
        holder = LockHolder.from_bytes(found[0])
        if not _stale(holder, found[1]):
            raise LibraryBusyError(path.parent, holder)
        log.warning("library %s: taking over the write lock of %s, which no longer runs",
                    path.parent, f"pid {holder.pid}" if holder else "a crashed process")
        _take_over(path, found[0])
    raise LibraryBusyError(path.parent, holder)


def release(path: Path, token: str) -> None:
    """Delete the lock file if it is still this holder's."""
    found = _read(path)
    holder = LockHolder.from_bytes(found[0]) if found else None
    if holder is not None and holder.token == token:
        path.unlink(missing_ok=True)
    else:
        log.warning("library %s: the write lock was taken over before this change ended",
                    path.parent)


class WriteLock:
    """The write lock of one library folder, for one Library object; re-entrant."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_FILE
        self._depth = 0
        self._token = ""
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block; LibraryBusyError if another process holds it."""
        with self._guard:
            if self._depth == 0:
                self._token = acquire(self.path)
            self._depth += 1
        try:
            yield
        finally:
            with self._guard:
                self._depth -= 1
                if self._depth == 0:
                    release(self.path, self._token)


class _Writer(Protocol):
    _writer: WriteLock


_P = ParamSpec("_P")
_R = TypeVar("_R")
_W = TypeVar("_W", bound=_Writer)


def writes(method: Callable[Concatenate[_W, _P], _R]) -> Callable[Concatenate[_W, _P], _R]:
    """A method that changes the library: it runs holding `self._writer` (LibraryBusyError
    if another process holds it)."""
    @functools.wraps(method)
    def locked(self: _W, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._writer.held():
            return method(self, *args, **kwargs)
    return locked


def tidy_when_idle(store: LibraryStore) -> None:
    """At open: rewrite a stale manifest.json and sweep a crash's leftovers, when no one writes.

    A crash after a commit but before manifest.json was rewritten leaves a stale copy. A reader
    that finds the library busy (or read-only) leaves both for later: sweeping deletes the
    files a writer is making.
    """
    try:
        with WriteLock(store.path).held():
            if store.read_manifest_file() != store.manifest():
                store.write_manifest_file(store.manifest())
            store.sweep()
            for aside in store.path.glob(f"{LOCK_FILE}.*.stale"):  # a crashed takeover's
                aside.unlink(missing_ok=True)
    except LibraryBusyError as exc:
        log.info("library %s: left crash leftovers for later (%s)", store.path, exc)
    except (OSError, LibraryError) as exc:
        log.warning("library %s: left crash leftovers for later (%s)", store.path, exc)
