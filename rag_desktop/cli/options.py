"""The options several sub-commands share, and what they resolve to."""

from __future__ import annotations

import argparse
from pathlib import Path

from rag_desktop import config


def add_library(p: argparse.ArgumentParser) -> None:
    """--library DIR."""
    p.add_argument("--library", metavar="DIR", help="library folder (default: the 'default' "
                   "library under the user data dir; RAG_DESKTOP_HOME moves it)")


def add_retrieval(p: argparse.ArgumentParser) -> None:
    """-k, --bm25-weight, --fusion, --no-gate."""
    r = config.RetrievalSettings()
    p.add_argument("-k", type=int, default=r.k, help=f"chunks to return (default {r.k})")
    p.add_argument("--bm25-weight", type=float, default=r.bm25_weight,
                   help=f"BM25 weight w; dense gets 1-w (default {r.bm25_weight})")
    p.add_argument("--fusion", choices=["convex", "rrf"], default=r.fusion,
                   help="'convex': normalised scores, one chunk per page, each leg's best kept "
                   "(the measured default); 'rrf': LangChain's EnsembleRetriever as the design "
                   f"card specifies it (docs/retrieval.md); default {r.fusion}")
    p.add_argument("--no-gate", action="store_true",
                   help="never refuse before asking the model, even when nothing relevant is found")


def retrieval_settings(args: argparse.Namespace) -> config.RetrievalSettings:
    """The retrieval settings that the common flags ask for."""
    from dataclasses import replace

    settings = replace(config.RetrievalSettings(), k=args.k, bm25_weight=args.bm25_weight,
                       gate=not args.no_gate)
    return config.with_fusion(settings, args.fusion)


def library_dir(args: argparse.Namespace) -> Path:
    """--library DIR, else the "default" library under the per-user data dir."""
    return Path(args.library).expanduser() if args.library else config.default_library_dir()
