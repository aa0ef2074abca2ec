"""ask(question) -> Answer: retrieval, a token-budgeted prompt, streamed generation, timings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from rag_desktop import gate
from rag_desktop.config import GenerationSettings, RetrievalSettings, with_fusion
from rag_desktop.grounding import grounded
from rag_desktop.language import detect_language, refusal_sentence
from rag_desktop.llm import LLM, ModelInfo, Rendered
from rag_desktop.progress import CancelToken
from rag_desktop.prompts import build_messages

if TYPE_CHECKING:
    from rag_desktop.cache import AnswerCache
    from rag_desktop.catalog import Catalog
    from rag_desktop.library import Library, SearchHit


class NoModelError(Exception):
    """ask() was called before a model was loaded."""


@dataclass(frozen=True)
class Source:
    """One retrieved chunk as cited under an answer."""

    rank: int
    file: str
    page: int
    page_label: str | None
    text: str
    bm25: float
    dense: float
    fused: float
    section: str = ""  # the outline's section path ("" when the PDF has no outline)

    @classmethod
    def from_hit(cls, hit: SearchHit) -> Source:
        """The citation form of a library search hit."""
        c = hit.chunk
        return cls(hit.rank, c.file, c.page, c.page_label, c.text, hit.bm25, hit.dense, hit.fused,
                   c.section)

    def to_json(self) -> dict[str, Any]:
        """The source object of the CLI's JSON (docs/cli.md)."""
        return {"rank": self.rank, "file": self.file, "page": self.page, "text": self.text,
                "bm25": self.bm25, "dense": self.dense, "fused": self.fused,
                "section": self.section}


