"""The `eval` and `bench models|embeddings` sub-commands: arguments, progress bar, exit codes."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag_desktop import config
from rag_desktop.cli.progress import ProgressBar
from rag_desktop.progress import Cancelled, CancelToken

EXIT_BAD_INPUT = 2
EXIT_STOPPED = 130


def _sigint_cancels(cancel: CancelToken) -> Callable[[], None]:
    """First Ctrl-C: stop cleanly (the unfinished answer is dropped); second: at once.

    Returns a function that puts the previous handler back.
    """

    def handler(signum: int, frame: Any) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        print("\nstopping: finished rows are kept, the unfinished answer is dropped "
              "(Ctrl-C again to quit now)", file=sys.stderr, flush=True)
        # cancel() sends the runner a stop; a thread avoids taking the pipe lock that the
        # interrupted main thread may hold. The flag itself is set before the join returns.
        worker = threading.Thread(target=cancel.cancel, daemon=True)
        worker.start()
        worker.join(1.0)

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    old = signal.signal(signal.SIGINT, handler)

    def undo() -> None:
        signal.signal(signal.SIGINT, old)

    return undo


def _bad(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def split_list(text: str | None) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c']."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def resolve_models(text: str | None) -> list[str]:
    """Model ids from --models; 'all' means every model whose file is on this machine (a
    server entry is named explicitly: 'all' never sends a question over the network)."""
    from rag_desktop.llm.catalog import load_catalog

    ids = split_list(text) or [config.DEFAULT_MODEL_ID]
    catalog = load_catalog()
    if ids == ["all"]:
        return [e.id for e in catalog.entries() if e.present and e.server is None]
    for model_id in ids:
        catalog.get(model_id)  # UnknownModelError names the known ids
    return ids


def cmd_eval(args: argparse.Namespace) -> int:
    """Run the evaluation grid and print the summary; exit 2 for bad input, 130 when stopped."""
    from rag_desktop.evaluation.grid import EvalError
    from rag_desktop.evaluation.questions import QuestionFileError, load_questions
    from rag_desktop.evaluation.results import EvalConfig
    from rag_desktop.evaluation.run import run_evaluation

    try:
        weights = config.parse_weights(args.bm25_weights, "--bm25-weights")
        questions = load_questions(Path(args.questions))
        models = resolve_models(args.models)
    except (ValueError, QuestionFileError) as exc:
        return _bad(str(exc))
    library = Path(args.library).expanduser() if args.library else config.default_library_dir()
    cfg = EvalConfig(library=library, questions=questions, models=models,
                     out_dir=Path(args.out).expanduser(), bm25_weights=weights,
                     fusions=[f.strip() for f in args.fusions.split(",") if f.strip()], k=args.k,
                     resume=args.resume, use_cache=args.cache, limit=args.limit,
                     scorer_model=args.scorer, max_tokens=args.max_tokens,
                     n_gpu_layers=args.n_gpu_layers, questions_file=str(args.questions))
    cancel = CancelToken()
    undo = _sigint_cancels(cancel)
    try:
        with ProgressBar() as bar:
            rows = run_evaluation(cfg, bar, cancel)
    except EvalError as exc:
        return _bad(str(exc))
    except Cancelled:
        print(f"stopped; finished rows are in {cfg.out_dir / 'results.csv'}; continue with "
              "--resume", file=sys.stderr)
        return EXIT_STOPPED
    finally:
        undo()
    print_summary(rows, cfg.out_dir)
    return 0


def print_summary(rows: list[Any], out_dir: Path) -> None:
    """The summary table on stdout, then where the files are."""
    from rag_desktop.evaluation.results import summarize

    def f(x: float | None, spec: str) -> str:
        return "-" if x is None else format(x, spec)

    print(f"{'model':34} {'config':16} {'n':>4} {'err':>4} {'cosine':>7} {'hit':>5} "
          f"{'refuse':>6} {'ground':>6} {'median s':>8} {'p95 s':>7} {'tok/s':>6}")
    for s in summarize(rows):
        print(f"{s.model_id:34} {s.config:16} {s.n:4d} {s.errors:4d} "
              f"{f(s.cosine_mean, '.3f'):>7} {f(s.page_hit_rate, '.2f'):>5} "
              f"{f(s.refusal_accuracy, '.2f'):>6} {f(s.grounded_mean, '.2f'):>6} "
              f"{f(s.response_time_median_s, '.2f'):>8} "
              f"{f(s.response_time_p95_s, '.2f'):>7} {f(s.tokens_per_s_mean, '.1f'):>6}")
    print(f"\nwrote {out_dir}/results.csv, summary.csv, results-seed.csv, run.json, plot-*.png")


def cmd_bench_models(args: argparse.Namespace) -> int:
    """Benchmark GGUF models: metadata, load time, memory, speed, JSON validity."""
    from rag_desktop.evaluation import bench

    ids = split_list(args.models) or None
    try:
        with ProgressBar() as bar:
            paths = bench.bench_models(ids, Path(args.out).expanduser(), bar,
                                       max_tokens=args.max_tokens,
                                       n_gpu_layers=args.n_gpu_layers)
    except ValueError as exc:
        return _bad(str(exc))
    print(paths[1].read_text(encoding="utf-8"))
    return 0


def _bench_sets(args: argparse.Namespace) -> list[Any]:
    """The --set PDF QUESTIONS pairs (and --pdf/--questions); the packaged sample by default."""
    from rag_desktop.evaluation.bench import BenchSet
    from rag_desktop.evaluation.questions import load_questions

    if (args.pdf is None) != (args.questions is None):
        raise ValueError("--pdf and --questions go together (or use --set PDF QUESTIONS)")
    pairs = [tuple(p) for p in args.sets or []]
    if args.pdf is not None:
        pairs.append((args.pdf, args.questions))
    if not pairs:
        from rag_desktop.samples import sample_pdf, sample_questions

        pairs = [(str(sample_pdf()), str(sample_questions()))]
    sets = []
    for pdf, questions in pairs:
        path = Path(pdf).expanduser()
        if not path.is_file():
            raise ValueError(f"{pdf}: no such PDF")
        sets.append(BenchSet(path.stem, path, load_questions(Path(questions).expanduser())))
    return sets


def cmd_bench_embeddings(args: argparse.Namespace) -> int:
    """Benchmark embedding models on one or more PDFs with their question sets."""
    from rag_desktop.evaluation import bench
    from rag_desktop.evaluation.questions import QuestionFileError

    try:
        with ProgressBar() as bar:  # an unknown embedding model id is a ValueError too
            paths = bench.bench_embeddings(_bench_sets(args), split_list(args.models) or None,
                                           Path(args.out).expanduser(), bar)
    except (ValueError, QuestionFileError) as exc:
        return _bad(str(exc))
    print(paths[1].read_text(encoding="utf-8"))
    return 0


def _add_eval(sub: Any) -> None:
    p = sub.add_parser("eval", help="score models against reference answers (docs/evaluation.md)",
                       description="Run models x BM25 weights x questions; write results.csv, "
                       "summary.csv, results-seed.csv, run.json and plots into --out.")
    p.set_defaults(handler=cmd_eval)
    p.add_argument("--library", metavar="DIR", help="library folder (default: the default library)")
    p.add_argument("--questions", required=True, metavar="FILE", help=".csv or .jsonl question set")
    p.add_argument("--models", default=config.DEFAULT_MODEL_ID, metavar="ID[,ID...]",
                   help=f"model ids, or 'all' present ones (default {config.DEFAULT_MODEL_ID})")
    w = config.RetrievalSettings().bm25_weight
    p.add_argument("--fusions", default=config.RetrievalSettings().fusion, metavar="F[,F...]",
                   help="fusions to compare: 'convex' (the default) and/or 'rrf' (LangChain's "
                   "EnsembleRetriever as specified; docs/retrieval.md)")
    p.add_argument("--bm25-weights", default=str(w), metavar="W[,W...]",
                   help=f"BM25 weights to compare; dense gets 1-W (default {w})")
    p.add_argument("-k", type=int, default=config.RetrievalSettings().k,
                   help="chunks per answer (default %(default)s)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the outputs")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    cache = p.add_mutually_exclusive_group()
    cache.add_argument("--no-cache", dest="cache", action="store_false", default=False,
                       help="do not use the answer cache (the default: timings stay real)")
    cache.add_argument("--cache", dest="cache", action="store_true",
                       help="reuse and fill the answer cache")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="first N questions only")
    p.add_argument("--scorer", default=config.SCORER_MODEL, metavar="MODEL",
                   help="embedding model for the answer cosine (default: the multilingual "
                   "%(default)s)")
    p.add_argument("--max-tokens", type=int, default=None, metavar="N")
    p.add_argument("--n-gpu-layers", type=int, default=None, metavar="N")


def register(subparsers: Any) -> None:
    """Add `eval` and `bench models|embeddings` to the CLI's sub-command tree."""
    _add_eval(subparsers)
    bench = subparsers.add_parser("bench", help="benchmark models or embedding models",
                                  description="Benchmark LLMs (bench models) or embedding "
                                  "models (bench embeddings); CSV and Markdown into --out.")
    kinds = bench.add_subparsers(dest="bench_kind", required=True)
    p = kinds.add_parser("models", help="GGUF models: load time, memory, tokens/s, JSON")
    p.set_defaults(handler=cmd_bench_models)
    p.add_argument("--models", default=None, metavar="ID[,ID...]",
                   help="model ids (default: every model on this machine)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--max-tokens", type=int, default=64, metavar="N",
                   help="tokens to generate per prompt (default %(default)s)")
    p.add_argument("--n-gpu-layers", type=int, default=None, metavar="N")
    p = kinds.add_parser("embeddings", help="embedding models: hit@k, MRR, speed, memory, "
                         "truncated chunks", description="Each embedding model in a fresh "
                         "process, dense retrieval only, on each PDF and its question set.")
    p.set_defaults(handler=cmd_bench_embeddings)
    p.add_argument("--set", dest="sets", nargs=2, action="append", metavar=("PDF", "QUESTIONS"),
                   help="a manual and its question file; repeat for several (default: the "
                   "packaged sample manual and its questions)")
    p.add_argument("--pdf", default=None, metavar="PDF", help="same as --set PDF QUESTIONS")
    p.add_argument("--questions", default=None, metavar="FILE")
    p.add_argument("--models", default=None, metavar="ID[,ID...]",
                   help="embedding model ids or local folders (default: every packaged one)")
    p.add_argument("--out", required=True, metavar="DIR")
