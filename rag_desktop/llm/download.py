"""`models pull`: the one place the app touches the network, and only when the user asks."""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO

from rag_desktop import config
from rag_desktop.llm.catalog import ModelEntry
from rag_desktop.progress import CancelToken, ProgressCallback, ProgressEvent, no_progress

CHUNK = 1 << 20


class DownloadError(Exception):
    """The download failed or the file was wrong; the message says what to do."""


def model_url(entry: ModelEntry) -> str:
    """The file's URL on the hub; HF_ENDPOINT points it elsewhere (a mirror, or a test server)."""
    if not entry.repo:
        raise DownloadError(f"{entry.id}: has no download source; copy {entry.file} into "
                            f"{config.user_models_dir()} instead")
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    return f"{endpoint}/{entry.repo}/resolve/main/{entry.file}"


def pull(
    entry: ModelEntry, dest_dir: Path | None = None, progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Download `entry` into the user's models dir, resuming a partial file; verify sha256."""
    dest_dir = dest_dir or config.user_models_dir()
    dest_dir.mkdir(parents=True, exist_ok=True)
    target, part = dest_dir / entry.file, dest_dir / (entry.file + ".part")
    if target.is_file():
        return target
    url = model_url(entry)
    config.set_offline(False)  # the user started a download: the hub may be reached now
    try:
        _fetch(url, part, progress, cancel)
    finally:
        config.set_offline(True)
    if entry.sha256:
        digest = _sha256(part)
        if digest != entry.sha256:
            part.unlink(missing_ok=True)
            raise DownloadError(f"{entry.file}: checksum mismatch (got {digest[:12]}…, expected "
                                f"{entry.sha256[:12]}…); the file was removed, try again")
    os.replace(part, target)
    return target


def _fetch(url: str, part: Path, progress: ProgressCallback, cancel: CancelToken | None) -> None:
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        resp = urllib.request.urlopen(req, timeout=30)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # already complete
            return
        raise DownloadError(f"{url}: HTTP {exc.code}; check the model id or your network") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"{url}: cannot connect ({exc}); are you online?") from exc
    with resp:
        if have and resp.status != 206:
            have = 0  # the server ignored the range: start over
        total = have + int(resp.headers.get("Content-Length") or 0)
        with part.open("ab" if have else "wb") as f:
            try:
                done = _copy(resp, f, have, total, progress, cancel, part.name[:-5])
            finally:
                f.flush()
                os.fsync(f.fileno())  # what did arrive is kept for the resume
    if total > have and done < total:
        raise DownloadError(f"{url}: the connection dropped after {done:,} of {total:,} bytes; "
                            "run the same command again to resume")


def _copy(resp: Any, f: BinaryIO, done: int, total: int, progress: ProgressCallback,
          cancel: CancelToken | None, name: str) -> int:
    try:
        while block := resp.read(CHUNK):
            if cancel is not None:
                cancel.raise_if_cancelled()
            f.write(block)
            done += len(block)
            progress(ProgressEvent("download", done, total, name))
    except (http.client.HTTPException, OSError):
        pass  # a dropped connection: the caller sees the short count and says so
    return done


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()
