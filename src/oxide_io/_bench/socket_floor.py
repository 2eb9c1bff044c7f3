"""The socket floor: one prebuilt HTTP/1.1 request over an asyncio Protocol, no HTTP library.

The h11 floor (`floor.py`) is the least a Python HTTP client can do for a call;
this is less still: what the event loop, the socket and `json.loads` cost alone.
The request's bytes are built once, when the client is made, for the one call the
concurrency sweep makes; a call writes them on an idle kept-alive connection and
waits until `data_received` has seen the response head and as many body bytes as
its Content-Length names. It checks that the status is 200 and decodes the body as
JSON (wrapped in `Reply`, so the sweep's check of the reply text runs unchanged):
a call that got anything but the mock's answer fails. No parsing beyond that, no
chunked bodies, no retries or timeouts.

What it shows: the CPU a call costs on this machine before any client code runs.
The part of it that a lone call pays and a call among many does not (its batch's
event-loop passes, and the caches a sleep leaves cold) is the lone call's penalty,
which no client's code can remove.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any

from .floor import Reply

__all__ = ["AsyncSocketFloorClient", "response_body"]

_HEAD_END = b"\r\n\r\n"
_STATUS_OK = b"HTTP/1.1 200 "
_LENGTH = b"\r\ncontent-length:"


class BadResponse(RuntimeError):
    """The response was not a 200 with a Content-Length body."""


def response_body(buffer: bytes | bytearray) -> bytes | None:
    """The body of the response `buffer` starts with, once whole; None until then.

    Raises `BadResponse` for a status other than 200 or a head without Content-Length.
    """
    end = buffer.find(_HEAD_END)
    if end < 0:
        return None
    if not buffer.startswith(_STATUS_OK):
        status = bytes(buffer[: buffer.find(b"\r\n")])
        raise BadResponse(f"not a 200 response: {status!r}")
    head = bytes(buffer[:end]).lower()
    at = head.find(_LENGTH)
    if at < 0:
        raise BadResponse("the response has no Content-Length")
    line_end = head.find(b"\r\n", at + 2)
    length = int(head[at + len(_LENGTH) : line_end if line_end >= 0 else len(head)])
    start = end + len(_HEAD_END)
    if len(buffer) < start + length:
        return None
    if len(buffer) > start + length:
        raise BadResponse("bytes after the response")
    return bytes(buffer[start:])


class _Protocol(asyncio.Protocol):
    """One kept-alive connection: buffers a response and resolves the waiting call with it."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[bytes] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            body = response_body(buffer)
        except BadResponse as exc:
            waiter.set_exception(exc)
            return
        if body is not None:
            buffer.clear()
            waiter.set_result(body)

    def connection_lost(self, exc: Exception | None) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc or ConnectionError("the server closed the connection"))


class _Completions:
    def __init__(self, client: AsyncSocketFloorClient) -> None:
        self._client = client

    async def create(self, *, model: str, messages: Any) -> Reply:
        return Reply(json.loads(await self._client._call(model, messages)))


class _Chat:
    def __init__(self, completions: _Completions) -> None:
        self.completions = completions


class AsyncSocketFloorClient:
    """`chat.completions.create(model=, messages=)`, for the one call it was made for."""

    def __init__(self, *, base_url: str, api_key: str, model: str, messages: Any) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme != "http":
            raise ValueError("the socket floor speaks plain HTTP/1.1 only")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._model = model
        self._messages = messages
        body = json.dumps({"model": model, "messages": messages}).encode()
        self._request = (
            f"POST {parts.path.rstrip('/')}/chat/completions HTTP/1.1\r\n"
            f"Host: {self._host}:{self._port}\r\n"
            f"Authorization: Bearer {api_key}\r\n"
            "Content-Type: application/json\r\n"
            "Accept: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        self._idle: list[_Protocol] = []
        self.chat = _Chat(_Completions(self))

    async def _call(self, model: str, messages: Any) -> bytes:
        if model != self._model or messages != self._messages:
            raise ValueError("the socket floor sends only the request it was made for")
        loop = asyncio.get_running_loop()
        protocol = self._idle.pop() if self._idle else None
        if protocol is None or protocol.transport is None or protocol.transport.is_closing():
            _, protocol = await loop.create_connection(_Protocol, self._host, self._port)
        assert protocol.transport is not None
        waiter: asyncio.Future[bytes] = loop.create_future()
        protocol.waiter = waiter
        protocol.transport.write(self._request)
        body = await waiter
        protocol.waiter = None
        self._idle.append(protocol)
        return body

    async def aclose(self) -> None:
        for protocol in self._idle:
            if protocol.transport is not None:
                protocol.transport.close()
        self._idle.clear()
