"""The runner's decode loop: llama.cpp's C sampler and one `llama_decode` per token.

`Llama.create_completion(stream=True)` spent 14–30% of each token in Python on a GPU
(docs/performance-gpu.md): it copies the logits into numpy, re-detokenizes the whole completion
every token to look for stop strings, and builds a response dict per token. This loop does
what a plain eval loop does plus sampling in C, one `token_to_piece` and a stop-string scan of
the new text only. The context's tokens are remembered so a next prompt that starts the same
way (the fixed system prompt, a re-asked question) only evaluates what differs.

numpy is used only after llama_cpp has been imported (and has imported it): see runner.py.
"""

from __future__ import annotations

import codecs
import collections
import ctypes
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import llama_cpp


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


class Decoder:
    """Generates from one loaded `llama_cpp.Llama`, keeping its KV cache between prompts."""

    def __init__(self, llm: llama_cpp.Llama) -> None:
        self.llm = llm
        self.ctx = llm._ctx.ctx
        self.vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
        self.n_ctx = int(llama_cpp.llama_n_ctx(self.ctx))
        self.n_batch = int(llm.n_batch)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        self.in_context: list[int] = []  # the tokens whose keys/values the KV cache holds
        self._piece = ctypes.create_string_buffer(256)
        self._one = (llama_cpp.llama_token * 1)()

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
        sampler = _sampler(temperature, top_p, seed) if temperature > 0 else None
        scanner = StopScanner(stop)
        guard = RepetitionGuard(repetition) if repetition is not None else None
        utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            while True:
                token = self._argmax() if sampler is None else (
                    llama_cpp.llama_sampler_sample(sampler, self.ctx, -1))
                if llama_cpp.llama_vocab_is_eog(self.vocab, token):
                    result.finish_reason = "stop"
                    break
                result.completion_tokens += 1
                last = (result.completion_tokens >= max_tokens
                        or len(self.in_context) + 1 >= self.n_ctx)
                if not last:
                    # On a GPU llama_decode returns once the work is queued: the piece below
                    # is decoded, scanned and sent while the device computes the next token.
                    self._decode_one(token)
                piece = utf8.decode(self._token_bytes(token))
                text = scanner.feed(guard.feed(token, piece) if guard is not None else piece)
                if text:
                    yield text
                if scanner.stopped:
                    result.finish_reason = "stop"
                    break
                if guard is not None and guard.stopped:
                    result.finish_reason = "repetition"
                    break
                if should_stop():
                    result.stopped = True
                    break
                if last:
                    result.finish_reason = "length"  # the last token needs no evaluation
                    break
            if not scanner.stopped:
                # Cut at max_tokens or by the user, the last token may end inside a character:
                # drop its bytes rather than show U+FFFD.
                cut = result.finish_reason == "length" or result.stopped
                rest = "" if cut else utf8.decode(b"", final=True)
                if guard is not None:
                    rest = guard.flush(rest)
                    if guard.stopped:  # the last sentence repeated an earlier one
                        result.finish_reason = "repetition"
                tail = scanner.feed(rest)
                if scanner.stopped:  # a stop string in text the guard had held back
                    result.finish_reason = "stop"
                else:
                    tail += scanner.flush()
                if tail:
                    yield tail
        finally:
            if sampler is not None:
                llama_cpp.llama_sampler_free(sampler)

    def prefill(self, tokens: list[int]) -> None:
        """Have the KV cache hold exactly `tokens`, re-using whatever prefix it already holds."""
        if tokens:
            self._evaluate_prompt(tokens)

    def reset(self) -> None:
        """Forget the KV cache (after an error left it in an unknown state)."""
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.ctx), True)
        self.in_context = []

    def _evaluate_prompt(self, tokens: list[int]) -> int:
        """Bring the KV cache to `tokens`, re-using the common prefix; returns its length."""
        keep = 0
        for a, b in zip(self.in_context, tokens[:-1], strict=False):  # the last is always fed
            if a != b:
                break
            keep += 1
        memory = llama_cpp.llama_get_memory(self.ctx)
        if not llama_cpp.llama_memory_seq_rm(memory, 0, keep, -1):
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

    def _argmax(self) -> int:
        import numpy as np  # after llama_cpp, which has imported it already

        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ctx, -1),
                                       shape=(self.n_vocab,))
        return int(logits.argmax())

    def _decode(self, chunk: list[int]) -> None:
        array = (llama_cpp.llama_token * len(chunk))(*chunk)
        rc = llama_cpp.llama_decode(self.ctx, llama_cpp.llama_batch_get_one(array, len(chunk)))
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with code {rc}")
        self.in_context.extend(chunk)

    def _decode_one(self, token: int) -> None:
        self._one[0] = token
        rc = llama_cpp.llama_decode(self.ctx, llama_cpp.llama_batch_get_one(self._one, 1))
        if rc != 0:
            self.reset()
            raise RuntimeError(f"llama_decode failed with code {rc}")
        self.in_context.append(token)

    def _token_bytes(self, token: int) -> bytes:
        n = llama_cpp.llama_token_to_piece(self.vocab, token, self._piece, len(self._piece), 0,
                                           False)
        if n < 0:  # the piece is longer than the buffer: grow it and ask again
            self._piece = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, self._piece, -n, 0, False)
        return self._piece.raw[:n]


def _sampler(temperature: float, top_p: float, seed: int | None) -> ctypes.c_void_p:
    """llama-cpp-python's default chain (top-k 40, top-p, min-p 0.05, temperature), in C."""
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    for part in (llama_cpp.llama_sampler_init_top_k(40),
                 llama_cpp.llama_sampler_init_top_p(top_p, 1),
                 llama_cpp.llama_sampler_init_min_p(0.05, 1),
                 llama_cpp.llama_sampler_init_temp(temperature),
                 llama_cpp.llama_sampler_init_dist(random.getrandbits(32) if seed is None
                                                   else seed)):
        llama_cpp.llama_sampler_chain_add(chain, part)
    return chain
