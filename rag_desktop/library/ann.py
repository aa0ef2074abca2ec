"""The dense leg's FAISS index: exact up to a measured size, an IVF index above it.

A library's manifest field `dense_index` chooses: "auto" (exact up to `threshold` chunks, then
approximate), "exact" (always `IndexFlatIP`) or "ivf" (approximate once there are enough vectors
to train it). The approximate index is `IndexIVFFlat` (inner product, ids in its lists, a hash
direct map so that vectors can be read back and removed); HNSW was measured and not chosen:
ten times slower to build, and FAISS cannot remove from it (docs/performance.md, libraries of a
million chunks). Files are written with faiss.write_index and read with faiss.read_index,
streamed, so no second copy of the index is held as bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag_desktop.fsutil import atomic_writer

AUTO, EXACT, IVF = "auto", "exact", "ivf"
MODES = (AUTO, EXACT, IVF)
FLAT_KIND, IVF_KIND = "flat", "ivf-flat"
_BATCH = 65_536


@dataclass(frozen=True)
class DenseIndexSettings:
    """When and how the approximate index is built (measured: docs/performance.md).

    `threshold`: "auto" goes approximate above this many chunks, and back to exact below half
    of it (so a library at the edge does not flip on every change). `lists_per_root`: nlist
    is the power of two nearest lists_per_root * sqrt(n). `probe_share`: nprobe = nlist / this.
    `train_per_list`: k-means training points per list (FAISS warns under 39).
    """

    threshold: int = 200_000
    lists_per_root: float = 4.0
    probe_share: int = 16
    min_probe: int = 16
    train_per_list: int = 40
    min_lists: int = 16
    seed: int = 0

    def nlist(self, n: int) -> int:
        """The number of lists for n vectors (at least min_lists, at most n / train_per_list)."""
        target = self.lists_per_root * math.sqrt(max(1, n))
        lists = 2 ** max(0, round(math.log2(max(1.0, target))))
        return int(max(self.min_lists, min(lists, n // self.train_per_list)))

    def nprobe(self, nlist: int) -> int:
        """The lists a search visits."""
        return int(min(nlist, max(self.min_probe, nlist // self.probe_share)))

    def trainable(self, n: int) -> bool:
        """True when n vectors are enough to train the smallest IVF index."""
        return n >= self.min_lists * self.train_per_list


def kind_of(index: Any) -> str:
    """FLAT_KIND or IVF_KIND: what an index is (read from its class, not its file name)."""
    import faiss

    return IVF_KIND if isinstance(index, faiss.IndexIVF) else FLAT_KIND


def new_flat(dim: int) -> Any:
    """An empty exact inner-product index whose ids are chunk ids."""
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def wanted_kind(mode: str, n: int, current: str, settings: DenseIndexSettings) -> str:
    """The kind a library of n vectors should hold under `mode`."""
    if mode not in MODES:
        raise ValueError(f"unknown dense index {mode!r}; use one of {', '.join(MODES)}")
    if mode == EXACT or not settings.trainable(n):
        return FLAT_KIND
    if mode == IVF:
        return IVF_KIND
    limit = settings.threshold // 2 if current == IVF_KIND else settings.threshold
    return IVF_KIND if n > limit else FLAT_KIND


def fit(index: Any, mode: str, settings: DenseIndexSettings | None = None) -> Any:
    """`index` in the kind `mode` asks for at its size; the same object when it already is.

    An IVF index is rebuilt when the library has grown so much that its nlist is a quarter of
    what its size asks for (searches would scan four times the vectors). A conversion reads the
    old index's vectors in place (no copy of them) but holds both indexes until it ends.
    """
    settings = settings or DenseIndexSettings()
    n = int(index.ntotal)
    kind = kind_of(index)
    want = wanted_kind(mode, n, kind, settings)
    if want == FLAT_KIND:
        return index if kind == FLAT_KIND else _to_flat(index)
    if kind == IVF_KIND and index.nlist * 4 >= settings.nlist(n):
        return index
    return build_ivf(index.d, lambda: vectors_of(index), n, settings,
                     sample=_sample(index, settings.nlist(n) * settings.train_per_list, settings))


def _to_flat(index: Any) -> Any:
    flat = new_flat(index.d)
    for ids, vectors in vectors_of(index):
        flat.add_with_ids(vectors, ids)
    return flat


def build_ivf(dim: int, batches: Any, n: int, settings: DenseIndexSettings,
              sample: np.ndarray) -> Any:
    """An IVF index trained on `sample` and filled from `batches()` ((ids, vectors) pairs).

    The vectors are streamed in batches, so a caller that reads them from a file (or from the
    flat index it replaces) never holds a second full copy.
    """
    import faiss

    nlist = settings.nlist(n)
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = settings.seed
    ivf.train(np.ascontiguousarray(sample, dtype=np.float32))
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
    ivf.nprobe = settings.nprobe(nlist)
    for ids, vectors in batches():
        ivf.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                         np.asarray(ids, dtype=np.int64))
    return ivf


def _flat_view(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of an IndexIDMap2(IndexFlat) as numpy views of FAISS's memory."""
    import faiss

    inner = faiss.downcast_index(index.index)
    n, d = int(inner.ntotal), int(inner.d)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros((0, d), np.float32)
    vectors = faiss.rev_swig_ptr(inner.get_xb(), n * d).reshape(n, d)  # type: ignore[attr-defined]
    return faiss.vector_to_array(index.id_map), vectors


