"""Every GPU benchmark job in one table: its name, the steps it runs, and what each step writes.

A step is one `python -m MODULE ARGS` process. Its output file is its record: a step whose output
exists is skipped, so a job cut off by the end of a device call resumes where it stopped. In
ARGS and OUTPUT, `{arch}` is the folder of generated GGUFs, `{res}` the job's results folder,
`{out}` the step's own output and `{nproc}` the machine's cores.

Models are random-weight GGUFs with the exact shapes of TinyLlama-1.1B-Chat (Q5_K_M) and
Mistral-7B-Instruct-v0.2 (Q2_K), written on the machine by benchmarks.make_arch_gguf (they are
too big to carry); `tiny` is the two-layer test model, written in a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TINYLLAMA = "{arch}/tinyllama-arch-Q5_K_M.gguf"
MISTRAL = "{arch}/mistral-arch-Q2_K.gguf"
TINY = "{arch}/tiny-llama-2x64.gguf"
ALL_LAYERS = ["--n-gpu-layers", "-1"]
NO_GPU = {"CUDA_VISIBLE_DEVICES": ""}  # the same CUDA build, seen as a desktop without a GPU


@dataclass(frozen=True)
class Step:
    """One process of a job; `kind` says which table its JSON output goes to (report.py)."""

    name: str
    module: str
    args: list[str]
    kind: str = "raw"  # raw | app | breakdown | profile | server | model
    output: str = "{res}/{name}.json"
    done_if: str = ""  # another file whose presence makes the step unnecessary
    needs_llama: bool = True  # False: may run while llama-cpp-python is still being built
    env: dict[str, str] = field(default_factory=dict)
    cpus: str = ""  # taskset CPU list, to imitate a small desktop
    timeout_s: int = 1800


@dataclass(frozen=True)
class Job:
    """A named list of steps; its tables go to section `gpu-NAME` of docs/performance-gpu.md."""

    name: str
    about: str
    steps: list[Step]


def _f16(arch: str, quant: str) -> Step:
    """The F16 file: numpy and gguf only, so it is written while llama.cpp compiles.

    Quantizing deletes it, so the quantized file also marks it done.
    """
    return Step(f"{arch}-f16", "benchmarks.make_arch_gguf",
                ["--arch", arch, "--quant", "F16", "--out", "{arch}"], kind="model",
                output=f"{{arch}}/{arch}-arch-f16.gguf", needs_llama=False,
                done_if=f"{{arch}}/{arch}-arch-{quant}.gguf")


def _quant(arch: str, quant: str) -> Step:
    return Step(f"{arch}-{quant}", "benchmarks.make_arch_gguf",
                ["--arch", arch, "--quant", quant, "--out", "{arch}"], kind="model",
                output=f"{{arch}}/{arch}-arch-{quant}.gguf")


def _raw(name: str, model: str, label: str, *flags: str, env: dict[str, str] | None = None,
         cpus: str = "") -> Step:
    return Step(name, "benchmarks.raw_llama", [model, "--label", label, *flags, "--json", "{out}"],
                env=env or {}, cpus=cpus)


def _app(name: str, model: str, *flags: str) -> Step:
    return Step(name, "benchmarks.gpu.app_llm_bench", [model, *ALL_LAYERS, *flags,
                                                        "--json", "{out}"], kind="app")


def _breakdown(name: str, model: str) -> Step:
    return Step(name, "benchmarks.gpu.decode_breakdown", [model, *ALL_LAYERS, "--rounds", "5",
                                                          "--json", "{out}"], kind="breakdown")


def _server(name: str, model: str) -> Step:
    return Step(name, "benchmarks.gpu.server_bench", [model, *ALL_LAYERS, "--repeats", "10",
                                                      "--json", "{out}"], kind="server")


MODELS = [_f16("tinyllama", "Q5_K_M"), _f16("mistral", "Q2_K"), _quant("tinyllama", "Q5_K_M"),
          _quant("mistral", "Q2_K")]
TL, MI = "TinyLlama-arch Q5_K_M", "Mistral-7B-arch Q2_K"


def _interleaved(pairs: int) -> list[Step]:
    """Raw and app processes alternating: one process a side cannot show the spread between them."""
    steps = []
    for arch, model, label in (("tinyllama", TINYLLAMA, TL), ("mistral", MISTRAL, MI)):
        for i in range(1, pairs + 1):
            steps.append(_raw(f"raw-{arch}-{i}", model, label, *ALL_LAYERS, "--n-threads", "1",
                              "--prompt-tokens", "256", "--repeats", "3"))
            steps.append(_app(f"app-{arch}-{i}", model, "--repeats", "3"))
        steps.append(_breakdown(f"breakdown-{arch}", model))
    return steps


JOBS: dict[str, Job] = {job.name: job for job in [
    Job("smoke", "the two-layer test model on the GPU: raw loop and the app's path, one round "
        "each (checks the build and the harness in about a minute after the build)", [
            Step("tiny", "benchmarks.make_arch_gguf", ["--tiny", "--out", "{arch}"],
                 kind="model", output=TINY, needs_llama=False),
            _raw("raw-tiny", TINY, "tiny test model", *ALL_LAYERS, "--n-ctx", "256",
                 "--prompt-tokens", "64", "--stream-prompt-tokens", "32", "--gen-tokens", "16",
                 "--repeats", "1"),
            _app("app-tiny", TINY, "--repeats", "1", "--prompt-tokens", "64",
                 "--gen-tokens", "16"),
        ]),
    Job("speed", "raw llama-cpp-python on the GPU and on every CPU core, flash attention, "
        "partial offload, and the app's own path (rag_desktop.llm → runner child)", [
            *MODELS,
            _raw("raw-tinyllama-gpu", TINYLLAMA, TL, *ALL_LAYERS, "--n-threads", "{nproc}",
                 "--repeats", "5"),
            _raw("raw-mistral-gpu", MISTRAL, MI, *ALL_LAYERS, "--n-threads", "{nproc}",
                 "--repeats", "5"),
            _raw("raw-tinyllama-cpu", TINYLLAMA, TL + ", no GPU", "--n-threads", "{nproc}",
                 env=NO_GPU),
            _raw("raw-mistral-cpu", MISTRAL, MI + ", no GPU", "--n-threads", "{nproc}",
                 env=NO_GPU),
            _app("app-tinyllama-gpu", TINYLLAMA, "--repeats", "5"),
            _app("app-mistral-gpu", MISTRAL, "--repeats", "5"),
            _raw("raw-tinyllama-gpu-fa", TINYLLAMA, TL + ", flash attention", *ALL_LAYERS,
                 "--flash-attn", "--repeats", "5"),
            _raw("raw-tinyllama-gpu-ngl11", TINYLLAMA, TL + ", 11 of 22 layers on the GPU",
                 "--n-gpu-layers", "11", "--repeats", "3"),
        ]),
    Job("interleaved", "five raw and five app processes alternating per model, then both decode "
        "loops in one process (decode_breakdown)", [*MODELS, *_interleaved(5)]),
    Job("server", "the app in-process against the app through `python -m llama_cpp.server` "
        "(the same CUDA build) on the same GPU, two processes per model, rounds alternating", [
            *MODELS,
            *[_server(f"server-{arch}-{i}", model) for arch, model in
              (("tinyllama", TINYLLAMA), ("mistral", MISTRAL)) for i in (1, 2)],
        ]),
    Job("desktop", "a 2-core desktop without a GPU (taskset, GPU hidden): n_batch 512 against 8, "
        "and where a streamed token's time goes on the GPU (profile_stream)", [
            *MODELS[::2],
            _raw("raw-tinyllama-2c-b512", TINYLLAMA, TL + ", 2 cores, n_batch 512",
                 "--n-threads", "2", "--n-batch", "512", "--repeats", "2", env=NO_GPU,
                 cpus="0,1"),
            _raw("raw-tinyllama-2c-b8", TINYLLAMA, TL + ", 2 cores, n_batch 8",
                 "--n-threads", "2", "--n-batch", "8", "--repeats", "2", env=NO_GPU,
                 cpus="0,1"),
            Step("profile-tinyllama", "benchmarks.gpu.profile_stream",
                 [TINYLLAMA, *ALL_LAYERS, "--json", "{out}"], kind="profile"),
        ]),
]}
