"""Answer format benchmark: prompt layouts, the repetition stopper and the passage token budget,
measured with the packaged models on the dev sets (docs/generation.md).

    python -m benchmarks.answer_format passages            # retrieve once, keep the passages
    python -m benchmarks.answer_format generate --model gemma3-270m-q4_k_m --formats chat,completion
    python -m benchmarks.answer_format report              # echo, loops, cosine, tokens
    python -m benchmarks.answer_format budget              # prompt tokens and evidence kept

Generations are recorded raw (the repetition stopper off) so that every stopping rule can be
replayed on the same answers; the answers are scored after the default rule has cut them.
"""

from __future__ import annotations

import argparse
import codecs
import json
import re
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.devsets import dev_sets
from rag_desktop.config import GenerationSettings
from rag_desktop.language import detect_language, refusal_sentence
from rag_desktop.llm.catalog import load_catalog
from rag_desktop.llm.client import LLM, Rendered
from rag_desktop.llm.decoder import RepetitionGuard, RepetitionRule
from rag_desktop.llm.prompts import (
    EXAMPLES,
    INSTRUCTIONS,
    build_messages,
    render_completion,
)

OUT = Path("/tmp/answer_format")
FORMATS = ("chat", "chat-1shot", "completion-0shot", "completion")
ECHO_WORDS = 8  # a run of this many words of the instruction (or the example) is an echo


def _passages_file(out: Path) -> Path:
    return out / "passages.json"


def cmd_passages(args: argparse.Namespace) -> None:
    """Retrieve the top 4 chunks of every dev question with the current default settings."""
    from rag_desktop.library.embeddings import get_embedder
    from rag_desktop.library.library import Library

    embedder = get_embedder()
    rows = []
    for devset in dev_sets():
        lib = Library.open(args.out / "libs" / devset.name, embedder)
        if not lib.documents():
            lib.add_pdf(devset.pdf)
        for item in devset.items():
            hits = lib.search(item["question"], k=4).hits
            rows.append({**item, "set": devset.name, "language": devset.language,
                         "passages": [[f"{h.chunk.file} p. {h.chunk.page}", h.chunk.text]
                                      for h in hits]})
        lib.close()
    _passages_file(args.out).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    print(f"{len(rows)} questions")


def _items(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(_passages_file(args.out).read_text(encoding="utf-8"))
    by_set: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_set.setdefault(row["set"], []).append(row)
    picked = []
    for name, items in by_set.items():
        if args.sets and name not in args.sets.split(","):
            continue
        answerable = [r for r in items if r["reference_answer"] != "NOT_IN_DOCUMENT"]
        outside = [r for r in items if r["reference_answer"] == "NOT_IN_DOCUMENT"]
        picked += answerable[: args.limit] + outside[: args.outside]
    return picked


def _render(llm: LLM, fmt: str, question: str, passages: list[tuple[str, str]]) -> Rendered:
    messages = build_messages(question, passages)
    if fmt == "completion-0shot":
        return llm.render_text(render_completion(messages, shots=0))
    if fmt == "chat-1shot":
        lang = detect_language(question)
        passage, example_q, example_a = EXAMPLES[lang]
        shot = build_messages(example_q, [("example.pdf p. 1", passage)], lang)[1]
        messages = [messages[0], shot, {"role": "assistant", "content": example_a},
                    messages[1]]
    return llm.render(messages)


def cmd_generate(args: argparse.Namespace) -> None:
    """Record raw answers for one model in each format."""
    entry = load_catalog().get(args.model)
    settings = GenerationSettings(max_tokens=args.max_tokens, n_ctx_cap=4096)
    items = _items(args)
    with LLM() as llm:
        for fmt in args.formats.split(","):
            prompt_format = "completion" if fmt.startswith("completion") else "chat"
            llm.load(replace(entry, prompt_format=prompt_format), settings)
            out = args.out / f"raw-{args.model}-{fmt}.jsonl"
            with out.open("w", encoding="utf-8") as f:
                for item in items:
                    passages = [tuple(p) for p in item["passages"]]
                    rendered = _render(llm, fmt, item["question"], passages)  # type: ignore[arg-type]
                    t0 = time.perf_counter()
                    text = "".join(llm.stream(rendered, settings, repetition_stop=False))
                    s = llm.last_stats
                    f.write(json.dumps({
                        "id": item["id"], "set": item["set"], "question": item["question"],
                        "reference": item["reference_answer"], "raw": text,
                        "prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
                        "finish_reason": s.finish_reason, "seconds": time.perf_counter() - t0,
                        "instruction": INSTRUCTIONS[detect_language(item["question"])],
                    }, ensure_ascii=False) + "\n")
                    f.flush()
            print(f"{fmt}: {len(items)} answers -> {out}", flush=True)


class Replayer:
    """Feeds recorded answers through a RepetitionGuard, token by token, in the model's tokens."""

    def __init__(self, model_id: str) -> None:
        import llama_cpp

        path = load_catalog().get(model_id).path
        self.llm = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)

    def run(self, text: str, rule: RepetitionRule) -> tuple[str, bool, int]:
        """(the text the user would see, whether the rule fired, tokens up to the cut)."""
        guard = RepetitionGuard(rule)
        utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        shown, n = "", 0
        for token in self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False):
            n += 1
            shown += guard.feed(token, utf8.decode(self.llm.detokenize([token])))
            if guard.stopped:
                break
        shown += guard.flush(utf8.decode(b"", final=True))
        return shown, guard.stopped, n


