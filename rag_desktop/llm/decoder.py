"""The runner's decode loop: llama.cpp's C sampler and one `llama_decode` per token.

`Llama.create_completion(stream=True)` spent 14–30% of each token in Python on a GPU
(docs/performance-gpu.md): it copies the logits into numpy, re-detokenizes the whole completion
every token to look for stop strings, and builds a response dict per token. This loop does
what a plain eval loop does plus sampling in C, one `token_to_piece` and a stop-string scan of
the new text only. The context's tokens are remembered so a next prompt that starts the same
way (the fixed system prompt, a re-asked question) only evaluates what differs.

Every call into llama.cpp goes through llama_adapter.NativeContext, which alone touches
llama-cpp-python's private handles and is used only on the versions it was tested with;
public_decoder.py holds the fallback on the public API and the choice between the two.
"""

from __future__ import annotations

import codecs
import collections
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import llama_cpp

from rag_desktop.llm.llama_adapter import NativeContext, free_sampler, new_sampler


class StopScanner:
    """Passes streamed text through, ending at the first stop string, which is never shown.

    Text that could be the start of a stop string is held back until the next piece shows
    whether it is one, so a stop split across tokens ("<|im_" + "end|>") never leaks.
    """

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self.held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """The part of `held + text` that is safe to show; sets `stopped` at a stop string."""
        buf = self.held + text
        hits = [i for i in (buf.find(s) for s in self.stops) if i >= 0]
        if hits:
            self.held, self.stopped = "", True
            return buf[: min(hits)]
        keep = self._partial_tail(buf)
        self.held = buf[len(buf) - keep:] if keep else ""
        return buf[: len(buf) - keep]

    def flush(self) -> str:
        """What is still held back once generation ends without a stop string."""
        out, self.held = self.held, ""
        return out

    def _partial_tail(self, buf: str) -> int:
        """Length of the longest tail of `buf` that is a proper prefix of a stop string."""
        best = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(buf)), best, -1):
                if buf.endswith(stop[:n]):
                    best = n
                    break
        return best


# A unit ends at a sentence end followed by white space, or at a line break.
_UNIT_END = re.compile(r"(?<=[.!?。？！])\s+|\n+")


@dataclass(frozen=True)
class RepetitionRule:
    """When a generation counts as looping (chosen on the dev sets: docs/generation.md).

    A sentence or line of at least `min_words` words that comes a second time; or any run of
    `ngram` tokens that comes for the `max_repeats`-th time.
    """

    min_words: int = 2
    ngram: int = 4
    max_repeats: int = 5


