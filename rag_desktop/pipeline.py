"""ask(question) -> Answer: retrieval, a token-budgeted prompt, streamed generation, timings;
ask_turn(question, turns) -> Turn: the same for a conversation's next turn."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, cast

from rag_desktop import gate
from rag_desktop.answer import Answer, Source, Timings, passage_label
from rag_desktop.chat.followup import Prior, merge_sources, prepend, standalone_query
from rag_desktop.chat.turns import Turn
from rag_desktop.config import (
    ConversationSettings,
    GenerationSettings,
    RetrievalSettings,
    with_fusion,
)
from rag_desktop.grounding import grounded
from rag_desktop.language import detect_language, refusal_sentence
from rag_desktop.llm.backend import ModelBackend
from rag_desktop.llm.client import ModelInfo, Rendered
from rag_desktop.llm.prompts import build_messages
from rag_desktop.progress import CancelToken

if TYPE_CHECKING:
    from rag_desktop.cache import AnswerCache
    from rag_desktop.library.library import Library, SearchResult
    from rag_desktop.llm.catalog import Catalog
    from rag_desktop.llm.client import LLM


class NoModelError(Exception):
    """ask() was called before a model was loaded."""


TokenCallback = Callable[[str], None]
SourcesCallback = Callable[[list[Source]], None]


class Pipeline:
    """A library, the catalog and the model client (the local runner or a server: backend.py),
    borrowed from a Session; one ask at a time.

    It closes nothing: the Session that lent the parts does.
    """

    def __init__(
        self, library: Library, llm: ModelBackend, catalog: Catalog,
        retrieval: RetrievalSettings | None = None,
        generation: GenerationSettings | None = None, cache: AnswerCache | None = None,
        conversation: ConversationSettings | None = None,
    ) -> None:
        self.library, self.llm, self.catalog = library, llm, catalog
        self.retrieval = retrieval or RetrievalSettings()
        self.generation = generation or GenerationSettings()
        self.conversation = conversation or ConversationSettings()
        self.cache = cache

    def load_model(self, model_id: str) -> ModelInfo:
        """Load a catalog model (closing the previous one first)."""
        return self.llm.load(self.catalog.get(model_id), self.generation)

    def _budgeted(self, question: str, sources: list[Source],
                  history: Sequence[tuple[str, str]] = ()) -> tuple[Rendered, int, int]:
        """Render the prompt with the passages cut to the context's token budget
        (GenerationSettings.context_tokens) and the earlier turns cut to
        ConversationSettings.history_tokens, then, until it fits the model's window, drop the
        oldest turns first and the lowest-ranked chunks after them; returns the prompt and how
        many chunks and how many turns were left out."""
        assert self.llm.info is not None
        budget = self.llm.info.n_ctx - self.generation.max_tokens
        texts = self.llm.fit_passages([s.text for s in sources], self.generation.context_tokens)
        kept = list(zip(sources, texts, strict=False))
        turns = self._recent_turns(history)
        while True:
            passages = [(passage_label(s), text) for s, text in kept]
            rendered = self.llm.render(build_messages(question, passages, history=turns))
            if rendered.n_tokens <= budget or not (kept or turns):
                return rendered, len(sources) - len(kept), len(history) - len(turns)
            if turns:
                turns = turns[1:]
            else:
                kept.pop()

    def _recent_turns(self, history: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """The newest turns, at most history_turns of them within history_tokens (oldest go)."""
        recent = list(history)[-self.conversation.history_turns:] \
            if self.conversation.history_turns > 0 else []
        kept: list[tuple[str, str]] = []
        used = 0
        for question, answer in reversed(recent):
            used += self.llm.count_tokens(f"{question}\n{answer}")
            if used > self.conversation.history_tokens:
                break
            kept.insert(0, (question, answer))
        return kept

    def ask(
        self, question: str, *, on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None, k: int | None = None,
        bm25_weight: float | None = None, use_cache: bool = True, fusion: str | None = None,
        on_sources: SourcesCallback | None = None,
    ) -> Answer:
        """Answer `question` from the library, streaming text pieces to `on_token`.

        `on_sources` gets the sources as soon as retrieval returns, before the model starts,
        so a front end can show them while the answer streams.
        """
        return self._answer(question, question, on_token=on_token, cancel=cancel,
                            retrieval=self.settings_for(k, bm25_weight, fusion),
                            use_cache=use_cache, on_sources=on_sources)

    def ask_turn(
        self, question: str, turns: Sequence[Turn] = (), *, on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None, k: int | None = None,
        bm25_weight: float | None = None, fusion: str | None = None,
        strategy: str | None = None, use_cache: bool = True,
        on_sources: SourcesCallback | None = None,
    ) -> Turn:
        """Answer `question` as the next turn after `turns` (oldest first) of a conversation.

        A follow-up is retrieved by a standalone query (ConversationSettings.strategy unless
        `strategy` is given) and answered with the last turns in the prompt. A first turn is
        ask() itself, cache included; a follow-up is never cached (its answer depends on the
        turns before it). The Turn holds the query and the settings; saving it is the caller's.
        """
        retrieval = self.settings_for(k, bm25_weight, fusion)
        strategy = strategy or self.conversation.strategy
        t0 = time.perf_counter()
        standalone = standalone_query(
            # chat/ is typed against the local LLM; any ModelBackend serves it the same way.
            question, [Prior.of(t) for t in turns], strategy, llm=cast("LLM", self.llm),
            generation=self.generation, rewrite_tokens=self.conversation.rewrite_tokens,
            cancel=cancel)
        rewrite_s = time.perf_counter() - t0
        previous = turns[-1].answer.sources if turns and standalone.keep_sources else []
        history = [(t.question, t.answer.text) for t in turns]
        gate_query = prepend(turns[-1].query, question) if turns else None
        answer = self._answer(question, standalone.query, on_token=on_token, cancel=cancel,
                              retrieval=retrieval, use_cache=use_cache and not turns,
                              previous=previous, history=history, gate_query=gate_query,
                              on_sources=on_sources)
        settings = {"retrieval": asdict(retrieval), "generation": asdict(self.generation),
                    "conversation": asdict(self.conversation)}
        return Turn(question, standalone.query, answer, strategy, settings,
                    rewrite=standalone.rewrite, rewrite_s=rewrite_s)

    def settings_for(self, k: int | None = None, bm25_weight: float | None = None,
                     fusion: str | None = None) -> RetrievalSettings:
        """The pipeline's retrieval settings with one ask's overrides."""
        retrieval = replace(self.retrieval, k=k or self.retrieval.k,
                            bm25_weight=self.retrieval.bm25_weight if bm25_weight is None
                            else bm25_weight)
        return with_fusion(retrieval, fusion) if fusion is not None else retrieval

    def _answer(
        self, question: str, query: str, *, on_token: TokenCallback | None,
        cancel: CancelToken | None, retrieval: RetrievalSettings, use_cache: bool,
        previous: Sequence[Source] = (), history: Sequence[tuple[str, str]] = (),
        gate_query: str | None = None, on_sources: SourcesCallback | None = None,
    ) -> Answer:
        """Retrieve `query` (fused with `previous` sources), answer `question` after `history`;
        the relevance gate may also judge `gate_query` (a follow-up with its context)."""
        # A runner that died since the last question is restarted with its model here.
        model = self.llm.ensure_loaded()
        if model is None:
            raise NoModelError("no model is loaded; choose one with --model or the dropdown")
        t0 = time.perf_counter()
        cache_key = (self._cache_key(question, retrieval)
                     if use_cache and self.cache is not None else None)
        if cache_key is not None and self.cache is not None:
            hit = self.cache.get(cache_key)
            if hit is not None:
                if on_sources is not None:
                    on_sources(list(hit.sources))
                return self._from_cache(hit, t0, on_token)
        result = self.library.search(query, k=retrieval.k, bm25_weight=retrieval.bm25_weight,
                                     k_per_leg=retrieval.k_per_leg, fusion=retrieval.fusion,
                                     rrf_c=retrieval.rrf_c,
                                     one_chunk_per_page=retrieval.one_chunk_per_page,
                                     leg_seats=retrieval.leg_seats)
        sources = merge_sources([Source.from_hit(h) for h in result.hits], previous, retrieval.k)
        searched, total = self.library.page_coverage()
        coverage = (searched, total) if total > searched else None
        if on_sources is not None:
            on_sources(list(sources))
        if retrieval.gate and not self._relevant(result, gate_query, retrieval):
            refusal = self._refuse(question, sources, result.retrieval_s, t0, on_token)
            return replace(refusal, coverage=coverage)
        rendered, dropped, dropped_turns = self._budgeted(question, sources, history)
        text, first, t_send = [], None, time.perf_counter()
        for piece in self.llm.stream(rendered, self.generation, cancel):
            first = first if first is not None else time.perf_counter()
            text.append(piece)
            if on_token is not None:
                on_token(piece)
        t_end = time.perf_counter()
        stats = self.llm.last_stats
        timings = _timings(result.retrieval_s, t0, t_send, first, t_end,
                           stats.prompt_tokens, stats.completion_tokens)
        answer_text, cited = "".join(text).strip(), sources[: len(sources) - dropped]
        share = grounded(answer_text, [s.text for s in cited]).share
        answer = Answer(question, answer_text, cited, model, timings, dropped,
                        stats.stopped, grounded=share, dropped_turns=dropped_turns,
                        truncated=stats.truncated, coverage=coverage)
        if cache_key is not None and self.cache is not None and not (
                answer.stopped or answer.truncated or answer.coverage):
            self.cache.put(cache_key, answer)
        return answer

    def _relevant(self, result: SearchResult, gate_query: str | None,
                  retrieval: RetrievalSettings) -> bool:
        """The gate's verdict on `result`; a follow-up it refuses is judged again with its
        context (`gate_query`): "what about on Windows?" alone is about nothing in a manual."""
        model = self.library.manifest.embedding_model
        if gate.passes(model, result):
            return True
        if gate_query is None:
            return False
        return gate.passes(model, self.library.search(
            gate_query, k=retrieval.k, bm25_weight=retrieval.bm25_weight,
            k_per_leg=retrieval.k_per_leg, fusion=retrieval.fusion, rrf_c=retrieval.rrf_c,
            one_chunk_per_page=retrieval.one_chunk_per_page, leg_seats=retrieval.leg_seats))

    def _refuse(self, question: str, sources: list[Source], retrieval_s: float, t0: float,
                on_token: TokenCallback | None) -> Answer:
        """The gate's answer: the refusal sentence in the question's language, no model call.

        The closest passages stay attached, so the user can still read what was found.
        """
        assert self.llm.info is not None
        text = refusal_sentence(detect_language(question))
        if on_token is not None:
            on_token(text)
        total = time.perf_counter() - t0
        timings = Timings(retrieval_s=retrieval_s, total_s=total)
        return Answer(question, text, sources, self.llm.info, timings, refused=True)

    def _cache_key(self, question: str, retrieval: RetrievalSettings) -> str | None:
        """None for a server's model: what answers behind its address can change unseen."""
        from rag_desktop.cache import cache_key

        assert self.llm.info is not None
        entry = self.catalog.get(self.llm.info.id)
        if entry.server is not None:
            return None
        library_id = f"{self.library.path}@{self.library.version}"
        return cache_key(question, entry.path, self.generation, retrieval, library_id)

    def _from_cache(self, hit: Answer, t0: float, on_token: TokenCallback | None) -> Answer:
        if on_token is not None:
            on_token(hit.text)
        total = time.perf_counter() - t0
        return replace(hit, cache_hit=True, original_timings=hit.timings,
                       timings=Timings(total_s=total, prompt_tokens=0, completion_tokens=0))


def _timings(retrieval_s: float, t0: float, t_send: float, first: float | None, t_end: float,
             prompt_tokens: int, completion_tokens: int) -> Timings:
    first_token_s = (first - t_send) if first is not None else t_end - t_send
    decode_s = t_end - (first if first is not None else t_send)
    rate = (completion_tokens - 1) / decode_s if completion_tokens > 1 and decode_s > 0 else 0.0
    return Timings(retrieval_s=retrieval_s, first_token_s=first_token_s,
                   generation_s=t_end - t_send, total_s=t_end - t0,
                   prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                   tokens_per_s=rate)
