"""The CLI's argument tree, kept apart from the handlers so that cli.py stays short."""

from __future__ import annotations

import argparse
from typing import Any

from rag_desktop import __version__, config
from rag_desktop.cli.options import add_library as _library
from rag_desktop.cli.options import add_retrieval as _retrieval


def _add(sub: Any, name: str, handler: Any, help_: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_, description=help_)
    p.set_defaults(handler=handler)
    return p


class _Version(argparse.Action):
    """`--version`: the package version and the llama.cpp build it runs models on."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(version_line())
        parser.exit()


def version_line() -> str:
    """'rag-desktop 0.1.0 (llama-cpp-python 0.3.36, CPU)'; llama_cpp is imported first, as in
    the runner, since a CUDA build crashed when numpy was loaded before it."""
    try:
        import llama_cpp

        from rag_desktop.llm.runner import backend_name

        return f"rag-desktop {__version__} (llama-cpp-python {llama_cpp.__version__}, " \
               f"{backend_name()})"
    except Exception as exc:  # a broken llama.cpp install must not hide the version
        return f"rag-desktop {__version__} (llama.cpp cannot be loaded: {exc})"


def build_parser(h: dict[str, Any]) -> argparse.ArgumentParser:
    """Build the parser; `h` maps handler names (cmd_*) to functions."""
    parser = argparse.ArgumentParser(
        prog="rag-desktop", description="Offline answers from PDF manuals with local LLMs. "
        "Run with no arguments to open the desktop app.")
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="print the version and the llama.cpp backend, then exit")
    sub = parser.add_subparsers(dest="command", required=True)

    p = _add(sub, "ingest", h["cmd_ingest"], "add PDF files or folders to a library")
    p.add_argument("pdf", nargs="+", metavar="PDF")
    p.add_argument("--ocr-language", choices=("auto", "en", "ko", "off"), default=None,
                   help="how pages without a text layer (scans) are read: auto (the default; "
                   "Korean by Tesseract when the page looks Korean), en, ko, or off")
    _library(p)
    p = _add(sub, "remove", h["cmd_remove"], "remove documents by name or sha256")
    p.add_argument("name", nargs="+", metavar="NAME_OR_SHA256")
    _library(p)
    p = _add(sub, "docs", h["cmd_docs"], "list the documents in a library")
    _library(p)
    p.add_argument("--json", action="store_true")
    p = _add(sub, "search", h["cmd_search"], "hybrid BM25 + dense search, no model")
    p.add_argument("question")
    _library(p)
    _retrieval(p)
    p.add_argument("--json", action="store_true")
    p = _add(sub, "ask", h["cmd_ask"], "answer a question from the library with a local model "
             "or a server entry (docs/servers.md)")
    p.add_argument("question")
    _library(p)
    p.add_argument("--model", default=config.DEFAULT_MODEL_ID, metavar="ID")
    _retrieval(p)
    p.add_argument("--n-gpu-layers", type=int, default=None, metavar="N",
                   help="layers to offload (-1 all, 0 none; default: all when the build can)")
    p.add_argument("--max-tokens", type=int, default=None, metavar="N")
    p.add_argument("--no-cache", action="store_true", help="skip the answer cache")
    p.add_argument("--conversation", metavar="ID",
                   help="ask as the next turn of a saved conversation (`rag-desktop "
                   "conversations` lists them); without it a new one is saved")
    p.add_argument("--json", action="store_true")
    p = _add(sub, "models", h["cmd_models"], "list models, `models pull ID` to download one, "
             "`models add-server URL` / `models remove-server ID` for a model server")
    p.add_argument("action", nargs="?", choices=["list", "pull", "add-server", "remove-server"],
                   default="list")
    p.add_argument("id", nargs="?", metavar="ID_OR_URL")
    p.add_argument("--json", action="store_true")
    _server_options(p)
    p = _add(sub, "reindex", h["cmd_reindex"], "rebuild a library's vectors with another model")
    _library(p)
    p.add_argument("--embedding-model", default=config.DEFAULT_EMBEDDING_MODEL, metavar="ID")
    p.add_argument("--dense-index", choices=["auto", "exact", "ivf"],
                   help="only switch the dense index (no re-embedding): 'auto' (exact up to "
                        "200k chunks, then IVF), 'exact' or 'ivf'")
    p = _add(sub, "check", h["cmd_check"], "check a library's integrity (and repair it)")
    _library(p)
    p.add_argument("--repair", action="store_true")
    _register_extensions(sub)
    return parser


def _server_options(p: argparse.ArgumentParser) -> None:
    """`models add-server`'s options (docs/servers.md)."""
    g = p.add_argument_group("add-server")
    g.add_argument("--model", dest="server_model", metavar="ID",
                   help="the server's model to use (default: its only one)")
    g.add_argument("--name", metavar="NAME",
                   help="the entry's id, for --model and --models (default: MODEL@HOST:PORT)")
    g.add_argument("--api-key-env", default="", metavar="VAR",
                   help="read the API key from this environment variable at every use")
    g.add_argument("--ask-api-key", action="store_true",
                   help="type the API key now; it is kept in the system keyring")
    g.add_argument("--n-ctx", type=int, default=0, metavar="N",
                   help="the server's context length, if it does not report it")


def _register_extensions(sub: Any) -> None:
    """Sub-commands that live with their own feature (evaluation, benchmarks)."""
    from rag_desktop.cli import chat as cli_chat
    from rag_desktop.cli import evaluate as cli_eval

    cli_eval.register(sub)
    cli_chat.register(sub)
