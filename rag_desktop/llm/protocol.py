"""The runner protocol, imported by both sides: JSON lines over the runner's stdin and stdout.

The runner opens with a hello, `{"event": "hello", "version": PROTOCOL_VERSION, ...}`; the client
refuses any other version. Every request carries an `id` (an int the client counts up) and
every reply carries the id of the request it answers, streamed token lines included:

    → {"id": 7, "op": "generate", "prompt": ..., "max_tokens": ..., ...}
    ← {"id": 7, "event": "token", "text": "Hel"}        (any number of these)
    ← {"id": 7, "ok": true, "event": "done", "prompt_tokens": ..., ...}
    → {"id": 8, "op": "stop", "target": 7}              (no reply: ends generation 7 early)
    ← {"id": 9, "ok": false, "error": "..."}            (a request that failed or was invalid)

A request the runner cannot parse is answered with an error reply, with its id when the id
could be read and `null` otherwise, so that the client never waits for a reply that will
not come.
"""

from __future__ import annotations

import json
from typing import Any

PROTOCOL_VERSION = 1

# The fields each op needs; a request without one is refused before it reaches the handler.
REQUIRED: dict[str, tuple[str, ...]] = {
    "load": ("path", "n_ctx", "n_batch", "n_threads"),
    "render": (),  # "messages" or "text"
    "prefill": ("messages",),
    "generate": ("prompt", "max_tokens", "temperature", "top_p"),
    "tokenize": (),  # "text" or "texts"
    "truncate": ("text", "max_tokens"),
    "close": (),
    "stop": (),  # "target": the id of the generation to stop
    "exit": (),
}
# Ops that take one of two alternative fields.
ONE_OF: dict[str, tuple[str, str]] = {"render": ("messages", "text"),
                                      "tokenize": ("text", "texts")}
NO_REPLY = frozenset({"stop", "exit"})


class ProtocolError(ValueError):
    """A line that is not a valid message; `id` is the request's id when it could be read."""

    def __init__(self, message: str, id: int | None = None) -> None:
        super().__init__(message)
        self.id = id


def encode(message: dict[str, Any]) -> str:
    """One message as one line (JSON escapes any newline inside strings)."""
    return json.dumps(message) + "\n"


def request(op: str, id: int, **fields: Any) -> dict[str, Any]:
    """A request for `op`; `fields` are the op's arguments."""
    return {"id": id, "op": op, **fields}


def hello(**fields: Any) -> dict[str, Any]:
    """The runner's first line: the protocol version and what this llama.cpp build can do."""
    return {"ok": True, "event": "hello", "version": PROTOCOL_VERSION, **fields}


def ok(id: int | None, **fields: Any) -> dict[str, Any]:
    """A successful reply to request `id`."""
    return {"id": id, "ok": True, **fields}


def error(id: int | None, message: str) -> dict[str, Any]:
    """A failed reply to request `id` (None when the request's id could not be read)."""
    return {"id": id, "ok": False, "error": message}


def token(id: int, text: str) -> dict[str, Any]:
    """One streamed piece of generation `id`."""
    return {"id": id, "event": "token", "text": text}


def done(id: int, **stats: Any) -> dict[str, Any]:
    """The last line of generation `id`, with its token counts."""
    return {"id": id, "ok": True, "event": "done", **stats}


def _object(line: str) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {line.strip()[:80]!r}") from exc
    if not isinstance(message, dict):
        raise ProtocolError(f"not a JSON object: {line.strip()[:80]!r}")
    return message


def _id(message: dict[str, Any]) -> int | None:
    value = message.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_request(line: str) -> dict[str, Any]:
    """A request line checked for an id, a known op and the op's fields; else ProtocolError."""
    message = _object(line)
    id = _id(message)
    if id is None:
        raise ProtocolError(f"a request without an integer id: {line.strip()[:80]!r}")
    op = message.get("op")
    if op not in REQUIRED:
        raise ProtocolError(f"unknown op {op!r}", id)
    missing = [name for name in REQUIRED[op] if name not in message]
    if op in ONE_OF and not any(name in message for name in ONE_OF[op]):
        missing.append(" or ".join(ONE_OF[op]))
    if missing:
        raise ProtocolError(f"'{op}' needs {', '.join(missing)}", id)
    return message


def parse_reply(line: str) -> dict[str, Any]:
    """A reply line from the runner: an object with an id (None only on an error reply)."""
    message = _object(line)
    if message.get("event") == "hello":
        return message
    if "id" not in message or (_id(message) is None and message["id"] is not None):
        raise ProtocolError(f"a reply without an id: {line.strip()[:80]!r}")
    return message


def check_hello(message: dict[str, Any]) -> None:
    """ProtocolError unless `message` is a hello in this module's protocol version."""
    if message.get("event") != "hello":
        raise ProtocolError(f"the runner did not start with a hello: {str(message)[:80]}")
    version = message.get("version")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"the runner speaks protocol version {version}, this app speaks "
                            f"{PROTOCOL_VERSION}; reinstall the app so that both match")
