"""The command-line front end: argparse over the same core the GUI drives (docs/cli.md)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag_desktop import config
from rag_desktop.answer import coverage_note, source_ref
from rag_desktop.cli.options import library_dir
from rag_desktop.cli.progress import ProgressBar
from rag_desktop.progress import Cancelled, CancelToken

# Errors a user can act on: printed as one line with exit code 2, never as a traceback.
EXIT_BAD_INPUT = 2
# Another process is updating the library (writelock.py): sysexits' EX_TEMPFAIL, worth a retry.
EXIT_BUSY = 75


def _bad_input_errors() -> tuple[type[BaseException], ...]:
    from rag_desktop.cli.chat import not_found_errors
    from rag_desktop.library.documents import DocumentError
    from rag_desktop.library.embeddings import UnknownEmbeddingModelError
    from rag_desktop.library.library import LibraryError
    from rag_desktop.llm.catalog import ModelUnavailableError, UnknownModelError
    from rag_desktop.llm.client import LLMError
    from rag_desktop.llm.download import DownloadError
    from rag_desktop.llm.gguf import GGUFError

    return (DocumentError, LibraryError, UnknownModelError, ModelUnavailableError, GGUFError,
            LLMError, UnknownEmbeddingModelError, DownloadError, FileNotFoundError,
            *not_found_errors())


def open_library(args: argparse.Namespace, create: bool = True) -> Any:
    """Open (or create) the library named by --library."""
    from rag_desktop.library.library import Library, LibraryError
    from rag_desktop.library.store import DB_FILE

    path = library_dir(args)
    # SQLite holds the library (manifest.json is a readable copy that open() rewrites), so a
    # lost manifest.json must not make `check --repair` refuse the library.
    if not create and not (path / DB_FILE).exists():
        raise LibraryError(f"{path}: no library here; add PDFs with `rag-desktop ingest`")
    return Library.open(path)


def cmd_ingest(args: argparse.Namespace) -> int:
    """Add PDFs (or folders of PDFs); one line per file; exit 2 if any file was bad."""
    from rag_desktop.config import OcrSettings

    lib = open_library(args)
    if args.ocr_language is not None:
        lib.ocr_settings = OcrSettings.from_choice(args.ocr_language)
    cancel = CancelToken()
    try:
        with ProgressBar() as bar:
            outcomes = lib.add_pdfs([Path(p) for p in args.pdf], bar, cancel)
    finally:
        lib.close()
    failed = 0
    for o in outcomes:
        if o.status == "added":
            print(f"added {o.document.name}: {o.document.pages} pages, {o.document.chunks} chunks")
        elif o.status == "duplicate":
            print(f"{o.document.name}: already in the library (same sha256); nothing to do")

        else:
            failed += 1
            print(o.error or f"{o.path}: {o.status}", file=sys.stderr)
    return EXIT_BAD_INPUT if failed else 0


def cmd_remove(args: argparse.Namespace) -> int:
    """Remove documents by name or sha256."""
    from rag_desktop.library.library import LibraryBusyError, LibraryError

    lib, failed = open_library(args, create=False), 0
    try:
        for name in args.name:
            try:
                doc = lib.remove(name)
                print(f"removed {doc.name} ({doc.chunks} chunks)")
            except LibraryError as exc:
                if isinstance(exc, LibraryBusyError):
                    raise  # the same for every name: one line and EXIT_BUSY
                failed += 1
                print(str(exc), file=sys.stderr)
    finally:
        lib.close()
    return EXIT_BAD_INPUT if failed else 0


def cmd_docs(args: argparse.Namespace) -> int:
    """List the library's documents."""
    lib = open_library(args)
    docs = lib.documents()
    lib.close()
    if args.json:
        keys = ("name", "sha256", "pages", "chunks", "added_at", "ocr_pages", "ocr_confidence")
        print(json.dumps({"documents": [{k: getattr(d, k) for k in keys} for d in docs]}))
        return 0
    for d in docs:
        ocr = (f"\t{d.ocr_pages} pages by OCR (confidence {d.ocr_confidence:.2f})"
               if d.ocr_pages else "")
        print(f"{d.name}\t{d.pages} pages\t{d.chunks} chunks\t{d.added_at}\t{d.sha256[:12]}"
              f"{ocr}")
    if not docs:
        print("the library is empty; add PDFs with `rag-desktop ingest FILE.pdf`", file=sys.stderr)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Hybrid search; prints ranked chunks with their BM25, dense and fused scores."""
    from rag_desktop import gate
    from rag_desktop.answer import Source
    from rag_desktop.cli.options import retrieval_settings

    lib = open_library(args, create=False)
    r = retrieval_settings(args)
    result = lib.search(args.question, k=r.k, bm25_weight=r.bm25_weight, k_per_leg=r.k_per_leg,
                        fusion=r.fusion, rrf_c=r.rrf_c, one_chunk_per_page=r.one_chunk_per_page,
                        leg_seats=r.leg_seats)
    relevant = gate.passes(lib.manifest.embedding_model, result)
    lib.close()
    sources = [Source.from_hit(h) for h in result.hits]
    if args.json:
        print(json.dumps({"query": result.query, "retrieval_s": result.retrieval_s,
                          "relevance": {"top_cosine": result.top_cosine,
                                        "coverage": result.coverage, "unknown": result.unknown,
                                        "relevant": relevant},
                          "results": [s.to_json() for s in sources]}, ensure_ascii=False))
        return 0
    for s in sources:
        snippet = " ".join(s.text.split())[:160]
        section = f"  [{s.section}]" if s.section else ""
        print(f"{s.rank}. {s.file} p.{s.page}{section}  bm25={s.bm25:.2f} dense={s.dense:.3f} "
              f"fused={s.fused:.4f}\n   {snippet}")
    print(f"retrieval: {result.retrieval_s * 1000:.1f} ms; "
          + ("" if relevant else "nothing here looks relevant (`ask` would refuse); ")
          + f"top cosine {result.top_cosine:.2f}, term coverage {result.coverage:.2f}, "
          f"unknown terms {result.unknown:.2f}",
          file=sys.stderr)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer a question; streams to stdout, then prints sources and timings."""
    from rag_desktop.cli.options import retrieval_settings
    from rag_desktop.session import open_session

    generation = config.GenerationSettings()
    generation = replace(generation, max_tokens=args.max_tokens or generation.max_tokens,
                         n_gpu_layers=args.n_gpu_layers)
    session = open_session(library_dir(args), args.model, generation, retrieval_settings(args),
                           use_cache=not args.no_cache)
    pipe = session.pipeline()
    if not pipe.library.documents():  # the model would answer from nothing
        session.close()
        print(f"error: the library {library_dir(args)} is empty; add PDFs with "
              "`rag-desktop ingest FILE.pdf` (the desktop app starts with a sample manual)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    from rag_desktop.chat.service import ask_in_conversation, turn_json
    from rag_desktop.chat.store import ConversationStore

    cancel = CancelToken()
    stream = None if args.json else (lambda t: print(t, end="", flush=True))
    try:
        with ConversationStore() as store:
            cid, turn = ask_in_conversation(
                pipe, store, args.question, args.conversation, on_token=stream, cancel=cancel,
                k=args.k, bm25_weight=args.bm25_weight, use_cache=not args.no_cache)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    finally:
        session.close()
    if args.json:
        print(json.dumps(turn_json(cid, turn), ensure_ascii=False))
        return 0
    print_answer_footer(turn.answer)
    if turn.query != turn.question:
        print(f"searched for: {turn.query}")
    print(f"conversation {cid[:8]} (continue with --conversation {cid[:8]})")
    return 0


def print_answer_footer(answer: Any) -> None:
    """Sources and timings under a streamed answer."""
    t = answer.timings
    gated = getattr(answer, "refused", False)
    print("\n\nClosest passages (nothing here answers the question):" if gated else "\n\nSources:")
    for s in answer.sources:
        section = f"  {s.section}" if s.section else ""
        print(f"  [{s.rank}] {source_ref(s)}{section}  (fused {s.fused:.4f})")
    if answer.dropped_chunks:
        print(f"  ({answer.dropped_chunks} lower-ranked chunks dropped to fit the context)")
    m = answer.model
    if gated:
        print(f"\nNot sent to {m.id}: the library has nothing relevant to this question "
              f"(retrieval {t.retrieval_s * 1000:.0f} ms). To ask the model anyway, add --no-gate.")
        return
    where = m.backend if m.backend.startswith("server:") else \
        f"{m.quant}, {m.backend}, {m.n_gpu_layers} layers offloaded"
    if answer.coverage:
        print(f"\nnote: {coverage_note(answer)}")
    if getattr(answer, "truncated", False):
        print(f"\nwarning: {m.backend} read fewer prompt tokens ({t.prompt_tokens}) than were "
              "sent: it truncated the prompt; raise its context length (docs/servers.md)")
    print(f"\n{m.id} [{where}]  "
          f"total {t.total_s:.2f}s  retrieval {t.retrieval_s * 1000:.0f} ms  first token "
          f"{t.first_token_s:.2f}s  {t.completion_tokens} tokens  {t.tokens_per_s:.1f} tok/s"
          + ("  (cached)" if answer.cache_hit else ""))


def cmd_models(args: argparse.Namespace) -> int:
    """List the catalog and the GGUFs on disk, or pull one."""
    from rag_desktop.llm.catalog import load_catalog, with_metadata

    if args.action in ("add-server", "remove-server"):
        return _server_entry_command(args)
    if args.action == "pull":
        from rag_desktop.llm.download import pull

        with ProgressBar(unit="B") as bar:
            path = pull(load_catalog().get(args.id), progress=bar)
        print(f"saved {path}")
        return 0
    entries = []
    for e in load_catalog().entries():
        try:
            entries.append(with_metadata(e))
        except Exception:
            entries.append(e)  # a broken file is listed; loading it says what is wrong
    if args.json:
        print(json.dumps({"models": [e.to_json() for e in entries]}))
        return 0
    for e in entries:
        size = f"{e.size_bytes / 1e6:,.0f} MB" if e.size_bytes else "?"
        state = "server" if e.server else "present" if e.present else "not downloaded"
        source = f"{e.server.url} ({e.server.model})" if e.server else e.source
        print(f"{e.id:36} {e.quant or '?':8} {size:>10}  {state:15} {source}")
    return 0


def _server_entry_command(args: argparse.Namespace) -> int:
    """`models add-server URL` (asks the server for its models first) and `remove-server ID`."""
    from rag_desktop.llm.catalog import load_catalog
    from rag_desktop.llm.servers import remove_server

    if not args.id:
        what = "the server's URL" if args.action == "add-server" else "an entry's id"
        print(f"error: `models {args.action}` needs {what}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.action == "remove-server":
        record = remove_server(args.id)
        print(f"removed {record.id} ({record.model} on {record.url})")
        return 0
    from getpass import getpass

    from rag_desktop.llm.server import add_server_entry

    key = getpass("API key (kept in the system keyring): ") if args.ask_api_key else None
    local = {e.id for e in load_catalog().entries() if e.server is None}
    record = add_server_entry(args.id, model=args.server_model, name=args.name,
                              api_key_env=args.api_key_env, key=key,
                              context_length=args.n_ctx, taken=local)
    print(f"added {record.id}: {record.model} on {record.url}; ask with --model {record.id}")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild the library's vectors with the configured embedding model."""
    from rag_desktop.library.embeddings import get_embedder
    from rag_desktop.library.library import Library

    path = library_dir(args)
    lib = Library.open(path, embedder=None, create=False)
    try:
        if args.dense_index:
            lib.set_dense_index(args.dense_index)
            print(f"{path}: dense index {args.dense_index} ({lib.manifest.dense_kind} now)")
            return 0
        with ProgressBar() as bar:
            lib.reindex(get_embedder(args.embedding_model), bar)
    finally:
        lib.close()
    print(f"reindexed {path} with {args.embedding_model}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Integrity check (and repair) of a library."""
    lib = open_library(args, create=False)
    try:
        report = lib.check(repair=args.repair)
    finally:
        lib.close()
    for p in report.problems:
        print(f"problem: {p}")
    for r in report.repaired:
        print(f"repaired: {r}")
    print("ok" if report.ok else "the library has problems; run with --repair")
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    """The full argparse tree (docs/cli.md)."""
    from rag_desktop.cli import args as cli_args

    return cli_args.build_parser(globals())


def main(argv: list[str] | None = None) -> int:
    """Entry point: no arguments opens the desktop app."""
    argv = sys.argv[1:] if argv is None else argv
    config.set_offline(True)
    # pypdf warns about every repairable flaw ("EOF marker not found") without naming the
    # file; the one line per bad file comes from DocumentError instead.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not argv:
        from rag_desktop.gui.app import main as gui_main

        return gui_main()
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except _bad_input_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        from rag_desktop.library.writelock import LibraryBusyError

        return EXIT_BUSY if isinstance(exc, LibraryBusyError) else EXIT_BAD_INPUT
    except (KeyboardInterrupt, Cancelled):
        resume = ("; the pages OCR read are kept: the same ingest goes on from there"
                  if getattr(args, "command", "") == "ingest" else "")
        print(f"stopped{resume}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
