"""`ServerLLM`: the model backend for an OpenAI-compatible server (llama.cpp's server,
llama-cpp-python's, vLLM), with the local runner's surface (backend.ModelBackend).

The prompt is budgeted by our own count of the server's tokens (its tokenizer endpoint, else
a conservative estimate), never cut by the server; an answer whose `usage.prompt_tokens` is
below the tokens we sent is flagged as truncated (GenerationStats.truncated).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from rag_desktop.config import GenerationSettings
from rag_desktop.llm.catalog import ModelEntry
from rag_desktop.llm.client import GenerationStats, ModelInfo, Rendered
from rag_desktop.llm.prompts import allot_tokens, cut_passage
from rag_desktop.llm.server_api import (
    Api,
    ServerDiedError,
    ServerError,
    ServerTimeouts,
    Tokens,
    list_models,
    server_context,
    sse_events,
)
from rag_desktop.llm.servers import (
    ServerEntryError,
    ServerRecord,
    add_server,
    api_key,
    default_id,
    normalize_url,
    store_api_key,
)
from rag_desktop.progress import CancelToken

log = logging.getLogger(__name__)

__all__ = ["ServerError", "ServerLLM", "ServerRendered", "ServerTimeouts", "add_server_entry"]

# Tokens a chat template adds around each message (ChatML: 5) and once per prompt (the
# assistant's header); used only when the server cannot render the chat itself.
PER_MESSAGE = 8
PER_PROMPT = 8


@dataclass
class ServerRendered(Rendered):
    """A chat prompt for a server: the messages themselves (the server applies its template).

    `n_tokens` is an upper bound, for our budget; `sent_tokens` a lower bound of what the
    server must read (0 when unknown): a `usage.prompt_tokens` below it means truncation.
    """

    messages: list[dict[str, str]] = field(default_factory=list)
    sent_tokens: int = 0


class ServerLLM:
    """Client of one model on one OpenAI-compatible server."""

    def __init__(self, timeouts: ServerTimeouts | None = None) -> None:
        self.timeouts = timeouts or ServerTimeouts()
        self._api: Api | None = None
        self._tokens: Tokens | None = None
        self._record: ServerRecord | None = None
        self._info: ModelInfo | None = None
        self._stopping = False
        self.last_stats = GenerationStats()
        self.prompt_format = "chat"  # the server applies the model's own chat template

    # -- state ------------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo | None:
        """The server's model; None when none is loaded."""
        return self._info

    @info.setter
    def info(self, value: ModelInfo | None) -> None:
        self._info = value

    @property
    def loaded(self) -> bool:
        """Whether a server model is chosen and was reachable when loaded."""
        return self._info is not None

    @property
    def alive(self) -> bool:
        """Whether a connection to the server is open."""
        return self._api is not None

    @property
    def tokenizer(self) -> str:
        """How prompts are counted: the server's tokenizer dialect, or "estimate"."""
        return self._tokens.kind if self._tokens is not None else ""

    def _parts(self) -> tuple[Api, Tokens, ServerRecord]:
        if self._api is None or self._tokens is None or self._record is None:
            raise ServerError("no server model is loaded; choose one with --model or the "
                              "dropdown")
        return self._api, self._tokens, self._record

    # -- load -------------------------------------------------------------------------------
    def load(self, entry: ModelEntry, settings: GenerationSettings) -> ModelInfo:
        """Check the server serves the entry's model; learn its context and its tokenizer."""
        self.close_model()
        record = entry.server
        if record is None:
            raise ServerEntryError(f"{entry.id} is not a server entry")
        api = Api(record.url, api_key(record), self.timeouts)
        try:
            model = _served(api, record)
            n_ctx = server_context(api, model) or record.context_length or settings.n_ctx_cap
            tokens = Tokens(api, record.model)
        except BaseException:
            api.close()
            raise
        self._api, self._tokens, self._record = api, tokens, record
        self._info = ModelInfo(
            id=entry.id, file=record.model, quant=entry.quant, n_gpu_layers=0,
            backend=f"server:{record.address}", n_threads=0, n_ctx=n_ctx, decoder="server")
        log.info("%s: %s on %s, context %d, tokens counted by %s", entry.id, record.model,
                 record.url, n_ctx, tokens.kind)
        return self._info

    def ensure_loaded(self) -> ModelInfo | None:
        """The chosen model (a server has no runner to bring back)."""
        return self._info

    # -- prompts ----------------------------------------------------------------------------
    def render(self, messages: list[dict[str, str]]) -> ServerRendered:
        """The messages and their token counts: exact where the server renders chats (vLLM),
        else the contents' tokens plus a template allowance."""
        _, tokens, _ = self._parts()
        exact = tokens.count_chat(messages)
        if exact is not None:
            return ServerRendered(_as_text(messages), exact, [], list(messages), exact)
        parts = sum(tokens.count(m["content"]) for m in messages)
        upper = parts + tokens.extra + PER_MESSAGE * len(messages) + PER_PROMPT
        # A piece can tokenize one token shorter inside the template than alone.
        lower = max(0, parts - len(messages)) if tokens.exact else 0
        return ServerRendered(_as_text(messages), upper, [], list(messages), lower)

    def render_text(self, prompt: str) -> ServerRendered:
        """A written-out prompt, sent as one user message."""
        return self.render([{"role": "user", "content": prompt}])

    def count_tokens(self, text: str) -> int:
        """Length of `text` in the served model's tokens (or the estimate)."""
        return self._parts()[1].count(text)

    def fit_passages(self, texts: list[str], budget: int | None) -> list[str]:
        """`texts` (in rank order) cut to `budget` tokens in all, as LLM.fit_passages."""
        if budget is None or not texts:
            return list(texts)
        tokens = self._parts()[1]
        lengths = [tokens.count(t) for t in texts]
        fitted = []
        for text, full, keep in zip(texts, lengths, allot_tokens(lengths, budget), strict=True):
            if keep <= 0:
                break
            if keep < full:  # two tokens fewer: room for the " …" that marks the cut
                text = cut_passage(_head(tokens, text, full, keep - 2))
            fitted.append(text)
        return fitted

    # -- generation -------------------------------------------------------------------------
    def stream(
        self, rendered: Rendered, settings: GenerationSettings, cancel: CancelToken | None = None,
        *, repetition_stop: bool = True,
    ) -> Iterator[str]:
        """Yield the answer's pieces from a streamed chat completion; a cancel, a stop() or
        leaving the loop closes the stream (the server stops when it sees the disconnect).

        `repetition_stop` is accepted for the interface: loops are cut only by max_tokens here
        (the local guard, decoder.RepetitionGuard, lives in the runner beside llama.cpp).
        """
        api, _, record = self._parts()
        messages = rendered.messages if isinstance(rendered, ServerRendered) else \
            [{"role": "user", "content": rendered.prompt}]
        body: dict[str, Any] = {
            "model": record.model, "messages": messages, "stream": True,
            "stream_options": {"include_usage": True}, "max_tokens": settings.max_tokens,
            "temperature": settings.temperature, "top_p": settings.top_p}
        if rendered.stop:
            body["stop"] = rendered.stop
        sent = rendered.sent_tokens if isinstance(rendered, ServerRendered) else 0
        self._stopping = False
        self.last_stats = GenerationStats(prompt_tokens=rendered.n_tokens)
        remove = cancel.on_cancel(self.stop) if cancel is not None else None
        try:
            yield from self._pieces(api, body, sent)
        finally:
            if remove is not None:
                remove()

    def _pieces(self, api: Api, body: dict[str, Any], sent: int) -> Iterator[str]:
        stats, usage, done, n = self.last_stats, None, False, 0
        with api.stream("/v1/chat/completions", body) as resp:
            try:
                for event in sse_events(resp):
                    done = done or bool(event.get("done") or _finish(event))
                    usage = event.get("usage") or usage
                    stats.finish_reason = _finish(event) or stats.finish_reason
                    for text in _texts(event):
                        n += 1
                        yield text
                    if self._stopping:
                        stats.stopped = True
                        break
            except httpx.HTTPError as exc:
                raise api.translate(exc, f"the answer, after {n} pieces") from exc
        if not done and not stats.stopped:
            raise ServerDiedError(f"the model server at {api.url} ended the answer after {n} "
                                  "pieces without finishing it; it may have crashed or been "
                                  "stopped: check the server and ask again")
        self._count(stats, usage, n, sent)

    def _count(self, stats: GenerationStats, usage: Any, pieces: int, sent: int) -> None:
        """Token counts from `usage` where the server reports it, else ours; the truncation
        flag when the server read fewer prompt tokens than we know we sent."""
        usage = usage if isinstance(usage, dict) else {}
        stats.completion_tokens = int(usage.get("completion_tokens") or pieces)
        if usage.get("prompt_tokens") is not None:
            stats.prompt_tokens = int(usage["prompt_tokens"])
            stats.truncated = sent > 0 and stats.prompt_tokens < sent
            if stats.truncated:
                log.warning("the server read %d prompt tokens of the %d or more sent: it "
                            "truncated the prompt", stats.prompt_tokens, sent)

    def stop(self) -> None:
        """End the current stream at its next piece (safe from any thread)."""
        self._stopping = True

    def close_model(self) -> None:
        """Forget the model and close the connection."""
        if self._api is not None:
            self._api.close()
        self._api, self._tokens, self._record, self._info = None, None, None, None

    def close(self) -> None:
        """Close the connection (a server has no process of ours to stop)."""
        self.close_model()

    def __enter__(self) -> ServerLLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _finish(event: dict[str, Any]) -> str | None:
    for choice in event.get("choices") or []:
        if isinstance(choice, dict) and choice.get("finish_reason"):
            return str(choice["finish_reason"])
    return None


