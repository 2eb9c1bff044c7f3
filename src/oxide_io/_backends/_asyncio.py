"""The byte stream on asyncio: an asyncio Protocol that keeps reading, in a bounded buffer.

anyio's asyncio socket stream pauses reading whenever no `receive` is waiting, so
every read resumes it and pauses it again: two epoll registrations, an Event and
its Future, and on a timed read anyio's cancel scope with its task bookkeeping.
The stream here reads as asyncio's own streams do: the transport keeps reading and
`data_received` appends to a buffer, which a read takes whole. The buffer is
bounded: past `_HIGH_WATER` bytes the transport stops reading until the buffer is
taken (TCP's window then holds the peer back).

`ProtocolStream` is an anyio `ByteStream`, so anyio's TLS stream and the proxy
tunnel run over it unchanged; `ProtocolSocket` is the plain-TCP `AsyncSocket` that
reads from it directly, its read timeout a timer of the loop's own. trio has a
stream of its own too (`_trio`).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any

import anyio
import anyio.abc

from ._anyio import AsyncSocket
from ._errors import ReadError, TransportTimeout

__all__ = ["ProtocolSocket", "ProtocolStream", "ProtocolTLSSocket", "open_stream"]

# Bytes the buffer may hold before reading pauses. A read takes the buffer whole, so
# a reader that keeps up never meets the mark; asyncio's transport reads up to
# 256 KiB at a time, so the buffer holds at most that much more.
_HIGH_WATER = 256 * 1024
# The most one read hands the driver: the whole buffer as a rule (the core takes
# input of any size; fewer, larger reads cost less).
_READ_MAX = 1024 * 1024


class _ReadingProtocol(asyncio.Protocol):
    """Buffers what the transport reads and wakes the one reader waiting for it."""

    __slots__ = (
        "chunks",
        "drained",
        "ended",
        "error",
        "lost",
        "paused",
        "size",
        "transport",
        "waiter",
        "write_paused",
    )

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        # Reading paused at the high-water mark.
        self.paused = False
        # The peer closed (EOF) or the connection was lost: no more bytes will come.
        self.ended = False
        self.lost = False
        self.error: BaseException | None = None
        # The reader waiting for bytes, and a writer waiting for the peer to read.
        self.waiter: asyncio.Future[None] | None = None
        self.write_paused = False
        self.drained: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        if self.size >= _HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self.wake()

    def eof_received(self) -> bool:
        self.ended = True
        self.wake()
        # The transport stays open for writing: an HTTP/2 peer that sent GOAWAY and
        # closed its side still takes the WINDOW_UPDATE of the last response read
        # (the kernel accepts it), and the socket is closed by `aclose` alone, so
        # a write never meets a descriptor the transport let go of.
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.lost = True
        if exc is not None and self.error is None:
            self.error = exc
        self.wake()
        self.wake_writer()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self.wake_writer()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def wake_writer(self) -> None:
        drained = self.drained
        if drained is not None:
            self.drained = None
            if not drained.done():
                drained.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        """What the buffer holds, at most `max_bytes` of it (the rest stays)."""
        chunks = self.chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        if len(data) > max_bytes:
            chunks.append(data[max_bytes:])
            data = data[:max_bytes]
        self.size = len(chunks[0]) if chunks else 0
        if self.paused and self.size < _HIGH_WATER and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data


class ProtocolStream(anyio.abc.ByteStream):
    """A connected TCP socket on asyncio, read by `_ReadingProtocol` (anyio's stream API)."""

    def __init__(
        self, transport: asyncio.Transport, protocol: _ReadingProtocol, raw: socket.socket
    ) -> None:
        self._transport = transport
        self._protocol = protocol
        self._raw = raw
        self._loop = asyncio.get_running_loop()
        self._closed = False
        # The waiting read's deadline (loop time), and the connection's one timer,
        # which fires at `_timer_at`: see `_read_deadline`.
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def _waiter(self) -> asyncio.Future[None]:
        """A future the protocol resolves when bytes come or the peer closes (no
        coroutine of its own: a read is one frame)."""
        protocol = self._protocol
        if protocol.waiter is not None:
            # One reader at a time, as anyio's streams require (the drivers' read
            # lock sees to it): a second one would leave the first waiting forever.
            raise anyio.BusyResourceError("reading from")
        waiter: asyncio.Future[None] = self._loop.create_future()
        protocol.waiter = waiter
        return waiter

    def _read_deadline(self, timeout: float) -> None:
        """Gives the waiting read until `timeout` seconds from now; the caller clears
        `_deadline` when the read ends.

        One timer serves every read of the connection, rather than a timer made and
        cancelled for each: a timer that fires no later than the deadline is kept,
        and when it fires before the deadline of the read then waiting, it is set
        again for that deadline. Reads with the same timeout thus arm a timer once
        per timeout period, not once a read.
        """
        loop = self._loop
        deadline = loop.time() + timeout
        self._deadline = deadline
        timer = self._timer
        if timer is None or self._timer_at > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(deadline, self._on_timer)
            self._timer_at = deadline

    def _on_timer(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return  # no read waits
        loop = self._loop
        if loop.time() < deadline:
            # Set for an earlier read: this one has time left.
            self._timer = loop.call_at(deadline, self._on_timer)
            self._timer_at = deadline
            return
        self._protocol.wake()  # the read finds no bytes: `_nothing_read` says timeout

    def _nothing_read(self) -> bytes:
        """After a wait that brought no bytes: b"" at the peer's close, else the error."""
        protocol = self._protocol
        if self._closed:
            raise ReadError("the connection was closed")
        if protocol.error is not None:
            raise ReadError(str(protocol.error) or type(protocol.error).__name__)
        if protocol.ended:
            return b""
        raise TransportTimeout("read")

    async def receive(self, max_bytes: int = 65536) -> bytes:
        protocol = self._protocol
        if not protocol.chunks:
            if not protocol.ended and not self._closed:
                waiter = self._waiter()
                try:
                    await waiter
                finally:
                    protocol.waiter = None
            if not protocol.chunks:
                if self._closed:
                    raise anyio.ClosedResourceError
                if protocol.error is not None:
                    raise anyio.BrokenResourceError from protocol.error
                raise anyio.EndOfStream
        return protocol.take(max_bytes)

    def has_input(self) -> bool:
        """Whether bytes or the peer's close are waiting: the transport reads on its
        own, so the socket itself may look idle when they are."""
        protocol = self._protocol
        return bool(protocol.chunks) or protocol.ended

    async def send(self, item: bytes) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        protocol = self._protocol
        if protocol.lost or self._transport.is_closing():
            raise anyio.BrokenResourceError from protocol.error
        self._transport.write(item)
        while protocol.write_paused and not protocol.lost:
            # Above the transport's write buffer mark: wait until the peer reads.
            drained: asyncio.Future[None] = self._loop.create_future()
            protocol.drained = drained
            try:
                await drained
            finally:
                protocol.drained = None
        if self._closed:
            raise anyio.ClosedResourceError
        if protocol.lost and protocol.error is not None:
            raise anyio.BrokenResourceError from protocol.error

    async def send_eof(self) -> None:
        with suppress(OSError):
            self._transport.write_eof()

    async def aclose(self) -> None:
        """Closes at once, without waiting for unsent bytes (as anyio's stream does)."""
        if not self._closed:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._transport.abort()
            self._protocol.wake()
            self._protocol.wake_writer()
        # The transport lets go of the socket in a callback it has just scheduled:
        # one pass of the loop, and the descriptor is closed when this returns.
        await asyncio.sleep(0)

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        raw = self._raw
        return {anyio.abc.SocketAttribute.raw_socket: lambda: raw}


class ProtocolSocket(AsyncSocket):
    """A plain TCP connection on asyncio: reads take `ProtocolStream`'s buffer directly."""

    __slots__ = ("_protocol", "_reader")

    def __init__(self, stream: ProtocolStream, raw: socket.socket) -> None:
        super().__init__(stream, None, raw)
        self._reader = stream
        self._protocol = stream._protocol

    async def receive(self, timeout: float | None) -> bytes:
        """The next bytes (b"" when the peer closed), within `timeout` seconds.

        Raises `TransportTimeout` when none came in time and `ReadError` when the
        connection failed or was closed here.
        """
        protocol = self._protocol
        if not protocol.chunks:
            reader = self._reader
            if not protocol.ended and not reader._closed:
                waiter = reader._waiter()
                if timeout is not None:
                    reader._read_deadline(timeout)
                try:
                    await waiter
                finally:
                    protocol.waiter = None
                    reader._deadline = None
            if not protocol.chunks:
                return reader._nothing_read()
        return protocol.take(_READ_MAX)

    def is_readable(self) -> bool:
        """True when the peer sent data or closed: for an idle pooled connection, it is gone."""
        return self._reader.has_input() or super().is_readable()


class ProtocolTLSSocket(AsyncSocket):
    """A TLS connection on asyncio: anyio's TLS stream over a `ProtocolStream`."""

    __slots__ = ("_reader",)

    def __init__(
        self,
        tls: anyio.abc.ByteStream,
        alpn: str | None,
        raw: socket.socket,
        reader: ProtocolStream,
    ) -> None:
        super().__init__(tls, alpn, raw)
        self._reader = reader

    def is_readable(self) -> bool:
        """True when the peer sent data or closed (what the TLS layer holds already is
        read with the next message)."""
        return self._reader.has_input() or super().is_readable()


async def open_stream(host: str, port: int) -> ProtocolStream:
    """Connects to `host:port` on the running asyncio loop (Happy Eyeballs, as anyio does)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(
        _ReadingProtocol, host, port, happy_eyeballs_delay=0.25
    )
    raw = transport.get_extra_info("socket")
    return ProtocolStream(transport, protocol, raw)
