"""Evaluation outputs: results.csv (flushed row by row), summary, seed form, run.json, plots."""

from __future__ import annotations

import csv
import io
import json
import platform
import secrets
import shutil
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag_desktop.evaluation.grid import EvalError, config_label
from rag_desktop.evaluation.results import (
    RESULTS_COLUMNS,
    SUMMARY_COLUMNS,
    EvalRow,
    RowKey,
    SummaryRow,
    row_from_csv,
    row_to_csv,
    summarize,
)
from rag_desktop.fsutil import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    from rag_desktop.evaluation.results import EvalConfig
    from rag_desktop.library.library import Library

SEED_COLUMNS = ("model", "question", "cosine", "resp_time")


def _csv_text(columns: tuple[str, ...], records: list[dict[str, str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    # RFC 4180 line ends: with "\n" alone, the csv module would leave a lone "\r" unquoted.
    writer = csv.DictWriter(buf, fieldnames=columns, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    return buf.getvalue()


def read_results(path: Path) -> list[EvalRow]:
    """Parse a results.csv; EvalError naming the line when it is not one of ours."""
    with path.open(encoding="utf-8", newline="") as f:  # keeps a "\r" inside an answer
        text = f.read()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != RESULTS_COLUMNS:
        raise EvalError(f"{path}: its columns are not this version's results.csv columns; "
                        "choose another --out")
    rows: list[EvalRow] = []
    for record in reader:
        try:
            rows.append(row_from_csv(record))
        except (ValueError, TypeError) as exc:
            raise EvalError(f"{path}:{reader.line_num}: bad row: {exc}") from exc
    return rows


class ResultsWriter:
    """results.csv, rewritten atomically (temp, fsync, rename) after every row.

    A kill at any moment leaves the file with whole rows only, so a resumed run neither
    redoes nor duplicates a row. Rewriting costs far less than answering one question.
    """

    def __init__(self, path: Path, resume: bool) -> None:
        self.path = path
        self.rows: list[EvalRow] = []
        if path.exists():
            if not resume:
                raise EvalError(f"{path} already exists; pass --resume to continue that run, "
                                "or choose another --out")
            seen: set[RowKey] = set()
            for row in read_results(path):
                if row.key not in seen:
                    seen.add(row.key)
                    self.rows.append(row)
        self._keys = {r.key for r in self.rows}
        self._text = _csv_text(RESULTS_COLUMNS, [row_to_csv(r) for r in self.rows])

    def keys(self) -> set[RowKey]:
        """The (model_id, config, question_id) of every row already written."""
        return set(self._keys)

    def run_identity(self) -> tuple[str, str] | None:
        """(run_id, started_at) of a resumed run, None for a new one."""
        return (self.rows[0].run_id, self.rows[0].started_at) if self.rows else None

    def check_compatible(self, k: int) -> None:
        """A resumed run must keep -k, or its rows would not be comparable."""
        other = {r.k for r in self.rows} - {k}
        if other:
            raise EvalError(f"{self.path} was made with -k {other.pop()}; resume with the same "
                            "-k or choose another --out")

    def append(self, row: EvalRow) -> None:
        """Add one row and flush the whole file atomically."""
        if row.key in self._keys:
            raise EvalError(f"row {row.key} is already in {self.path}")
        text = self._text + _csv_text(RESULTS_COLUMNS, [row_to_csv(row)]).split("\n", 1)[1]
        atomic_write_text(self.path, text)
        self._text = text
        self.rows.append(row)
        self._keys.add(row.key)


def summary_to_csv(summary: SummaryRow) -> dict[str, str]:
    """Cells of a summary row: floats at full precision, None as empty."""
    out = {}
    for name in SUMMARY_COLUMNS:
        value = getattr(summary, name)
        out[name] = "" if value is None else repr(value) if isinstance(value, float) else str(value)
    return out


def seed_records(rows: list[EvalRow]) -> list[dict[str, str]]:
    """Seed 004's rows; the model cell names the config too when the run has several."""
    several = len({r.config for r in rows}) > 1

    def cell(x: float | None) -> str:
        return "" if x is None else f"{x:.6f}"

    return [{"model": f"{r.model_id} {r.config}" if several else r.model_id,
             "question": r.question, "cosine": cell(r.cosine),
             "resp_time": cell(r.response_time_s)} for r in rows]


def write_reports(out_dir: Path, rows: list[EvalRow], run_info: dict[str, Any]) -> list[Path]:
    """Write results.csv, summary.csv, results-seed.csv, run.json and the plots; return paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / n for n in ("results.csv", "summary.csv", "results-seed.csv", "run.json")]
    atomic_write_text(paths[0], _csv_text(RESULTS_COLUMNS, [row_to_csv(r) for r in rows]))
    summary = summarize(rows)
    atomic_write_text(paths[1], _csv_text(SUMMARY_COLUMNS, [summary_to_csv(s) for s in summary]))
    atomic_write_text(paths[2], _csv_text(SEED_COLUMNS, seed_records(rows), delimiter=";"))
    info = dict(run_info)
    info["rows"] = len(rows)
    info["backends"] = sorted({r.backend for r in rows if r.backend})
    atomic_write_text(paths[3], json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return paths + write_plots(out_dir, rows, summary)


# -- run.json -----------------------------------------------------------------------------


def new_run_id() -> tuple[str, str]:
    """A fresh (run_id, started_at): UTC timestamp plus random hex, and ISO time."""
    now = datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}", now.isoformat(timespec="seconds")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpus() -> list[str]:
    """NVIDIA GPUs as 'name, memory' (nvidia-smi); empty when there is none or no driver."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def machine_info() -> dict[str, Any]:
    """CPU model, cores, RAM and GPUs of this machine."""
    import psutil

    return {"os": platform.platform(), "python": platform.python_version(),
            "cpu": _cpu_model(), "physical_cores": psutil.cpu_count(logical=False),
            "logical_cores": psutil.cpu_count(logical=True),
            "ram_gib": round(psutil.virtual_memory().total / 2**30, 1), "gpus": _gpus()}


def versions() -> dict[str, str | None]:
    """Versions of the app and of the libraries that shape the numbers."""
    from importlib import metadata

    from rag_desktop import __version__

    out: dict[str, str | None] = {"rag-desktop": __version__}
    for dist in ("llama-cpp-python", "sentence-transformers", "torch", "faiss-cpu"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def run_info(cfg: EvalConfig, library: Library, run_id: str, started_at: str,
             total_rows: int) -> dict[str, Any]:
    """The run.json document, less the finishing fields that run_evaluation adds."""
    from rag_desktop.evaluation.scoring import scorer_model

    return {
        "run_id": run_id, "started_at": started_at, "machine": machine_info(),
        "versions": versions(),
        "library": {"path": str(library.path), "version": library.version,
                    "manifest": asdict(library.manifest),
                    "documents": [{"name": d.name, "sha256": d.sha256, "pages": d.pages,
                                   "chunks": d.chunks} for d in library.documents()]},
        "settings": {"models": list(cfg.models), "bm25_weights": list(cfg.bm25_weights),
                     "fusions": list(cfg.fusions),
                     "configs": [config_label(w, f) for f in cfg.fusions for w in cfg.bm25_weights],
                     "k": cfg.k,
                     "limit": cfg.limit, "questions_file": cfg.questions_file,
                     "n_questions": min(len(cfg.questions), cfg.limit or len(cfg.questions)),
                     "scorer_model": scorer_model(cfg.scorer_model),
                     "scorer_model_asked": cfg.scorer_model,
                     "use_cache": cfg.use_cache, "max_tokens": cfg.max_tokens,
                     "n_gpu_layers": cfg.n_gpu_layers, "total_rows": total_rows},
    }


# -- plots (matplotlib Agg through Figure objects: no pyplot, no global backend switch) ----


def cjk_font_file() -> Path | None:
    """NanumGothic from koreanize-matplotlib's folder (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or spec.origin is None:
        return None
    font = Path(spec.origin).parent / "fonts" / "NanumGothic.ttf"
    return font if font.is_file() else None


def plot_rc() -> dict[str, Any]:
    """rcParams for readable plots: DejaVu Sans, then NanumGothic for Hangul glyphs."""
    from matplotlib import font_manager

    families = ["DejaVu Sans"]
    font = cjk_font_file()
    if font is not None:
        font_manager.fontManager.addfont(str(font))
        families.append(font_manager.FontProperties(fname=str(font)).get_name())
    return {"font.family": families, "axes.unicode_minus": False, "font.size": 10,
            "axes.titlesize": 12, "figure.dpi": 100}


def _label(model_id: str, config: str | None = None, width: int = 22) -> str:
    import textwrap

    text = "\n".join(textwrap.wrap(model_id, width)) or model_id
    return f"{text}\n{config}" if config else text


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(min(width, 28.0), height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _plot_cosine(rows: list[EvalRow]) -> Any:
    """Grouped bars: cosine per question, one bar per (model, config)."""
    groups = list(dict.fromkeys((r.model_id, r.config) for r in rows))
    qids = list(dict.fromkeys(r.question_id for r in rows))
    value = {(r.model_id, r.config, r.question_id): r.cosine for r in rows}
    fig = _new_figure(max(8.0, 4.5 + len(qids) * (0.3 + 0.15 * len(groups))), 5.2)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(groups))
    for i, (model_id, config) in enumerate(groups):
        ys = [value.get((model_id, config, q)) for q in qids]
        xs = [j + (i - (len(groups) - 1) / 2) * width for j in range(len(qids))]
        ax.bar(xs, [y if y is not None else 0.0 for y in ys], width,
               label=_label(model_id, config, 30))
    ax.set_xticks(range(len(qids)), qids, rotation=60, ha="right", rotation_mode="anchor")
    ax.set_xlim(-0.6, len(qids) - 0.4)
    ax.set_ylim(min([0.0, *(v for v in value.values() if v is not None)]), 1.0)
    ax.set_ylabel("cosine(answer, reference)")
    ax.set_title("Cosine similarity per question (empty: error or refusal item)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    return fig


def _plot_times(rows: list[EvalRow]) -> Any:
    """Box plot of response_time_s per model, with the single answers as dots."""
    models = list(dict.fromkeys(r.model_id for r in rows))
    data = [[r.response_time_s for r in rows if r.model_id == m and r.response_time_s
             is not None] for m in models]
    fig = _new_figure(3 + 1.6 * len(models), 5.0)
    ax = fig.add_subplot()
    ax.boxplot([d or [0.0] for d in data], showfliers=False)
    for i, d in enumerate(data, start=1):
        ax.plot([i + 0.08 * ((j % 5) - 2) for j in range(len(d))], d, "o", alpha=0.5,
                markersize=4, color="tab:blue")
    ax.set_xticks(range(1, len(models) + 1), [_label(m) for m in models])
    ax.set_ylabel("response time (s, end to end)")
    ax.set_title("Response time per model")
    ax.grid(axis="y", alpha=0.3)
    return fig


def summary_labels(summary: list[SummaryRow]) -> tuple[list[str], str]:
    """Short unique x labels ("M1\nw=0.3\nrrf"), and the key that names each Mi in full.

    Wrapped model ids plus the configuration made labels wider than their slot, so an exported
    plot-summary.png drew them over each other.
    """
    codes: dict[str, str] = {}
    labels = []
    for s in summary:
        code = codes.setdefault(s.model_id, f"M{len(codes) + 1}")
        fusion = s.config.split("-bm25-")[0] if "-bm25-" in s.config else ""
        labels.append("\n".join(filter(None, [code, f"w={s.bm25_weight:g}", fusion])))
    key = "    ".join(f"{code} = {model}" for model, code in codes.items())
    if len(set(labels)) == len(labels):
        return labels, key + "\nw = BM25 weight (dense 1 − w); rrf: rank fusion, else convex"
    labels = [f"C{i}" for i in range(1, len(summary) + 1)]  # configs the short form can't tell
    return labels, "\n".join(f"C{i} = {s.model_id}, {s.config}"
                             for i, s in enumerate(summary, start=1))


def _untangle_ticks(fig: Any) -> None:
    """Turn the x labels upright when, drawn level, any two of them would overlap."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for ax in fig.axes for t in ax.get_xticklabels()]
    if any(min(a.x1, b.x1) > max(a.x0, b.x0) and min(a.y1, b.y1) > max(a.y0, b.y0)
           for i, a in enumerate(boxes) for b in boxes[i + 1:]):
        for ax in fig.axes:
            ax.set_xticks(ax.get_xticks(), [t.get_text().replace("\n", " ")
                                            for t in ax.get_xticklabels()], rotation=90)


def summary_figure(summary: list[SummaryRow]) -> Any:
    """plot-summary.png: quality per (model, config) left, median and p95 time right."""
    labels, key = summary_labels(summary)
    fig = _new_figure(max(9.0, 3 + 1.6 * len(summary)), 5.6)
    left, right = fig.subplots(1, 2, width_ratios=[2, 1])
    metrics = [("mean cosine", [s.cosine_mean for s in summary]),
               ("page-hit rate", [s.page_hit_rate for s in summary]),
               ("refusal accuracy", [s.refusal_accuracy for s in summary]),
               ("mean grounded", [s.grounded_mean for s in summary])]
    width = 0.8 / len(metrics)
    for i, (name, values) in enumerate(metrics):
        xs = [j + (i - (len(metrics) - 1) / 2) * width for j in range(len(summary))]
        bars = left.bar(xs, [v or 0.0 for v in values], width, label=name)
        left.bar_label(bars, labels=["-" if v is None else f"{v:.2f}" for v in values],
                       fontsize=7, rotation=90 if len(summary) > 4 else 0, padding=2)
    left.set_ylim(0, 1.3)
    left.set_title("Answer quality")
    left.legend(loc="upper center", ncol=len(metrics) if len(summary) > 4 else 2, fontsize=9)
    med = [s.response_time_median_s or 0.0 for s in summary]
    p95 = [s.response_time_p95_s or 0.0 for s in summary]
    right.bar(range(len(summary)), med, 0.6, label="median", color="tab:gray")
    right.plot(range(len(summary)), p95, "v", color="tab:red", label="p95")
    right.set_ylim(0, 1.3 * max([*p95, *med, 1e-3]))
    right.set_ylabel("response time (s)")
    right.set_title("Speed")
    right.legend(loc="upper center", ncol=2, fontsize=9)
    for ax in (left, right):
        ax.set_xticks(range(len(summary)), labels)
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(axis="x", labelsize=8)
    fig.supxlabel(key, fontsize=8)
    _untangle_ticks(fig)
    return fig


PLOT_FILES = ("plot-cosine.png", "plot-response-time.png", "plot-summary.png")


def write_plots(out_dir: Path, rows: list[EvalRow], summary: list[SummaryRow]) -> list[Path]:
    """The three PNG plots (none when there are no rows); each written atomically."""
    import matplotlib

    if not rows:
        return []
    paths = []
    rc: Any = plot_rc()
    with matplotlib.rc_context(rc):
        figures = (_plot_cosine(rows), _plot_times(rows), summary_figure(summary))
        for name, fig in zip(PLOT_FILES, figures, strict=True):
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            path = out_dir / name
            atomic_write_bytes(path, buf.getvalue())
            paths.append(path)
    return paths