class RepetitionGuard:
    """Ends a looping generation and cuts the loop off, fed one token (and its text) at a time.

    A repeated sentence is cut whole: while the sentence being written could still become a
    copy of an earlier one it is held back, so the copy is never shown. A repeated token
    n-gram is cut at the start of its `max_repeats`-th occurrence, which is held back the same
    way (the n-grams seen `max_repeats - 1` times act as stop sequences). Nothing is held back
    otherwise, so the first token is shown as soon as it is made.
    """

    def __init__(self, rule: RepetitionRule | None = None) -> None:
        self.rule = rule or RepetitionRule()
        self.text = ""
        self.released = 0  # characters of `text` already passed on
        self.stopped = False
        self.cut: int | None = None  # where the loop was cut off, as an offset into `text`
        self._tokens: list[int] = []
        self._starts: list[int] = []  # offset in `text` at which each token's text starts
        self._counts: collections.Counter[tuple[int, ...]] = collections.Counter()
        self._hot: set[tuple[int, ...]] = set()  # prefixes of n-grams one short of the limit
        self._units: set[str] = set()
        self._unit_start = 0

    def feed(self, token: int, text: str) -> str:
        """The text that is now safe to show; sets `stopped` when the generation loops."""
        if self.stopped:
            return ""
        self._starts.append(len(self.text))
        self._tokens.append(token)
        self.text += text
        self._count_ngram()
        if not self.stopped:
            self._scan_units(final=False)
        return self._release()

    def flush(self, rest: str = "") -> str:
        """The held-back rest (and `rest`, text that came without a token of its own) once the
        generation has ended; a last sentence that repeats an earlier one is cut."""
        if not self.stopped:
            self.text += rest
            self._scan_units(final=True)
        end = len(self.text) if self.cut is None else max(self.cut, self.released)
        out, self.released = self.text[self.released:end], end
        return out

    def _stop(self, at: int) -> None:
        self.stopped = True
        self.cut = max(at, self.released)

    def _count_ngram(self) -> None:
        n = self.rule.ngram
        if len(self._tokens) < n:
            return
        gram = tuple(self._tokens[-n:])
        self._counts[gram] += 1
        seen = self._counts[gram]
        if seen >= self.rule.max_repeats:
            self._stop(self._starts[-n])
        elif seen == self.rule.max_repeats - 1:
            self._hot.update(gram[:i] for i in range(1, n))

    def _scan_units(self, final: bool) -> None:
        """Record each unit finished since the last call; stop at the first repeated one.

        At the end of the generation (`final`) the unfinished last unit counts as finished.
        """
        while not self.stopped:
            m = _UNIT_END.search(self.text, self._unit_start)
            if m is None and not final:
                return
            unit = _normalize(self.text[self._unit_start:m.start() if m else len(self.text)])
            if self._eligible(unit):
                if unit in self._units:
                    self._stop(self._unit_start)
                    return
                self._units.add(unit)
            if m is None:
                return
            self._unit_start = m.end()

    def _eligible(self, unit: str) -> bool:
        return len(unit.split()) >= self.rule.min_words and any(c.isalnum() for c in unit)

    def _release(self) -> str:
        """Pass on the text up to the first point that could start a copy."""
        hold = len(self.text)
        if self.stopped:
            hold = self.cut if self.cut is not None else hold
        else:
            partial = _normalize(self.text[self._unit_start:])
            if partial and any(u.startswith(partial) for u in self._units):
                hold = self._unit_start
            n = len(self._tokens)
            for m in range(min(self.rule.ngram - 1, n), 0, -1):
                if tuple(self._tokens[n - m:]) in self._hot:
                    hold = min(hold, self._starts[n - m])
                    break
        hold = max(hold, self.released)
        out, self.released = self.text[self.released:hold], hold
        return out


def _normalize(text: str) -> str:
    return " ".join(text.split())


@dataclass
class GenerationResult:
    """How a generation ended: token counts and why."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    reused_tokens: int = 0
    finish_reason: str | None = None
    stopped: bool = False


class Finisher:
    """The text side of one generation, shared by both decoders: UTF-8 pieces, the repetition
    guard, stop strings, and the held-back tail once the tokens end."""

    def __init__(self, stop: list[str], repetition: RepetitionRule | None,
                 result: GenerationResult) -> None:
        self.scanner = StopScanner(stop)
        self.guard = RepetitionGuard(repetition) if repetition is not None else None
        self.utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.result = result

    def feed(self, token: int, piece: str) -> str:
        """The part of one token's text that is safe to show now."""
        return self.scanner.feed(self.guard.feed(token, piece) if self.guard is not None
                                 else piece)

    def ended(self) -> bool:
        """Whether a stop string or a loop ended the generation (sets finish_reason)."""
        if self.scanner.stopped:
            self.result.finish_reason = "stop"
        elif self.guard is not None and self.guard.stopped:
            self.result.finish_reason = "repetition"
        else:
            return False
        return True

    def finish(self) -> str:
        """What is still held back, once the generation has ended."""
        result, scanner, guard = self.result, self.scanner, self.guard
        if scanner.stopped:
            return ""
        # Cut at max_tokens or by the user, the last token may end inside a character:
        # drop its bytes rather than show U+FFFD.
        cut = result.finish_reason == "length" or result.stopped
        rest = "" if cut else self.utf8.decode(b"", final=True)
        if guard is not None:
            rest = guard.flush(rest)
            if guard.stopped:  # the last sentence repeated an earlier one
                result.finish_reason = "repetition"
        tail = scanner.feed(rest)
        if scanner.stopped:  # a stop string in text the guard had held back
            result.finish_reason = "stop"
            return tail
        return tail + scanner.flush()


