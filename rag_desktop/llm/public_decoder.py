"""The fallback decode loop on llama-cpp-python's public API, and the choice between the two.

`Llama.create_completion(stream=True)` is slower per token than decoder.Decoder (see
llama_adapter) but uses nothing private, so it keeps working when a new llama-cpp-python
changes the internals. Stop strings and the repetition guard are applied here, by the same
decoder.Finisher as the fast path, rather than by create_completion: its "stop" finish reason
would not tell a stop string from an end-of-generation token, which the token count needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import llama_cpp

from rag_desktop.llm.decoder import Decoder, Finisher, GenerationResult, RepetitionRule
from rag_desktop.llm.llama_adapter import decoder_mode, fast_path_problem

log = logging.getLogger(__name__)


class PublicDecoder:
    """Generates with `Llama.create_completion(stream=True)`; same interface as Decoder."""

    name = "public"

    def __init__(self, llm: llama_cpp.Llama) -> None:
        self.llm = llm
        self.n_ctx = int(llm.n_ctx())
        self._piece_ids: dict[str, int] = {}

    def generate(
        self, tokens: list[int], *, max_tokens: int, temperature: float, top_p: float,
        stop: list[str], should_stop: Callable[[], bool], seed: int | None = None,
        result: GenerationResult | None = None, repetition: RepetitionRule | None = None,
    ) -> Iterator[str]:
        """Yield text pieces for the prompt `tokens`; `result` is filled in as it goes."""
        result = result if result is not None else GenerationResult()
        result.prompt_tokens = len(tokens)
        if len(tokens) >= self.n_ctx:
            raise ValueError(f"the prompt is {len(tokens)} tokens; the context holds {self.n_ctx}")
        result.reused_tokens = self._cached_prefix(tokens)
        sampled = [0]  # create_completion calls the logits processor once per sampled token

        def count(input_ids: Any, scores: Any) -> Any:
            sampled[0] += 1
            return scores

        chunks = self.llm.create_completion(
            tokens, max_tokens=max_tokens, temperature=temperature, top_p=top_p, stream=True,
            seed=seed, logits_processor=llama_cpp.LogitsProcessorList([count]))
        out, reason = Finisher(stop, repetition, result), None
        try:
            for chunk in chunks:
                choice: dict[str, Any] = dict(chunk["choices"][0])  # type: ignore[arg-type, index]
                reason = choice.get("finish_reason") or reason
                result.completion_tokens = sampled[0]
                # The pieces come one a token (more when create_completion held bytes back),
                # so a piece stands in for a token id in the guard's n-gram count.
                text = out.feed(self._piece_id(choice["text"]), choice["text"])
                if text:
                    yield text
                if out.ended():
                    break
                if should_stop():
                    result.stopped = True
                    break
        finally:
            chunks.close()  # type: ignore[union-attr]
        if result.finish_reason is None and not result.stopped and reason is not None:
            self._finished(result, reason, sampled[0])
        tail = out.finish()
        if tail:
            yield tail

    @staticmethod
    def _finished(result: GenerationResult, reason: str, sampled: int) -> None:
        """Counts and reason of a generation that create_completion itself ended."""
        result.finish_reason = reason
        # Its "stop" is an end-of-generation token (it has no stop strings), which was
        # sampled but is not part of the completion.
        result.completion_tokens = sampled - 1 if reason == "stop" else sampled

    def _piece_id(self, piece: str) -> int:
        return self._piece_ids.setdefault(piece, len(self._piece_ids))

    def _cached_prefix(self, tokens: list[int]) -> int:
        """How many of `tokens` Llama's own prefix cache will re-use (it re-feeds the last)."""
        cached = self.llm.input_ids[: self.llm.n_tokens].tolist()
        keep = 0
        for a, b in zip(cached, tokens[:-1], strict=False):
            if a != b:
                break
            keep += 1
        return keep

    def prefill(self, tokens: list[int]) -> None:
        """Evaluate `tokens` now, so that Llama's prefix cache has them for the next prompt."""
        if tokens:
            keep = self._cached_prefix(tokens)
            self.llm.n_tokens = keep  # Llama.eval continues after n_tokens (public attribute)
            self.llm.eval(tokens[keep:])

    def reset(self) -> None:
        """Forget the KV cache."""
        self.llm.reset()


def make_decoder(llm: llama_cpp.Llama, mode: str | None = None) -> Decoder | PublicDecoder:
    """The fast decoder when llama_adapter allows it for this llama-cpp-python, else the
    public one; `mode` (or $RAG_DESKTOP_DECODER) "public" or "fast" forces a choice."""
    chosen = decoder_mode(mode)
    if chosen == "public":
        return PublicDecoder(llm)
    problem = fast_path_problem(llm, check_version=chosen != "fast")
    if problem is not None:
        log.warning("using the public llama-cpp-python API (slower per token): %s", problem)
        return PublicDecoder(llm)
    return Decoder(llm)
