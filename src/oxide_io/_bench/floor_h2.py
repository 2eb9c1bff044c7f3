"""The HTTP/2 floor: a hand-written asyncio client over h2 (h2c, prior knowledge).

What `floor.py` is for HTTP/1.1, this is for HTTP/2: the least a call can cost on top
of the bytes, h2 (framing, HPACK, stream states, flow control) and json, so a
benchmark can tell what h2 costs from what oxide's own layers add. Concurrent calls
share one connection, as many as the server's SETTINGS_MAX_CONCURRENT_STREAMS allows
(another connection opens when every one is full). One reader task per connection
feeds h2 and wakes each call once, when its stream has ended; the call then decodes
the JSON. h2 is configured as a careful hand-written client would: bytes headers,
no outbound normalization or validation (the fields are constants known to be
valid), inbound validation kept; received data is acknowledged as it arrives (h2
sends WINDOW_UPDATE when half a window is used). No retries, timeouts, typed
models, error mapping or streaming (`stream=True` is refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.parse
from typing import Any

import h2.config
import h2.connection
import h2.events

from .floor import Reply

__all__ = ["AsyncH2FloorClient"]

_READ = 65536


class _Stream:
    __slots__ = ("body", "done", "status")

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.status = b""
        self.body: list[bytes] = []


class _Connection:
    """One h2c connection and the task that reads it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        config = h2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        self.h2 = h2.connection.H2Connection(config=config)
        self.h2.initiate_connection()
        self.reader = reader
        self.writer = writer
        self.streams: dict[int, _Stream] = {}
        # Set when the server's SETTINGS (its stream limit) arrived or the reader ended.
        self.settled = asyncio.Event()
        writer.write(self.h2.data_to_send())
        self.task = asyncio.get_running_loop().create_task(self._read())

    @property
    def has_room(self) -> bool:
        if not self.settled.is_set() or self.task.done():
            return False
        return len(self.streams) < self.h2.remote_settings.max_concurrent_streams

    async def request(self, headers: list[tuple[bytes, bytes]], body: bytes) -> _Stream:
        conn = self.h2
        stream_id = conn.get_next_available_stream_id()
        stream = _Stream(asyncio.get_running_loop().create_future())
        self.streams[stream_id] = stream
        conn.send_headers(stream_id, headers)
        conn.send_data(stream_id, body, end_stream=True)
        self.writer.write(conn.data_to_send())
        await stream.done
        return stream

    async def _read(self) -> None:
        conn, streams = self.h2, self.streams
        try:
            while data := await self.reader.read(_READ):
                for event in conn.receive_data(data):
                    if type(event) is h2.events.DataReceived:
                        streams[event.stream_id].body.append(event.data)
                        conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif type(event) is h2.events.ResponseReceived:
                        for name, value in event.headers:
                            if name == b":status":
                                streams[event.stream_id].status = value
                    elif type(event) is h2.events.StreamEnded:
                        streams.pop(event.stream_id).done.set_result(None)
                    elif type(event) is h2.events.StreamReset:
                        stream = streams.pop(event.stream_id)
                        stream.done.set_exception(RuntimeError("stream reset"))
                    elif type(event) is h2.events.RemoteSettingsChanged:
                        self.settled.set()
                out = conn.data_to_send()
                if out:
                    self.writer.write(out)
            error = RuntimeError("the server closed the connection")
        except Exception as exc:
            error = RuntimeError(f"the connection failed: {exc!r}")
        self.settled.set()
        for stream in streams.values():
            stream.done.set_exception(error)
        streams.clear()

    async def aclose(self) -> None:
        self.task.cancel()
        self.writer.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class _Completions:
    def __init__(self, client: AsyncH2FloorClient) -> None:
        self._client = client

    async def create(self, *, model: str, messages: Any, stream: bool = False) -> Any:
        if stream:
            raise NotImplementedError("the HTTP/2 floor makes plain calls only")
        body = json.dumps({"model": model, "messages": messages}).encode()
        return Reply(json.loads(await self._client._call(body)))


class _Chat:
    def __init__(self, completions: _Completions) -> None:
        self.completions = completions


class AsyncH2FloorClient:
    """`chat.completions.create(model=, messages=)` over shared h2c connections."""

    def __init__(self, *, base_url: str, api_key: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme != "http":
            raise ValueError("the HTTP/2 floor speaks h2c (plain http) only")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._fixed = [
            (b":method", b"POST"),
            (b":authority", f"{self._host}:{self._port}".encode()),
            (b":scheme", b"http"),
            (b":path", f"{parts.path.rstrip('/')}/chat/completions".encode()),
            (b"authorization", f"Bearer {api_key}".encode()),
            (b"content-type", b"application/json"),
            (b"accept", b"application/json"),
        ]
        self._connections: list[_Connection] = []
        self._opening: asyncio.Event | None = None
        self.chat = _Chat(_Completions(self))

    async def _connection(self) -> _Connection:
        while True:
            for conn in self._connections:
                if conn.has_room:
                    return conn
            opening = self._opening
            if opening is not None:
                await opening.wait()
                continue
            # One connection opens at a time; the calls that come meanwhile wait for it
            # and for its SETTINGS (which say how many streams it takes).
            opening = self._opening = asyncio.Event()
            try:
                reader, writer = await asyncio.open_connection(self._host, self._port)
                conn = _Connection(reader, writer)
                self._connections.append(conn)
                await conn.settled.wait()
            finally:
                opening.set()
                self._opening = None
            if conn.task.done():
                raise RuntimeError("the connection failed before its SETTINGS arrived")

    async def _call(self, body: bytes) -> bytes:
        conn = await self._connection()
        headers = [*self._fixed, (b"content-length", str(len(body)).encode())]
        stream = await conn.request(headers, body)
        if stream.status != b"200":
            raise RuntimeError(f"status {stream.status!r}")
        return b"".join(stream.body)

    async def aclose(self) -> None:
        for conn in self._connections:
            await conn.aclose()
        self._connections.clear()
