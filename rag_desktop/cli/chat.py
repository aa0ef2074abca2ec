"""Conversations on the command line: `chat` (a REPL), `conversations`, and their arguments.

Thin wrappers over rag_desktop.chat.service; every turn is saved as it ends, in the same store
the desktop app uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rag_desktop import config
from rag_desktop.cli.options import add_library, add_retrieval, library_dir, retrieval_settings


def register(sub: Any) -> None:
    """Add `chat` and `conversations` to the sub-command parser."""
    p = sub.add_parser("chat", help="a conversation in the terminal: /new /sources /model /save")
    p.set_defaults(handler=cmd_chat)
    add_library(p)
    p.add_argument("--model", default=config.DEFAULT_MODEL_ID, metavar="ID")
    p.add_argument("--conversation", metavar="ID", help="continue a saved conversation")
    add_retrieval(p)
    p.add_argument("--max-tokens", type=int, default=None, metavar="N")
    p = sub.add_parser("conversations", help="list saved conversations, or export one")
    p.set_defaults(handler=cmd_conversations)
    p.add_argument("action", nargs="?", choices=["list", "export"], default="list")
    p.add_argument("id", nargs="?", metavar="ID", help="the conversation (an id or its prefix)")
    p.add_argument("--format", choices=["md", "csv"], default="md")
    p.add_argument("--output", metavar="PATH", help="write the export here (else stdout)")
    p.add_argument("--json", action="store_true")


def not_found_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "no such conversation": the CLI reports them as bad input."""
    from rag_desktop.chat.store import ConversationNotFound

    return (ConversationNotFound,)


def cmd_conversations(args: argparse.Namespace) -> int:
    """List the saved conversations (newest first), or export one as Markdown or CSV."""
    from rag_desktop.chat.service import export_conversation, list_json, list_lines
    from rag_desktop.chat.store import ConversationStore

    with ConversationStore() as store:
        if args.action == "export":
            if not args.id:
                print("error: conversations export needs an ID (`rag-desktop conversations` "
                      "lists them)", file=sys.stderr)
                return 2
            out = Path(args.output).expanduser() if args.output else None
            text = export_conversation(store, args.id, args.format, out)
            if out is None:
                sys.stdout.write(text)
            else:
                print(f"wrote {out}", file=sys.stderr)
            return 0
        if args.json:
            print(json.dumps({"conversations": list_json(store)}, ensure_ascii=False))
        else:
            print("\n".join(list_lines(store)) or "no conversations yet")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """A REPL on one session: questions stream their answers; each turn is saved."""
    from dataclasses import replace

    from rag_desktop.chat.service import ChatRepl
    from rag_desktop.chat.store import ConversationStore
    from rag_desktop.session import open_session

    generation = config.GenerationSettings()
    generation = replace(generation, max_tokens=args.max_tokens or generation.max_tokens)
    session = open_session(library_dir(args), args.model, generation, retrieval_settings(args))
    try:
        with ConversationStore() as store:
            repl = ChatRepl(session.pipeline(), store, _write, args.conversation,
                            ask={"k": args.k, "bm25_weight": args.bm25_weight})
            if sys.stdin.isatty():
                print("Ask a question; /help lists the commands, /quit ends.", file=sys.stderr)
            repl.run(_lines())
            if repl.conversation_id:
                print(f"conversation {repl.conversation_id[:8]} saved", file=sys.stderr)
    finally:
        session.close()
    return 0


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _lines() -> Any:
    """Lines from stdin, with a prompt on a terminal; ends at EOF."""
    while True:
        try:
            yield input("> " if sys.stdin.isatty() else "")
        except EOFError:
            return