def vectors_of(index: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every (ids, vectors) of a flat or IVF index, in batches."""
    import faiss

    if kind_of(index) == FLAT_KIND:
        ids, vectors = _flat_view(index)
        for lo in range(0, ids.size, _BATCH):
            yield ids[lo:lo + _BATCH], vectors[lo:lo + _BATCH]
        return
    lists, d = index.invlists, int(index.d)
    for list_no in range(int(index.nlist)):
        size = int(lists.list_size(list_no))
        if size:
            ids = faiss.rev_swig_ptr(lists.get_ids(list_no), size).copy()
            codes = faiss.rev_swig_ptr(lists.get_codes(list_no), size * d * 4).copy()
            yield ids.astype(np.int64), codes.view(np.float32).reshape(size, d)


def _sample(index: Any, count: int, settings: DenseIndexSettings) -> np.ndarray:
    """`count` vectors of the index picked at random (all of them when it has fewer)."""
    n = int(index.ntotal)
    rng = np.random.default_rng(settings.seed)
    if kind_of(index) == FLAT_KIND:
        _, vectors = _flat_view(index)
        rows = np.sort(rng.choice(n, size=min(count, n), replace=False))
        return np.array(vectors[rows], dtype=np.float32)
    keep = min(1.0, count / max(1, n))
    picked = [v[rng.random(len(v)) < keep] for _, v in vectors_of(index)]
    return np.concatenate(picked) if picked else np.zeros((0, index.d), np.float32)


def stored_ids(index: Any) -> np.ndarray:
    """The ids of every vector in a flat or IVF index (with repeats, if any)."""
    import faiss

    if kind_of(index) == FLAT_KIND:
        return faiss.vector_to_array(index.id_map)
    parts = [ids for ids, _ in vectors_of(index)]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


# ----- files -------------------------------------------------------------------------------------
def write_index(path: Path, index: Any) -> None:
    """faiss.write_index to `path` crash-safely: temp file, fsync, rename, fsync the folder.

    Python file I/O (a callback writer) also copes with non-ASCII Windows paths, and streams:
    no serialized copy of a 1.5 GB index is made in memory.
    """
    import faiss

    with atomic_writer(path) as handle:
        writer = faiss.PyCallbackIOWriter(handle.write)  # type: ignore[attr-defined]
        faiss.write_index(index, writer)
        del writer  # flushes its buffer into handle


def read_index(path: Path) -> Any:
    """faiss.read_index of `path`, streamed through Python file I/O; raises OSError or
    RuntimeError when unreadable."""
    import faiss

    with open(path, "rb") as handle:
        reader = faiss.PyCallbackIOReader(handle.read)  # type: ignore[attr-defined]
        return faiss.read_index(reader)


# ----- commits (store: a library.store.LibraryStore, not imported: it imports this module) -----
def commit(store: Any, index: Any, manifest: Any = None,
           settings: DenseIndexSettings | None = None) -> Any:
    """Inside store.transaction(): commit `index` in the kind the manifest's dense_index asks
    for (the committed manifest when none is given); returns the manifest now committed, its
    dense_kind naming what the vector file holds."""
    current = store.manifest() if manifest is None else manifest
    index = fit(index, current.dense_index, settings)
    committed = replace(current, dense_kind=kind_of(index))
    store.commit_generation(index, None if committed == store.manifest() else committed)
    return committed


def set_mode(store: Any, mode: str, settings: DenseIndexSettings | None = None) -> Any:
    """Inside store.transaction(): switch the library to `mode` and rebuild its index to fit."""
    wanted_kind(mode, 0, FLAT_KIND, settings or DenseIndexSettings())  # refuses an unknown mode
    manifest = replace(store.manifest(), dense_index=mode)
    return commit(store, store.load_index(), manifest, settings)
