"""HTTP to an OpenAI-compatible model server (llama.cpp's server, llama-cpp-python's, vLLM):
JSON calls and the chat stream, each failure an LLMError a person can act on, and the
server's own tokenizer.

Only `server.ServerLLM` and `models add-server` use it, and only for an address the user
added: nothing here runs for a local model.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from rag_desktop.llm.channel import LLMError
from rag_desktop.llm.servers import address


class ServerError(LLMError):
    """A model server could not be used; the message names the server and what to check."""


class ServerUnreachableError(ServerError):
    """Nothing answers at the address: a wrong URL, a closed port, a server not started."""


class ServerAuthError(ServerError):
    """The server refused the API key (HTTP 401 or 403)."""


class ServerTimeoutError(ServerError):
    """The server accepted the request but sent nothing within the timeout."""


class ServerDiedError(ServerError):
    """The server closed the connection in the middle of an answer."""


@dataclass(frozen=True)
class ServerTimeouts:
    """Seconds to wait; a server on a GPU is fast, but it may queue requests from a team."""

    connect: float = 10.0
    call: float = 60.0  # models, props, tokenize
    stream: float = 600.0  # the longest silence in a stream, the prompt's evaluation included


# Errors that say the request itself was not understood (an endpoint this server lacks).
_OPTIONAL = {400, 404, 405, 422, 501}


class Api:
    """One server's HTTP client: base URL, API key, timeouts; no proxies from the environment
    (an address the user typed is the address used)."""

    def __init__(self, url: str, api_key: str | None, timeouts: ServerTimeouts) -> None:
        self.url, self.address, self.timeouts = url, address(url), timeouts
        self.has_key = bool(api_key)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=url, headers=headers, trust_env=False,
                                  timeout=httpx.Timeout(timeouts.call, connect=timeouts.connect))

    def get(self, path: str, *, optional: bool = False) -> Any:
        """GET `path` as JSON; None for an endpoint the server lacks when `optional`."""
        return self._send("GET", path, None, optional)

    def post(self, path: str, body: dict[str, Any], *, optional: bool = False) -> Any:
        """POST JSON to `path`; None for an endpoint the server lacks when `optional`."""
        return self._send("POST", path, body, optional)

    def _send(self, method: str, path: str, body: dict[str, Any] | None, optional: bool) -> Any:
        try:
            resp = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise self.translate(exc, f"{method} {path}") from exc
        if optional and resp.status_code in _OPTIONAL:
            return None
        self.check(resp, f"{method} {path}")
        try:
            return resp.json()
        except ValueError as exc:
            raise ServerError(f"{self.address}: {method} {path} did not answer in JSON; is this "
                              "an OpenAI-compatible server?") from exc

    @contextlib.contextmanager
    def stream(self, path: str, body: dict[str, Any]) -> Iterator[httpx.Response]:
        """POST `body` and hold the streamed response open; closing it ends the stream."""
        timeout = httpx.Timeout(self.timeouts.stream, connect=self.timeouts.connect)
        try:
            with self._http.stream("POST", path, json=body, timeout=timeout) as resp:
                if resp.status_code >= 400:
                    resp.read()
                self.check(resp, f"POST {path}")
                yield resp
        except httpx.HTTPError as exc:
            raise self.translate(exc, "the answer") from exc

    def check(self, resp: httpx.Response, what: str) -> None:
        """Raise for an error status, with the server's own message."""
        code = resp.status_code
        if code in (401, 403):
            if self.has_key:
                raise ServerAuthError(
                    f"the model server at {self.address} refused the API key (HTTP {code}): "
                    f"{_message(resp)}; check the key in the environment variable the entry "
                    "names, or add the server again with the right key")
            raise ServerAuthError(
                f"the model server at {self.address} wants an API key (HTTP {code}); add the "
                "server again with --api-key-env VAR or --ask-api-key")
        if code >= 400:
            raise ServerError(f"the model server at {self.address} refused {what} "
                              f"(HTTP {code}): {_message(resp)}")

    def translate(self, exc: httpx.HTTPError, what: str) -> ServerError:
        """The error a person can act on for an httpx failure during `what`."""
        where = f"the model server at {self.url}"
        if isinstance(exc, httpx.ConnectTimeout):
            return ServerUnreachableError(
                f"{where} did not accept a connection within {self.timeouts.connect:.0f} s; "
                "check the address and that the server is running")
        if isinstance(exc, httpx.ConnectError):
            return ServerUnreachableError(
                f"cannot reach {where} ({_reason(exc)}); check the address and the port, and "
                "that the server is running (docs/servers.md)")
        if isinstance(exc, httpx.TimeoutException):
            return ServerTimeoutError(
                f"{where} sent nothing for {_wait(exc, self.timeouts):.0f} s during {what}; it "
                "may be overloaded or stuck: try again, or check the server")
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
            return ServerDiedError(
                f"{where} closed the connection during {what} ({_reason(exc)}); it may have "
                "crashed or been stopped: check the server and ask again")
        return ServerError(f"{where}: {what} failed: {_reason(exc)}")

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()


