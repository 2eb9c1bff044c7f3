"""Serving one HTTP/1.1 connection of the mock server with h11.

Keep-alive: requests are answered one after the other on the same connection
until the client closes it or asks to (`Connection: close`). Streamed answers
have no `Content-Length`, so h11 frames them with chunked encoding (RFC 9112,
section 7.1), which is how the API streams over HTTP/1.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import h11

from ._app import RecordedRequest
from ._behaviours import Plan
from ._live import serve_live_websocket
from ._play import accepts_gzip, play
from ._realtime import serve_realtime_websocket
from ._websocket import accept_key, serve_responses_websocket
from ._wire import Answer, dumps, error_body

__all__ = ["serve_http1"]

_READ_SIZE = 65536
Respond = Callable[[RecordedRequest], tuple[Answer, Plan]]


class _Closed(Exception):
    """The connection is over: the client left, or the response broke it on purpose."""


class _Channel:
    def __init__(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._conn = conn
        self._reader = reader
        self._writer = writer
        self.broken = False

    async def _write(self, event: h11.Event) -> None:
        data = self._conn.send(event)
        if data:
            self._writer.write(data)
            await self._writer.drain()

    async def send_head(self, status: int, headers: list[tuple[str, str]]) -> None:
        await self._write(h11.Response(status_code=status, headers=headers))

    async def send_data(self, data: bytes) -> None:
        await self._write(h11.Data(data=data))

    async def end(self) -> None:
        await self._write(h11.EndOfMessage())

    async def abort(self) -> None:
        # Closing mid-body: the client sees the chunked body end without its
        # last chunk, which RFC 9112 section 8 calls an incomplete message.
        self.broken = True
        self._writer.close()

    async def until_closed(self) -> None:
        while True:
            try:
                data = await self._reader.read(_READ_SIZE)
            except OSError:
                data = b""
            if not data:
                self.broken = True
                return
            # Whatever the client sends meanwhile is its next request: keep it.
            self._conn.receive_data(data)


async def _next_event(
    conn: h11.Connection, reader: asyncio.StreamReader
) -> h11.Event | type[h11.PAUSED]:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event  # type: ignore[return-value]
        conn.receive_data(await reader.read(_READ_SIZE))


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[h11.Request, bytes] | None:
    head = await _next_event(conn, reader)
    if isinstance(head, h11.ConnectionClosed) or head is h11.PAUSED:
        return None
    if not isinstance(head, h11.Request):
        raise h11.RemoteProtocolError(f"expected a request, got {head!r}")
    if conn.they_are_waiting_for_100_continue:
        # RFC 9110 section 10.1.1: the client holds its body until we say go.
        writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])) or b"")
        await writer.drain()
    body = bytearray()
    while True:
        event = await _next_event(conn, reader)
        if isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return head, bytes(body)
        else:
            raise h11.RemoteProtocolError(f"request body ended early: {event!r}")


async def serve_http1(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, initial: bytes, respond: Respond
) -> None:
    """Answer requests on one connection until it closes."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(initial)
    while True:
        try:
            received = await _read_request(conn, reader, writer)
        except h11.RemoteProtocolError as exc:
            await _bad_request(conn, writer, exc)
            return
        if received is None:
            return
        head, body = received
        headers = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in head.headers
        ]
        request = RecordedRequest.parse(
            head.method.decode("ascii"), head.target.decode("latin-1"), headers, body, "1.1"
        )
        realtime = _is_upgrade(request, "/v1/realtime")
        live = _is_upgrade(request, "/v1/live/sessions")
        if realtime or live or _is_upgrade(request, "/v1/responses"):
            key = accept_key(request.headers.get("sec-websocket-key", ""))
            switch = [("upgrade", "websocket"), ("connection", "Upgrade")]
            switch.append(("sec-websocket-accept", key))
            writer.write(
                conn.send(h11.InformationalResponse(status_code=101, headers=switch)) or b""
            )
            await writer.drain()
            trailing, _ = conn.trailing_data
            if realtime:
                model = request.query.get("model", "gpt-realtime")
                await serve_realtime_websocket(reader, writer, headers, trailing, respond, model)
            elif live:
                await serve_live_websocket(reader, writer, headers, trailing, respond)
            else:
                await serve_responses_websocket(reader, writer, headers, trailing, respond)
            return
        answer, plan = respond(request)
        channel = _Channel(conn, reader, writer)
        await play(
            answer, plan, channel, gzip_ok=accepts_gzip(request.headers.get("accept-encoding", ""))
        )
        if channel.broken or conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return
        conn.start_next_cycle()


def _is_upgrade(request: RecordedRequest, path: str) -> bool:
    """A WebSocket handshake for the Responses API (`client.responses.connect()`), the
    Realtime API (`client.realtime.connect()`) or a Live session (`client.live.connect()`)."""
    return (
        request.method == "GET"
        and request.path == path
        and request.headers.get("upgrade", "").lower() == "websocket"
    )


async def _bad_request(
    conn: h11.Connection, writer: asyncio.StreamWriter, exc: h11.RemoteProtocolError
) -> None:
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    body = dumps(error_body(400, f"Malformed HTTP/1.1 request: {exc}"))
    headers = [
        ("content-type", "application/json"),
        ("content-length", str(len(body))),
        ("connection", "close"),
    ]
    try:
        data = conn.send(h11.Response(status_code=exc.error_status_hint, headers=headers))
        data = (
            (data or b"")
            + (conn.send(h11.Data(data=body)) or b"")
            + (conn.send(h11.EndOfMessage()) or b"")
        )
    except h11.LocalProtocolError:
        return
    writer.write(data)
    await writer.drain()
