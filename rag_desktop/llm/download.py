"""`models pull`: the one place the app touches the network, and only when the user asks.

huggingface_hub does the transfer: the HEAD that gives the file's size and ETag (its sha256
on the Hub), and the streamed GET with retries on a dropped connection, a Range resume and a
size check. The partial file is ours, FILE.part beside the target, because hf_hub_download
deletes its own partial file when it fails: a pull stopped by the network, a full disk or
Ctrl-C resumes where it stopped on the next `models pull`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path
from typing import Any, BinaryIO, cast

from rag_desktop import config
from rag_desktop.fsutil import file_sha256, fsync_dir
from rag_desktop.llm.catalog import ModelEntry
from rag_desktop.progress import CancelToken, ProgressCallback, ProgressEvent, no_progress

REVISION = "main"
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


class DownloadError(Exception):
    """The download failed or the file was wrong; the message says what to do."""


def endpoint() -> str:
    """The hub's address; HF_ENDPOINT points it elsewhere (a mirror, or a test server).

    Read on every pull: huggingface_hub reads HF_ENDPOINT only once, when it is imported.
    """
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def model_url(entry: ModelEntry) -> str:
    """The file's URL on the hub (`/{repo}/resolve/main/{file}`)."""
    from huggingface_hub import hf_hub_url

    if not entry.repo:
        raise DownloadError(f"{entry.id}: has no download source; copy {entry.file} into "
                            f"{config.user_models_dir()} instead")
    return hf_hub_url(entry.repo, entry.file, revision=REVISION, endpoint=endpoint())


def pull(
    entry: ModelEntry, dest_dir: Path | None = None, progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Download `entry` into the user's models dir, resuming a partial file; verify sha256.

    The expected sha256 is the catalog's, else the hub's ETag when it is one (LFS files).
    """
    dest_dir = dest_dir or config.user_models_dir()
    dest_dir.mkdir(parents=True, exist_ok=True)
    target, part = dest_dir / entry.file, dest_dir / (entry.file + ".part")
    if target.is_file():
        return target
    url = model_url(entry)
    config.set_offline(False)  # the user asked for this download: the hub may be reached now
    try:
        size, etag_sha = _metadata(url)
        expected = entry.sha256 or etag_sha
        if expected and etag_sha and etag_sha != expected:  # found before any byte is fetched
            raise _mismatch(entry.file, etag_sha, expected, "the hub's file differs from the "
                            "catalog's; nothing was downloaded")
        _fetch(url, part, size, progress, cancel)
    finally:
        config.set_offline(True)
    if expected:
        digest = file_sha256(part)
        if digest != expected:
            part.unlink(missing_ok=True)
            raise _mismatch(entry.file, digest, expected, "the file was removed, try again")
    os.replace(part, target)
    fsync_dir(dest_dir)
    return target


def _mismatch(file: str, got: str, expected: str, what_now: str) -> DownloadError:
    return DownloadError(f"{file}: checksum mismatch (got {got[:12]}…, expected "
                         f"{expected[:12]}…); {what_now}")


def _metadata(url: str) -> tuple[int | None, str | None]:
    """The file's size and, when its ETag is a sha256 (an LFS file on the Hub), that sha256."""
    from huggingface_hub import get_hf_file_metadata
    from huggingface_hub.errors import HfHubHTTPError

    try:
        # token=False: the user's Hugging Face token is never sent (HF_ENDPOINT may be anyone's).
        meta = get_hf_file_metadata(url, token=False, endpoint=endpoint())
    except HfHubHTTPError as exc:
        raise DownloadError(_http_error(url, exc)) from exc
    except Exception as exc:
        if not _is_transport_error(exc):
            raise
        raise DownloadError(f"{url}: cannot connect ({exc}); are you online?") from exc
    etag = (meta.etag or "").lower()
    sha = etag if len(etag) == 64 and all(c in "0123456789abcdef" for c in etag) else None
    return meta.size, sha


def _http_error(url: str, exc: Any) -> str:
    code = exc.response.status_code if exc.response is not None else "error"
    return f"{url}: HTTP {code}; check the model id or your network"


def _is_transport_error(exc: BaseException) -> bool:
    """True for a network failure (refused, reset, timed out) as huggingface_hub raises it."""
    import httpx2  # huggingface_hub's own HTTP client

    return isinstance(exc, (ConnectionError, httpx2.TransportError))


def _fetch(url: str, part: Path, size: int | None, progress: ProgressCallback,
           cancel: CancelToken | None) -> None:
    """GET the file into `part`, after what an earlier pull left there."""
    from huggingface_hub.errors import HfHubHTTPError
    from huggingface_hub.file_download import http_get

    have = part.stat().st_size if part.is_file() else 0
    if size is not None and have > size:
        part.unlink()  # not a prefix of this file: start over
        have = 0
    _check_space(part.parent, (size or 0) - have)
    meter = _meter(progress, cancel, part.name.removesuffix(".part"))
    try:
        with part.open("ab") as f:  # append: what arrived before is kept
            try:
                http_get(url, f, resume_size=have, expected_size=size,
                         displayed_filename=part.name, tqdm_class=cast(Any, meter))
            except BaseException:
                with contextlib.suppress(OSError):  # best effort: the first error is the one
                    _keep(f)
                raise
            _keep(f)
    except HfHubHTTPError as exc:  # the GET's status (an OSError too, so first)
        raise DownloadError(_http_error(url, exc)) from exc
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            raise DownloadError(_disk_full(part, size)) from exc
        if _is_transport_error(exc):
            raise DownloadError(_dropped(url, part, size)) from exc
        if isinstance(exc, OSError):  # e.g. no write permission, or a short body at the end
            raise DownloadError(f"{part}: {exc}; run the same command again to resume") from exc
        raise


def _keep(f: BinaryIO) -> None:
    """Flush what did arrive to disk, so that the next pull resumes after it."""
    f.flush()
    os.fsync(f.fileno())


def _check_space(folder: Path, needed: int) -> None:
    """Refuse before downloading when the disk cannot hold the rest of the file."""
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise DownloadError(f"{folder}: not enough disk space: the download needs "
                            f"{needed / 1e6:,.0f} MB, {free / 1e6:,.0f} MB are free; free some "
                            "space and run the same command again")


def _disk_full(part: Path, size: int | None) -> str:
    have = part.stat().st_size if part.is_file() else 0
    total = f" of {size:,}" if size else ""
    return (f"{part.parent}: the disk is full after {have:,}{total} bytes; free some space and "
            "run the same command again to resume")


def _dropped(url: str, part: Path, size: int | None) -> str:
    have = part.stat().st_size if part.is_file() else 0
    total = f" of {size:,}" if size else ""
    return (f"{url}: the connection dropped after {have:,}{total} bytes; run the same command "
            "again to resume")


def _meter(progress: ProgressCallback, cancel: CancelToken | None, name: str) -> type:
    """A tqdm stand-in for http_get: passes its counts on as ProgressEvents, checks `cancel`.

    The core reports through ProgressCallback (the CLI draws it with tqdm, the GUI with Qt),
    so the bar that huggingface_hub would draw itself is replaced by this.
    """

    class Meter:
        def __init__(self, total: int | None = None, initial: int = 0, **_: Any) -> None:
            self.total, self.n = total or 0, initial

        def __enter__(self) -> Meter:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, n: int = 1) -> None:
            if cancel is not None:
                cancel.raise_if_cancelled()  # leaves http_get; the .part stays for a resume
            self.n += n
            progress(ProgressEvent("download", self.n, self.total, name))

    return Meter