def echoes(answer: str, instruction: str, example: str) -> bool:
    """The answer repeats ECHO_WORDS words in a row of the instruction or the example."""
    words = answer.split()
    for source in (instruction, example):
        grams = {tuple(source.split()[i:i + ECHO_WORDS])
                 for i in range(len(source.split()) - ECHO_WORDS + 1)}
        if any(tuple(words[i:i + ECHO_WORDS]) in grams
               for i in range(len(words) - ECHO_WORDS + 1)):
            return True
    return False


def _score(rows: list[dict[str, Any]], replay: Replayer, rule: RepetitionRule,
           embedder: Any) -> dict[str, Any]:
    from rag_desktop.evaluation.scoring import cosine

    cos, echo, loops, tokens, refused_out, refused_in, same_lang = [], 0, 0, [], [], [], []
    for r in rows:
        shown, fired, _ = replay.run(r["raw"], rule)
        shown = shown.strip()
        lang = detect_language(r["question"])
        echo += echoes(shown, r["instruction"], " ".join(EXAMPLES[lang]))
        loops += fired
        tokens.append(r["completion_tokens"])
        refusal = refusal_sentence(lang) in shown
        if r["reference"] == "NOT_IN_DOCUMENT":
            refused_out.append(refusal)
            continue
        refused_in.append(refusal)
        same_lang.append(detect_language(shown) == lang if shown else False)
        cos.append(cosine(embedder, shown, r["reference"]))
    n = len(rows)
    return {"n": n, "echo": echo / n, "loop": loops / n, "cosine": statistics.mean(cos),
            "tokens": statistics.mean(tokens), "same_language": statistics.mean(same_lang),
            "refused_outside": statistics.mean(refused_out) if refused_out else None,
            "refused_answerable": statistics.mean(refused_in)}