def _texts(event: dict[str, Any]) -> Iterator[str]:
    for choice in event.get("choices") or []:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        text = delta.get("content") if isinstance(delta, dict) else None
        if text:
            yield str(text)


def _as_text(messages: list[dict[str, str]]) -> str:
    """The messages as one readable text (logs and `prompt`); the server gets the list."""
    return json.dumps(messages, ensure_ascii=False)


def _head(tokens: Tokens, text: str, full: int, keep: int) -> str:
    """The longest head of `text` found within `keep` tokens: cut in proportion, then shrink
    by a tenth until the count fits (a few tokenizer calls)."""
    cut = len(text) * max(0, keep) // max(1, full)
    while cut > 0 and tokens.count(text[:cut]) > keep:
        cut = cut * 9 // 10
    return text[:cut]


def _served(api: Api, record: ServerRecord) -> dict[str, Any]:
    """The record's model in the server's list; ServerError naming the ones it serves."""
    models = list_models(api)
    for model in models:
        if model["id"] == record.model:
            return model
    ids = ", ".join(str(m["id"]) for m in models) or "none"
    raise ServerError(f"the model server at {record.url} does not serve '{record.model}'; it "
                      f"serves: {ids}. Add the server again with --model ID")


def add_server_entry(url: str, *, model: str | None = None, name: str | None = None,
                     api_key_env: str = "", key: str | None = None, context_length: int = 0,
                     taken: set[str] | None = None,
                     timeouts: ServerTimeouts | None = None) -> ServerRecord:
    """Ask the server which models it serves, choose one, and store the entry (servers.py).

    `key` (typed by the user) goes to the OS keyring; `api_key_env` names a variable read at
    every load instead. `taken`: the ids of local models, which a server entry may not reuse.
    """
    url = normalize_url(url)
    probe = ServerRecord(url, url, url, "", api_key_env=api_key_env)
    api = Api(url, key if key is not None else api_key(probe), timeouts or ServerTimeouts())
    try:
        ids = [str(m["id"]) for m in list_models(api)]
    finally:
        api.close()
    chosen = _choose(ids, model, url)
    entry_id = name or default_id(chosen, url)
    if taken and entry_id in taken:
        raise ServerEntryError(f"'{entry_id}' is already a local model's id; choose another "
                               "with --name")
    label = name or f"{default_id(chosen, url).split('@')[0]} on {probe.address}"
    record = ServerRecord(entry_id, label, url, chosen, api_key_env=api_key_env,
                          keyring=key is not None, context_length=context_length)
    if key is not None:
        store_api_key(entry_id, key)
    return add_server(record)


def _choose(ids: list[str], model: str | None, url: str) -> str:
    if model is not None:
        if model not in ids:
            raise ServerEntryError(f"the server at {url} does not serve '{model}'; it serves: "
                                   f"{', '.join(ids) or 'none'}")
        return model
    if len(ids) != 1:
        raise ServerEntryError(f"the server at {url} serves {len(ids)} models "
                               f"({', '.join(ids) or 'none'}); choose one with --model ID")
    return ids[0]
