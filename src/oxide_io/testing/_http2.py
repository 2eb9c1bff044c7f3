"""Serving one HTTP/2 connection of the mock server with h2.

One task reads frames and feeds h2; each request, once its stream has ended,
is answered by a task of its own, so many streams run at once. Sending honours
flow control (RFC 9113, section 5.2): a stream whose window (or the
connection's) is spent waits for the client's WINDOW_UPDATE. A cut stream is
reset with INTERNAL_ERROR; the connection and its other streams carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions

from ._app import RecordedRequest
from ._behaviours import Plan
from ._play import accepts_gzip, play
from ._wire import Answer

__all__ = ["serve_http2"]

_READ_SIZE = 65536
Respond = Callable[[RecordedRequest], tuple[Answer, Plan]]
logger = logging.getLogger("oxide_io.testing")


class _Stream:
    def __init__(self, stream_id: int, headers: list[tuple[str, str]]) -> None:
        self.id = stream_id
        self.headers = headers
        self.body = bytearray()
        self.window = asyncio.Event()
        self.closed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None


class _Channel:
    def __init__(self, connection: _Connection, stream: _Stream) -> None:
        self._connection = connection
        self._conn = connection.conn
        self._stream = stream

    async def send_head(self, status: int, headers: list[tuple[str, str]]) -> None:
        self._conn.send_headers(self._stream.id, [(":status", str(status)), *headers])
        await self._connection.flush()

    async def send_data(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            size = min(
                len(view),
                self._conn.local_flow_control_window(self._stream.id),
                self._conn.max_outbound_frame_size,
            )
            if size <= 0:
                self._stream.window.clear()
                await self._stream.window.wait()
                continue
            self._conn.send_data(self._stream.id, view[:size].tobytes())
            view = view[size:]
            await self._connection.flush()

    async def end(self) -> None:
        self._conn.end_stream(self._stream.id)
        await self._connection.flush()

    async def abort(self) -> None:
        self._conn.reset_stream(self._stream.id, h2.errors.ErrorCodes.INTERNAL_ERROR)
        await self._connection.flush()

    async def until_closed(self) -> None:
        await self._stream.closed.wait()


class _Connection:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, respond: Respond
    ) -> None:
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self._reader = reader
        self._writer = writer
        self._respond = respond
        self._streams: dict[int, _Stream] = {}

    async def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self._writer.write(data)
            await self._writer.drain()

    async def run(self, initial: bytes) -> None:
        self.conn.initiate_connection()
        await self.flush()
        data = initial
        try:
            while data:
                try:
                    events = self.conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    await self.flush()  # h2 queued a GOAWAY naming the error
                    return
                if not self._dispatch(events):
                    await self.flush()
                    return
                await self.flush()
                data = await self._reader.read(_READ_SIZE)
        finally:
            tasks = [s.task for s in self._streams.values() if s.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _dispatch(self, events: list[h2.events.Event]) -> bool:
        """Act on received events; False once the client ended the connection."""
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                headers = [(str(name), str(value)) for name, value in event.headers or []]
                self._streams[event.stream_id] = _Stream(event.stream_id, headers)
            elif isinstance(event, h2.events.DataReceived):
                stream = self._streams.get(event.stream_id)
                if stream is not None and event.data:
                    stream.body += event.data
                # Reading the whole request body before answering: give the
                # window back at once so large bodies are never held up.
                self.conn.acknowledge_received_data(
                    event.flow_controlled_length or 0, event.stream_id
                )
            elif isinstance(event, h2.events.StreamEnded):
                stream = self._streams.get(event.stream_id)
                if stream is not None and stream.task is None:
                    stream.task = asyncio.ensure_future(self._serve(stream))
            elif isinstance(event, h2.events.StreamReset):
                stream = self._streams.pop(event.stream_id, None)
                if stream is not None:
                    stream.closed.set()
                    stream.window.set()
                    if stream.task is not None:
                        stream.task.cancel()
            elif isinstance(event, h2.events.WindowUpdated):
                if event.stream_id:
                    stream = self._streams.get(event.stream_id)
                    if stream is not None:
                        stream.window.set()
                else:
                    self._wake_all()
            elif isinstance(event, h2.events.RemoteSettingsChanged):
                # A new SETTINGS_INITIAL_WINDOW_SIZE changes every stream's window.
                self._wake_all()
            elif isinstance(event, h2.events.ConnectionTerminated):
                return False
        return True

    def _wake_all(self) -> None:
        for stream in self._streams.values():
            stream.window.set()

    async def _serve(self, stream: _Stream) -> None:
        pseudo = {name: value for name, value in stream.headers if name.startswith(":")}
        headers = [(name, value) for name, value in stream.headers if not name.startswith(":")]
        request = RecordedRequest.parse(
            pseudo.get(":method", "GET"), pseudo.get(":path", "/"), headers, bytes(stream.body), "2"
        )
        try:
            answer, plan = self._respond(request)
            gzip_ok = accepts_gzip(request.headers.get("accept-encoding", ""))
            await play(answer, plan, _Channel(self, stream), gzip_ok=gzip_ok)
        except (h2.exceptions.StreamClosedError, ConnectionError):
            pass  # the client reset the stream or left
        except h2.exceptions.ProtocolError as exc:
            logger.warning("HTTP/2 stream %d ended by a protocol error: %s", stream.id, exc)
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self.conn.reset_stream(stream.id, h2.errors.ErrorCodes.INTERNAL_ERROR)
        except Exception:
            logger.exception("HTTP/2 stream %d failed", stream.id)
        finally:
            self._streams.pop(stream.id, None)


async def serve_http2(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, initial: bytes, respond: Respond
) -> None:
    """Answer requests on one HTTP/2 connection until it closes.

    `initial` holds the bytes already read while telling HTTP/2 from HTTP/1.1:
    the start of the client preface.
    """
    await _Connection(reader, writer, respond).run(initial)