def cmd_report(args: argparse.Namespace) -> None:
    """The format table, and the rule grid: how many raw answers each rule cuts."""
    from rag_desktop.library.embeddings import get_embedder

    embedder = get_embedder()
    print("| model | format | set(s) | n | echo | loop | cosine | tokens | same language "
          "| refused (outside) | refused (answerable) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    raws = sorted(args.out.glob("raw-*.jsonl"))
    for path in raws:
        model, fmt = _model_format(path)
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        s = _score(rows, Replayer(model), RepetitionRule(), embedder)
        sets = ",".join(sorted({r["set"] for r in rows}))
        ro = "–" if s["refused_outside"] is None else f"{s['refused_outside']:.2f}"
        print(f"| {model} | {fmt} | {sets} | {s['n']} | {s['echo']:.2f} | {s['loop']:.2f} | "
              f"{s['cosine']:.3f} | {s['tokens']:.0f} | {s['same_language']:.2f} | {ro} | "
              f"{s['refused_answerable']:.2f} |")
    _rule_grid(raws)


def _model_format(path: Path) -> tuple[str, str]:
    stem = path.stem.removeprefix("raw-")
    for fmt in sorted(FORMATS, key=len, reverse=True):
        if stem.endswith("-" + fmt):
            return stem[: -len(fmt) - 1], fmt
    raise ValueError(path)


def _rule_grid(raws: list[Path]) -> None:
    """For each rule: answers cut, and cuts in answers that ended on their own (no length)."""
    answers = []
    for path in raws:
        model, _ = _model_format(path)
        answers += [(model, json.loads(x)) for x in path.read_text(encoding="utf-8").splitlines()]
    replays = {m: Replayer(m) for m in {m for m, _ in answers}}
    print("\n| min_words | ngram | max_repeats | cut | of which ended on their own | "
          "of which ran to max_tokens |")
    print("|---|---|---|---|---|---|")
    for words, n, k in [(2, 4, 5), (2, 4, 4), (2, 4, 3), (2, 6, 4), (2, 8, 3), (3, 4, 5),
                        (4, 4, 5), (1, 4, 5), (2, 3, 6)]:
        rule = RepetitionRule(words, n, k)
        cut = own = length = 0
        for model, r in answers:
            _, fired, _ = replays[model].run(r["raw"], rule)
            if fired:
                cut += 1
                own += r["finish_reason"] != "length"
                length += r["finish_reason"] == "length"
        print(f"| {words} | {n} | {k} | {cut}/{len(answers)} | {own} | {length} |")
    runaway = sum(r["finish_reason"] == "length" for _, r in answers)
    print(f"\nanswers that ran to max_tokens: {runaway}/{len(answers)}")


def cmd_cuts(args: argparse.Namespace) -> None:
    """Print every answer the default rule cuts, around the cut, to check it by eye."""
    for path in sorted(args.out.glob("raw-*.jsonl")):
        model, fmt = _model_format(path)
        replay = Replayer(model)
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            shown, fired, n = replay.run(r["raw"], RepetitionRule())
            if fired:
                kept = re.sub(r"\s+", " ", shown)[-100:]
                gone = re.sub(r"\s+", " ", r["raw"][len(shown):])[:100]
                print(f"{model} {fmt} {r['id']} ({r['finish_reason']}, cut at token {n}):\n"
                      f"   ...{kept!r}\n   CUT {gone!r}")


def cmd_budget(args: argparse.Namespace) -> None:
    """Prompt tokens, evidence kept and time to first token for each passage budget."""
    entry = load_catalog().get(args.model)
    settings = GenerationSettings(max_tokens=1, n_ctx_cap=8192)
    items = [r for r in _items(args) if r["reference_answer"] != "NOT_IN_DOCUMENT"]
    budgets: list[int | None] = [None, 2560, 2048, 1536, 1024, 768, 512]
    print("| language | budget | questions | prompt tokens (mean) | evidence kept "
          "| first token s (mean of timed) |")
    print("|---|---|---|---|---|---|")
    with LLM() as llm:
        llm.load(entry, settings)
        idle = llm.render(build_messages("", []))
        for lang in ("en", "ko"):
            subset = [r for r in items if r["language"] == lang]
            if not subset:
                continue
            for budget in budgets:
                tokens, kept, ttft = [], [], []
                for i, r in enumerate(subset):
                    texts = llm.fit_passages([p[1] for p in r["passages"]], budget)
                    passages = [(p[0], t) for p, t in zip(r["passages"], texts, strict=False)]
                    rendered = llm.render(build_messages(r["question"], passages))
                    tokens.append(rendered.n_tokens)
                    kept.append(_norm(r["evidence"]) in _norm(" ".join(texts)))
                    if i < args.timed:
                        list(llm.stream(idle, settings))  # the cache holds the system prompt
                        t0 = time.perf_counter()
                        next(iter(llm.stream(rendered, settings)), None)
                        ttft.append(time.perf_counter() - t0)
                print(f"| {lang} | {budget or 'none'} | {len(subset)} | "
                      f"{statistics.mean(tokens):.0f} | {statistics.mean(kept):.2f} | "
                      f"{statistics.mean(ttft) if ttft else float('nan'):.2f} |", flush=True)


def _norm(text: str) -> str:
    return " ".join(text.split())


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["passages", "generate", "report", "cuts", "budget"])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--model", default="smollm2-135m-instruct-q4_1")
    ap.add_argument("--formats", default="chat")
    ap.add_argument("--sets", default="")
    ap.add_argument("--limit", type=int, default=10, help="answerable questions per set")
    ap.add_argument("--outside", type=int, default=2, help="out-of-document questions per set")
    ap.add_argument("--max-tokens", type=int, default=192)
    ap.add_argument("--timed", type=int, default=3, help="questions timed per budget")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    {"passages": cmd_passages, "generate": cmd_generate, "report": cmd_report,
     "cuts": cmd_cuts, "budget": cmd_budget}[args.command](args)


if __name__ == "__main__":
    main()
