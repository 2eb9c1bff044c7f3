"""The small pieces of the API's wire format every endpoint of the mock server shares.

JSON encoding, server-sent events, object ids, the error envelope, and the
word-sized pieces a streamed reply is cut into. Kept apart from the endpoints
so that each of them reads as the payload it builds.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import attrs

__all__ = [
    "Answer",
    "dumps",
    "error_answer",
    "error_body",
    "json_answer",
    "new_id",
    "pieces",
    "sse",
    "stream_answer",
    "token_count",
]

_JSON_HEADERS = (("content-type", "application/json"),)
_SSE_HEADERS = (("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache"))

# Default `type` of an error body by status, as the API reports them.
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "requests",
}


@attrs.frozen
class Answer:
    """What an endpoint answers, before scripted behaviours and the transport shape it.

    A plain response has `events=None` and its bytes in `body`; a streamed one
    has its server-sent events, each already encoded, in `events`.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    events: tuple[bytes, ...] | None = None


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def json_answer(payload: object, status: int = 200) -> Answer:
    return Answer(status, _JSON_HEADERS, dumps(payload))


def stream_answer(events: list[bytes]) -> Answer:
    return Answer(200, _SSE_HEADERS, events=tuple(events))


def sse(data: object, event: str | None = None) -> bytes:
    """One server-sent event: an optional `event:` line and one `data:` line."""
    text = data if isinstance(data, str) else dumps(data).decode()
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {text}\n\n".encode()


def error_body(
    status: int,
    message: str,
    *,
    type: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The API's error envelope: ``{"error": {"message", "type", "param", "code"}}``."""
    kind = type or _ERROR_TYPES.get(
        status, "server_error" if status >= 500 else "invalid_request_error"
    )
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_answer(
    status: int,
    message: str,
    *,
    type: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> Answer:
    return json_answer(error_body(status, message, type=type, param=param, code=code), status)


def new_id(prefix: str) -> str:
    """A fresh object id in the API's style, e.g. ``chatcmpl-…``, ``resp_…``."""
    return f"{prefix}{uuid.uuid4().hex}"


# A piece is a word with the whitespace before it, the way the API's tokens
# usually look (" world"); runs of punctuation in JSON arguments are kept apart.
_PIECE = re.compile(r"\s*(?:\w+|[^\w\s]+)|\s+")


def pieces(text: str) -> list[str]:
    """Cut `text` into word-sized pieces that join back to exactly `text`."""
    return _PIECE.findall(text)


def token_count(text: str) -> int:
    """A stand-in for a tokenizer: deterministic, at least 1 for any text."""
    return max(1, len(pieces(text)))