class Decoder:
    """Generates from one loaded `llama_cpp.Llama`, keeping its KV cache between prompts.

    Every call into llama.cpp goes through llama_adapter.NativeContext, the one place that
    touches llama-cpp-python's private handles.
    """

    name = "fast"

    def __init__(self, llm: llama_cpp.Llama) -> None:
        self.llm = llm
        self.native = NativeContext(llm)
        self.n_ctx = self.native.n_ctx
        self.n_batch = self.native.n_batch
        self.in_context: list[int] = []  # the tokens whose keys/values the KV cache holds

    def generate(
        self, tokens: list[int], *, max_tokens: int, temperature: float, top_p: float,
        stop: list[str], should_stop: Callable[[], bool], seed: int | None = None,
        result: GenerationResult | None = None, repetition: RepetitionRule | None = None,
    ) -> Iterator[str]:
        """Yield text pieces for the prompt `tokens`; `result` is filled in as it goes.

        With a `repetition` rule a looping generation ends with finish_reason "repetition",
        its repeated tail cut off (RepetitionGuard).
        """
        result = result if result is not None else GenerationResult()
        result.prompt_tokens = len(tokens)
        if len(tokens) >= self.n_ctx:
            raise ValueError(f"the prompt is {len(tokens)} tokens; the context holds {self.n_ctx}")
        result.reused_tokens = self._evaluate_prompt(tokens)
        # Greedy is an argmax over the logits in place; the C sampler chain first copies all
        # n_vocab candidates into a new array, which cost ~0.1 ms a token on the GPU host.
        sampler = new_sampler(temperature, top_p, seed) if temperature > 0 else None
        native, out = self.native, Finisher(stop, repetition, result)
        try:
            while True:
                token = native.argmax() if sampler is None else native.sample(sampler)
                if native.is_eog(token):
                    result.finish_reason = "stop"
                    break
                result.completion_tokens += 1
                last = (result.completion_tokens >= max_tokens
                        or len(self.in_context) + 1 >= self.n_ctx)
                if not last:
                    # On a GPU llama_decode returns once the work is queued: the piece below
                    # is decoded, scanned and sent while the device computes the next token.
                    self._decode_one(token)
                text = out.feed(token, out.utf8.decode(native.token_bytes(token)))
                if text:
                    yield text
                if out.ended():
                    break
                if should_stop():
                    result.stopped = True
                    break
                if last:
                    result.finish_reason = "length"  # the last token needs no evaluation
                    break
            tail = out.finish()
            if tail:
                yield tail
        finally:
            if sampler is not None:
                free_sampler(sampler)

    def prefill(self, tokens: list[int]) -> None:
        """Have the KV cache hold exactly `tokens`, re-using whatever prefix it already holds."""
        if tokens:
            self._evaluate_prompt(tokens)

    def reset(self) -> None:
        """Forget the KV cache (after an error left it in an unknown state)."""
        self.native.clear()
        self.in_context = []

    def _evaluate_prompt(self, tokens: list[int]) -> int:
        """Bring the KV cache to `tokens`, re-using the common prefix; returns its length."""
        keep = 0
        for a, b in zip(self.in_context, tokens[:-1], strict=False):  # the last is always fed
            if a != b:
                break
            keep += 1
        if not self.native.keep_prefix(keep):
            self.reset()
            keep = 0
        self.in_context = self.in_context[:keep]
        try:
            for start in range(keep, len(tokens), self.n_batch):
                self._decode(tokens[start : start + self.n_batch])
        except BaseException:
            self.reset()
            raise
        return keep

    def _decode(self, chunk: list[int]) -> None:
        rc = self.native.decode(chunk)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with code {rc}")
        self.in_context.extend(chunk)

    def _decode_one(self, token: int) -> None:
        rc = self.native.decode_one(token)
        if rc != 0:
            self.reset()
            raise RuntimeError(f"llama_decode failed with code {rc}")
        self.in_context.append(token)
