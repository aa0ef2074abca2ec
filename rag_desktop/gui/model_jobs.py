"""The Models dialog's work: download a catalog model, add a local GGUF, test the network.

No widgets here. The engine runs `download_model` and `add_local_gguf` as jobs in its thread,
and the dialog runs `unreachable_reason` through `NetworkProbe`, on a thread of its own: none
may block the GUI thread.
A download is `models pull`'s code (llm/download.py): the same .part resume, the same sha256
check, and the same lifting of the offline switch for that one request.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Signal

from rag_desktop import config
from rag_desktop.fsutil import atomic_writer
from rag_desktop.gui.files import normal_permissions
from rag_desktop.progress import CancelToken, ProgressCallback, ProgressEvent

if TYPE_CHECKING:
    from rag_desktop.llm.catalog import Catalog, ModelEntry

COPY_BLOCK = 8 * 2**20
PROBE_TIMEOUT_S = 4.0


class AddModelError(Exception):
    """A local file cannot be added as a model; the message says why and what to do."""


def download_model(catalog: Catalog, model_id: str, progress: ProgressCallback,
                   cancel: CancelToken) -> Path:
    """Fetch a catalog model into the user's models folder (resumes a .part; checks sha256)."""
    from rag_desktop.llm.download import pull

    entry = catalog.get(model_id)
    if entry.present and entry.path is not None:
        return entry.path  # already here (another job, or a copy by hand): nothing to fetch
    return pull(entry, progress=progress, cancel=cancel)


def add_local_gguf(source: Path, progress: ProgressCallback, cancel: CancelToken,
                   dest_dir: Path | None = None) -> Path:
    """Copy a GGUF, checked by its header first, into the user's models folder.

    The copy goes to a hidden temp file that the catalog's scan ignores, and is renamed into
    place only when whole: a cancel or a full disk leaves no half model behind.
    """
    from rag_desktop.llm.gguf import GGUFError, read_gguf_info

    source = Path(source)
    try:
        read_gguf_info(source)
    except GGUFError as exc:
        raise AddModelError(f"{source.name} cannot be added: {exc}") from exc
    dest_dir = dest_dir or config.user_models_dir()
    target = dest_dir / source.name
    if source.resolve() == target.resolve():
        return target  # already in the models folder
    if target.exists():
        raise AddModelError(f"{source.name} cannot be added: {dest_dir} already has a file of "
                            "that name; rename your copy to add it as another model")
    dest_dir.mkdir(parents=True, exist_ok=True)
    size = source.stat().st_size
    free = shutil.disk_usage(dest_dir).free
    if size > free:
        raise AddModelError(f"{source.name} cannot be added: it needs {size / 1e6:,.0f} MB, "
                            f"{dest_dir} has {free / 1e6:,.0f} MB free")
    _copy(source, target, size, progress, cancel)
    return target


def _copy(source: Path, target: Path, size: int, progress: ProgressCallback,
          cancel: CancelToken) -> None:
    """Copy in blocks with progress and cancel checks; temp file, fsync, rename, fsync dir."""
    with open(source, "rb") as src, atomic_writer(target) as dst:
        done = 0
        for block in iter(lambda: src.read(COPY_BLOCK), b""):
            cancel.raise_if_cancelled()
            dst.write(block)
            done += len(block)
            progress(ProgressEvent("copy", done, size, target.name))
    normal_permissions([target])  # a model file like any other, not the temp file's 0600


def endpoint_host(url: str) -> str:
    """The host name of the download endpoint, as the dialog names it."""
    return urlsplit(url).hostname or url


def unreachable_reason(url: str, timeout: float = PROBE_TIMEOUT_S) -> str:
    """'' when the endpoint answers at all (any HTTP status), else why not, in a few words.

    A HEAD through huggingface_hub's own HTTP client, so proxies are honoured as a download
    would honour them. It is no Hub request, so the offline switch neither blocks nor
    needs lifting for it. Never call this on the GUI thread: it waits up to `timeout`.
    """
    import httpx2

    try:
        httpx2.head(url, timeout=timeout, follow_redirects=False)
    except httpx2.TimeoutException:
        return f"{endpoint_host(url)} did not answer within {timeout:.0f} s"
    except (httpx2.HTTPError, OSError, ValueError) as exc:
        return f"{endpoint_host(url)} cannot be reached ({type(exc).__name__})"
    return ""


def part_file(entry: ModelEntry) -> Path:
    """Where a stopped download of `entry` left its bytes (download.pull's FILE.part)."""
    return config.user_models_dir() / (entry.file + ".part")


def part_size(entry: ModelEntry) -> int:
    """Bytes a stopped download left to resume from (0: none)."""
    part = part_file(entry)
    return part.stat().st_size if part.is_file() else 0


class NetworkProbe(QObject):
    """Asks model_jobs.unreachable_reason on a plain thread; `done` arrives in the GUI thread."""

    done = Signal(str, str)  # the host, then '' when it answers, else the reason

    def start(self) -> None:
        """Check the download endpoint now (it is read here: HF_ENDPOINT may point elsewhere)."""
        from rag_desktop.llm.download import endpoint

        threading.Thread(target=self._run, args=(endpoint(),), daemon=True,
                         name="rag-network-check").start()

    def _run(self, url: str) -> None:
        try:
            reason = unreachable_reason(url)
        except Exception as exc:  # a check that breaks must still say something
            reason = f"the check failed ({exc})"
        self.done.emit(endpoint_host(url), reason)