@dataclass(frozen=True)
class Timings:
    """Seconds and token counts, all measured here so every front end reports the same numbers.

    first_token_s and generation_s run from the moment the prompt is sent to the model;
    total_s runs from the question to the last token; tokens_per_s is the decode rate after
    the first token (llama.cpp's "eval" rate).
    """

    retrieval_s: float = 0.0
    first_token_s: float = 0.0
    generation_s: float = 0.0
    total_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_per_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The `timings` object of `ask --json`."""
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """An answer with its sources, the model that wrote it and how long each step took."""

    question: str
    text: str
    sources: list[Source]
    model: ModelInfo
    timings: Timings
    dropped_chunks: int = 0
    stopped: bool = False
    cache_hit: bool = False
    original_timings: Timings | None = None
    # True when the relevance gate refused before the model ran; `is_refused` adds the text rule.
    refused: bool = False
    # Share of the answer's sentences that its sources support (grounding.py); None when refused.
    grounded: float | None = None

    @property
    def is_refused(self) -> bool:
        """The gate refused, or the text is a refusal sentence (scoring.refused, the one rule)."""
        from rag_desktop.scoring import refused

        return refused(self.text, self.refused)

    def to_json(self) -> dict[str, Any]:
        """The `ask --json` document (docs/cli.md)."""
        out = {"question": self.question, "answer": self.text,
               "dropped_chunks": self.dropped_chunks, "model": self.model.to_json(),
               "sources": [s.to_json() for s in self.sources],
               "timings": self.timings.to_json(), "stopped": self.stopped,
               "cache_hit": self.cache_hit, "refused": self.is_refused,
               "grounded": self.grounded}
        if self.original_timings is not None:
            out["original_timings"] = self.original_timings.to_json()
        return out


TokenCallback = Callable[[str], None]


def passage_label(source: Source) -> str:
    """How a passage is named in the prompt and in citations: 'file p. label'."""
    return f"{source.file} p. {source.page_label or source.page}"


class Pipeline:
    """Wires a library, the catalog and the model runner; one ask at a time."""

    def __init__(
        self, library: Library, llm: LLM, catalog: Catalog,
        retrieval: RetrievalSettings | None = None,
        generation: GenerationSettings | None = None, cache: AnswerCache | None = None,
    ) -> None:
        self.library, self.llm, self.catalog = library, llm, catalog
        self.retrieval = retrieval or RetrievalSettings()
        self.generation = generation or GenerationSettings()
        self.cache = cache

    def close(self) -> None:
        """Stop the runner and close the library and cache."""
        self.llm.close()
        self.library.close()
        if self.cache is not None:
            self.cache.close()

    def load_model(self, model_id: str) -> ModelInfo:
        """Load a catalog model (closing the previous one first)."""
        return self.llm.load(self.catalog.get(model_id), self.generation)

    def _budgeted(self, question: str, sources: list[Source]) -> tuple[Rendered, int]:
        """Render the prompt with the passages cut to the context's token budget
        (GenerationSettings.context_tokens), then drop the lowest-ranked chunks until it fits
        the model's window; returns the prompt and how many chunks were left out."""
        assert self.llm.info is not None
        budget = self.llm.info.n_ctx - self.generation.max_tokens
        texts = self.llm.fit_passages([s.text for s in sources], self.generation.context_tokens)
        kept = list(zip(sources, texts, strict=False))
        while True:
            passages = [(passage_label(s), text) for s, text in kept]
            rendered = self.llm.render(build_messages(question, passages))
            if rendered.n_tokens <= budget or not kept:
                return rendered, len(sources) - len(kept)
            kept.pop()

    def ask(
        self, question: str, *, on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None, k: int | None = None,
        bm25_weight: float | None = None, use_cache: bool = True, fusion: str | None = None,
    ) -> Answer:
        """Answer `question` from the library, streaming text pieces to `on_token`."""
        if self.llm.info is None:
            raise NoModelError("no model is loaded; choose one with --model or the dropdown")
        t0 = time.perf_counter()
        retrieval = replace(self.retrieval, k=k or self.retrieval.k,
                            bm25_weight=self.retrieval.bm25_weight if bm25_weight is None
                            else bm25_weight)
        if fusion is not None:
            retrieval = with_fusion(retrieval, fusion)
        cache_key = (self._cache_key(question, retrieval)
                     if use_cache and self.cache is not None else None)
        if cache_key is not None and self.cache is not None:
            hit = self.cache.get(cache_key)
            if hit is not None:
                return self._from_cache(hit, t0, on_token)
        result = self.library.search(question, k=retrieval.k, bm25_weight=retrieval.bm25_weight,
                                     k_per_leg=retrieval.k_per_leg, fusion=retrieval.fusion,
                                     rrf_c=retrieval.rrf_c,
                                     one_chunk_per_page=retrieval.one_chunk_per_page,
                                     leg_seats=retrieval.leg_seats)
        sources = [Source.from_hit(h) for h in result.hits]
        if retrieval.gate and not gate.passes(self.library.manifest.embedding_model, result):
            return self._refuse(question, sources, result.retrieval_s, t0, on_token)
        rendered, dropped = self._budgeted(question, sources)
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
        answer = Answer(question, answer_text, cited, self.llm.info, timings, dropped,
                        stats.stopped, grounded=share)
        if cache_key is not None and self.cache is not None and not answer.stopped:
            self.cache.put(cache_key, answer)
        return answer

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

    def _cache_key(self, question: str, retrieval: RetrievalSettings) -> str:
        from rag_desktop.cache import cache_key

        assert self.llm.info is not None
        entry = self.catalog.get(self.llm.info.id)
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


def answer_from_json(d: dict[str, Any]) -> Answer:
    """Rebuild an Answer stored by the cache (dataclasses.asdict form)."""
    orig = d.get("original_timings")
    return Answer(
        question=d["question"], text=d["text"],
        sources=[Source(**s) for s in d["sources"]], model=ModelInfo(**d["model"]),
        timings=Timings(**d["timings"]), dropped_chunks=d["dropped_chunks"],
        stopped=d["stopped"], cache_hit=d["cache_hit"],
        original_timings=Timings(**orig) if orig else None,
        refused=d.get("refused", False), grounded=d.get("grounded"),
    )
