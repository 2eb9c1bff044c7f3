"""The floor: a hand-written HTTP/1.1 client over h11, as little work as a call can take.

Benchmarks compare oxide with this loop to show what oxide's own layers cost on top
of the bytes, h11 and json that every Python client pays. It does only what a call
needs: encode the JSON body, write the request head with the headers the API needs,
read the response with h11, decode the JSON (or split the SSE stream into `data:`
payloads and decode each). No retries, timeouts, typed models or error mapping. The
replies are wrapped in `Reply`, a view that makes attribute access
(`reply.choices[0].message.content`) work on the decoded dicts, so the benchmark's
checks run unchanged on it.

`FloorClient` is blocking (one socket per connection); `AsyncFloorClient` runs on
asyncio streams. Both keep idle connections in a list and open another when all
are busy, so concurrent calls each get their own HTTP/1.1 connection.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from typing import Any

import h11

__all__ = ["AsyncFloorClient", "FloorClient", "Reply"]

_READ = 65536


class Reply:
    """Attribute access over decoded JSON: dicts become `Reply`, lists of dicts lists of them.

    A key the payload lacks reads as None, as an optional field of a model does.
    """

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        value = self._data.get(name)
        if type(value) is dict:
            return Reply(value)
        if type(value) is list:
            return [Reply(v) if type(v) is dict else v for v in value]
        return value


def _split_url(base_url: str) -> tuple[str, int, str]:
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme != "http":
        raise ValueError("the floor speaks plain HTTP/1.1 only")
    return parts.hostname or "127.0.0.1", parts.port or 80, parts.path.rstrip("/")


def _request(host: str, port: int, target: str, api_key: str, body: bytes, stream: bool) -> Any:
    headers = [
        ("Host", f"{host}:{port}"),
        ("Authorization", f"Bearer {api_key}"),
        ("Content-Type", "application/json"),
        ("Accept", "text/event-stream" if stream else "application/json"),
        ("Content-Length", str(len(body))),
    ]
    return h11.Request(method="POST", target=target, headers=headers)


def _sse_payloads(buffer: bytearray) -> Iterator[bytes]:
    """Takes whole events out of `buffer` and yields their `data:` payloads."""
    while True:
        end = buffer.find(b"\n\n")
        if end < 0:
            return
        event = bytes(buffer[:end])
        del buffer[: end + 2]
        for line in event.split(b"\n"):
            if line.startswith(b"data: "):
                yield line[6:]


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.h11 = h11.Connection(h11.CLIENT)

    def send(self, *events: Any) -> None:
        self.sock.sendall(b"".join(self.h11.send(e) or b"" for e in events))

    def next_event(self) -> Any:
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                self.h11.receive_data(self.sock.recv(_READ))
                continue
            return event


class _Completions:
    def __init__(self, client: FloorClient) -> None:
        self._client = client

    def create(self, *, model: str, messages: Any, stream: bool = False) -> Any:
        payload: dict[str, Any] = {"model": model, "messages": messages}
        if stream:
            payload["stream"] = True
            return self._client._stream(json.dumps(payload).encode())
        return Reply(json.loads(self._client._call(json.dumps(payload).encode())))


class _Chat:
    def __init__(self, completions: Any) -> None:
        self.completions = completions


class FloorClient:
    """Blocking: `chat.completions.create(model=, messages=, stream=)` over pooled sockets."""

    def __init__(self, *, base_url: str, api_key: str) -> None:
        self._host, self._port, self._prefix = _split_url(base_url)
        self._api_key = api_key
        self._idle: list[_Connection] = []
        self.chat = _Chat(_Completions(self))

    def _request(self, body: bytes, stream: bool) -> _Connection:
        conn = self._idle.pop() if self._idle else _Connection(self._host, self._port)
        target = f"{self._prefix}/chat/completions"
        conn.send(
            _request(self._host, self._port, target, self._api_key, body, stream),
            h11.Data(data=body),
            h11.EndOfMessage(),
        )
        response = conn.next_event()
        if response.status_code != 200:
            raise RuntimeError(f"status {response.status_code}")
        return conn

    def _done(self, conn: _Connection) -> None:
        conn.h11.start_next_cycle()
        self._idle.append(conn)

    def _call(self, body: bytes) -> bytes:
        conn = self._request(body, stream=False)
        parts = []
        while type(event := conn.next_event()) is h11.Data:
            parts.append(event.data)
        self._done(conn)
        return b"".join(parts)

    def _stream(self, body: bytes) -> Iterator[Reply]:
        conn = self._request(body, stream=True)
        buffer = bytearray()
        while type(event := conn.next_event()) is h11.Data:
            buffer += event.data
            for payload in _sse_payloads(buffer):
                if payload != b"[DONE]":
                    yield Reply(json.loads(payload))
        self._done(conn)

    def close(self) -> None:
        for conn in self._idle:
            conn.sock.close()
        self._idle.clear()


class _AsyncConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)

    async def next_event(self) -> Any:
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                self.h11.receive_data(await self.reader.read(_READ))
                continue
            return event


class _AsyncCompletions:
    def __init__(self, client: AsyncFloorClient) -> None:
        self._client = client

    async def create(self, *, model: str, messages: Any, stream: bool = False) -> Any:
        payload: dict[str, Any] = {"model": model, "messages": messages}
        if stream:
            payload["stream"] = True
            return self._client._stream(json.dumps(payload).encode())
        return Reply(json.loads(await self._client._call(json.dumps(payload).encode())))


class AsyncFloorClient:
    """asyncio: the same calls as `FloorClient`, awaited."""

    def __init__(self, *, base_url: str, api_key: str) -> None:
        self._host, self._port, self._prefix = _split_url(base_url)
        self._api_key = api_key
        self._idle: list[_AsyncConnection] = []
        self.chat = _Chat(_AsyncCompletions(self))

    async def _request(self, body: bytes, stream: bool) -> _AsyncConnection:
        if self._idle:
            conn = self._idle.pop()
        else:
            conn = _AsyncConnection(*await asyncio.open_connection(self._host, self._port))
        target = f"{self._prefix}/chat/completions"
        conn.writer.write(
            b"".join(
                conn.h11.send(e) or b""
                for e in (
                    _request(self._host, self._port, target, self._api_key, body, stream),
                    h11.Data(data=body),
                    h11.EndOfMessage(),
                )
            )
        )
        response = await conn.next_event()
        if response.status_code != 200:
            raise RuntimeError(f"status {response.status_code}")
        return conn

    def _done(self, conn: _AsyncConnection) -> None:
        conn.h11.start_next_cycle()
        self._idle.append(conn)

    async def _call(self, body: bytes) -> bytes:
        conn = await self._request(body, stream=False)
        parts = []
        while type(event := await conn.next_event()) is h11.Data:
            parts.append(event.data)
        self._done(conn)
        return b"".join(parts)

    async def _stream(self, body: bytes) -> AsyncIterator[Reply]:
        conn = await self._request(body, stream=True)
        buffer = bytearray()
        while type(event := await conn.next_event()) is h11.Data:
            buffer += event.data
            for payload in _sse_payloads(buffer):
                if payload != b"[DONE]":
                    yield Reply(json.loads(payload))
        self._done(conn)

    async def aclose(self) -> None:
        for conn in self._idle:
            conn.writer.close()
        self._idle.clear()
