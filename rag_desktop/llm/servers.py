"""Server entries: the OpenAI-compatible model servers a user added (`models add-server`).

They live in servers.json in the user data dir (JSON, written atomically, never a pickle).
The API key never does: it is in the OS keyring (`keyring`), or in an environment variable
that the entry names, read when the entry is loaded.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rag_desktop import config
from rag_desktop.fsutil import atomic_write_text
from rag_desktop.llm.channel import LLMError

KEYRING_SERVICE = "rag-desktop"  # the keyring's service name; the username is the entry's id
FILE_NAME = "servers.json"
FORMAT_VERSION = 1


class ServerEntryError(LLMError):
    """A server entry that cannot be stored or used as asked; the message says what to change."""


@dataclass(frozen=True)
class ServerRecord:
    """One server entry: where the server is and which of its models answers."""

    id: str
    name: str
    url: str  # the base URL, without /v1: http://127.0.0.1:8000
    model: str  # the model's id on the server, as its /v1/models lists it
    api_key_env: str = ""  # the environment variable that holds the API key (the CLI's way)
    keyring: bool = False  # the API key is in the OS keyring under (KEYRING_SERVICE, id)
    context_length: int = 0  # the user's own figure, used when the server does not say

    @property
    def address(self) -> str:
        """'host:port', as the backend column shows it."""
        return address(self.url)


def servers_file() -> Path:
    """servers.json in the user data dir."""
    return config.home_dir() / FILE_NAME


def normalize_url(url: str) -> str:
    """The base URL as stored: scheme, host and port, any path, no trailing '/v1'.

    ServerEntryError for anything that is not an http(s) URL with a host.
    """
    text = url.strip().rstrip("/")
    if "://" not in text:
        text = f"http://{text}"  # "127.0.0.1:8000" is what people type
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerEntryError(f"{url!r} is not a server address; give one like "
                               "http://127.0.0.1:8000")
    text = re.sub(r"/v1$", "", text)
    return text


def address(url: str) -> str:
    """'host:port' of a base URL (the port the scheme implies when it has none)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def default_id(model: str, url: str) -> str:
    """'<model>@<host:port>': the model's file stem for a path-like id, lower case."""
    stem = re.sub(r"\.gguf$", "", model.replace("\\", "/").rsplit("/", 1)[-1], flags=re.I)
    stem = re.sub(r"[^\w.+-]+", "-", stem).strip("-").lower() or "model"
    return f"{stem}@{address(url)}"


def load_servers(path: Path | None = None) -> list[ServerRecord]:
    """The stored entries, in the order they were added; none when there is no file.

    ServerEntryError for a file that is not ours (the message names it).
    """
    path = path or servers_file()
    if not path.is_file():
        return []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(ServerRecord)}
        return [ServerRecord(**{k: v for k, v in d.items() if k in known})
                for d in raw["servers"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ServerEntryError(f"{path}: the server entries cannot be read ({exc}); fix or "
                               "delete the file and add the servers again") from exc


def save_servers(records: list[ServerRecord], path: Path | None = None) -> None:
    """Write every entry, atomically (a crash leaves the old file or the new one)."""
    path = path or servers_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"version": FORMAT_VERSION, "servers": [asdict(r) for r in records]}
    atomic_write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def add_server(record: ServerRecord, path: Path | None = None) -> ServerRecord:
    """Store `record`, replacing an entry with the same id."""
    records = [r for r in load_servers(path) if r.id != record.id]
    save_servers([*records, record], path)
    return record


def remove_server(server_id: str, path: Path | None = None) -> ServerRecord:
    """Forget an entry and its keyring key; ServerEntryError naming the entries there are."""
    records = load_servers(path)
    found = [r for r in records if r.id == server_id]
    if not found:
        known = ", ".join(r.id for r in records) or "none"
        raise ServerEntryError(f"no server entry '{server_id}'; server entries: {known}")
    save_servers([r for r in records if r.id != server_id], path)
    if found[0].keyring:
        delete_api_key(server_id)
    return found[0]


def api_key(record: ServerRecord) -> str | None:
    """The entry's API key: from its environment variable, else from the keyring; None when
    the entry has none. ServerEntryError when the place it names holds no key."""
    if record.api_key_env:
        key = os.environ.get(record.api_key_env, "")
        if not key:
            raise ServerEntryError(
                f"{record.id}: its API key is read from the environment variable "
                f"{record.api_key_env}, which is not set; set it and try again")
        return key
    if record.keyring:
        import keyring

        stored = keyring.get_password(KEYRING_SERVICE, record.id)
        if not stored:
            raise ServerEntryError(
                f"{record.id}: its API key is not in the system keyring any more; add the "
                "server again with --ask-api-key, or use --api-key-env VAR")
        return str(stored)
    return None


def store_api_key(server_id: str, key: str) -> None:
    """Keep an API key in the OS keyring (for an entry added interactively or from the GUI)."""
    import keyring

    keyring.set_password(KEYRING_SERVICE, server_id, key)


def delete_api_key(server_id: str) -> None:
    """Remove an entry's key from the keyring; a key that is not there is not an error."""
    import keyring
    from keyring.errors import PasswordDeleteError

    with contextlib.suppress(PasswordDeleteError):
        keyring.delete_password(KEYRING_SERVICE, server_id)