def _wait(exc: httpx.TimeoutException, timeouts: ServerTimeouts) -> float:
    """The timeout that ran out: the stream's wait for a stream, the call's otherwise."""
    try:
        ext = exc.request.extensions.get("timeout", {})
    except RuntimeError:  # an exception raised without its request
        ext = {}
    return float(ext.get("read") or timeouts.call)


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def _message(resp: httpx.Response) -> str:
    """The error text of an OpenAI-style ({"error": {"message"}}) or FastAPI ({"detail"}) body."""
    try:
        doc = resp.json()
    except ValueError:
        return resp.text.strip()[:300] or resp.reason_phrase
    if isinstance(doc, dict):
        err = doc.get("error", doc.get("detail", doc.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err:
            return str(err)[:300]
    return str(doc)[:300]


def sse_events(resp: httpx.Response) -> Iterator[dict[str, Any]]:
    """The `data:` events of a chat stream as JSON; {"done": True} for the closing [DONE].

    ServerError for an error event (vLLM and llama.cpp send one when generation fails).
    """
    for line in resp.iter_lines():
        if not line.startswith("data:"):
            continue  # comments (": ping"), event names, blank separators
        data = line[5:].strip()
        if data == "[DONE]":
            yield {"done": True}
            return
        if not data:
            continue
        try:
            event = json.loads(data)
        except ValueError as exc:
            raise ServerError(f"the model server sent a stream line that is not JSON: "
                              f"{data[:120]!r}") from exc
        if isinstance(event, dict) and event.get("error"):
            err = event["error"]
            text = err.get("message", err) if isinstance(err, dict) else err
            raise ServerError(f"the model server reported an error mid-answer: {text}")
        if isinstance(event, dict):
            yield event


def list_models(api: Api) -> list[dict[str, Any]]:
    """The models the server serves (GET /v1/models), each a dict with at least an id."""
    doc = api.get("/v1/models")
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list) or not all(isinstance(m, dict) and "id" in m for m in data):
        raise ServerError(f"{api.url} answered GET /v1/models with something that is not a "
                          "model list; is this an OpenAI-compatible server?")
    return data


def server_context(api: Api, model: dict[str, Any]) -> int:
    """The context length the server says it runs with: vLLM's max_model_len in /v1/models,
    llama.cpp's /props (default_generation_settings.n_ctx); 0 when it does not say."""
    if model.get("max_model_len"):
        return int(model["max_model_len"])
    props = api.get("/props", optional=True)
    if isinstance(props, dict):
        settings = props.get("default_generation_settings")
        n_ctx = (settings or {}).get("n_ctx") if isinstance(settings, dict) else None
        return int(n_ctx or props.get("n_ctx") or 0)
    return 0


def estimate_tokens(text: str) -> int:
    """A conservative guess without a tokenizer: 3 ASCII characters or 1 other character a
    token (English averages about 4 characters a token; Hangul often 1)."""
    other = sum(1 for c in text if ord(c) > 127)
    return math.ceil((len(text) - other) / 3) + other


class Tokens:
    """Counts text in the served model's tokens through the server's tokenizer endpoint.

    Dialects, tried in this order at load: llama.cpp's server (POST /tokenize {content}),
    vLLM (POST /tokenize {model, prompt}; it also renders chats: {model, messages}), and
    llama-cpp-python's server (POST /extras/tokenize {input}); "estimate" when none answers.
    """

    DIALECTS = ("llama-server", "vllm", "llama-cpp-python")

    def __init__(self, api: Api, model: str) -> None:
        self.api, self.model = api, model
        self.kind = "estimate"
        for kind in self.DIALECTS:
            n = self._raw("hello", kind)
            if n:
                self.kind = kind
                break
        # Tokens every request adds (a BOS): counted once per prompt, not per piece.
        self.extra = (self._raw("", self.kind) or 0) if self.exact else 0

    @property
    def exact(self) -> bool:
        """Whether counts come from the server's own tokenizer."""
        return self.kind != "estimate"

    def count(self, text: str) -> int:
        """Length of `text` in tokens, without the tokens the server adds to every request."""
        if not self.exact:
            return estimate_tokens(text)
        n = self._raw(text, self.kind)
        if n is None:
            raise ServerError(f"the model server at {self.api.address} stopped answering "
                              "its tokenizer endpoint")
        return max(0, n - self.extra)

    def count_chat(self, messages: list[dict[str, str]]) -> int | None:
        """The exact length of a chat prompt, template included, where the server can render
        one (vLLM); None elsewhere."""
        if self.kind != "vllm":
            return None
        doc = self.api.post("/tokenize", {"model": self.model, "messages": messages,
                                          "add_generation_prompt": True}, optional=True)
        return int(doc["count"]) if isinstance(doc, dict) and "count" in doc else None

    def _raw(self, text: str, kind: str) -> int | None:
        if kind == "llama-server":
            doc = self.api.post("/tokenize", {"content": text, "add_special": False},
                                optional=True)
        elif kind == "vllm":
            doc = self.api.post("/tokenize", {"model": self.model, "prompt": text,
                                              "add_special_tokens": False}, optional=True)
        elif kind == "llama-cpp-python":
            doc = self.api.post("/extras/tokenize", {"model": self.model, "input": text},
                                optional=True)
        else:
            return None
        if not isinstance(doc, dict):
            return None
        if kind == "vllm":
            return int(doc["count"]) if isinstance(doc.get("count"), int) else None
        tokens = doc.get("tokens")
        return len(tokens) if isinstance(tokens, list) else None
