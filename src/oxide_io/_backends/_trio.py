"""The byte stream on trio: the socket read and written directly, trio waited on only
when the socket has nothing to give or no room.

anyio's trio stream reads through trio's socket, which passes through the scheduler
after every read, bytes or not (a schedule point), and a timed read opens two cancel
scopes (anyio's and the trio one inside it), each entered and closed through context
managers of their own. Most reads of a client find their bytes already there: the
reply came while the request's own code ran. The stream here tries the socket first;
only when it is empty does a read open a cancel scope for its timeout and wait for
the socket to become readable (`trio.lowlevel.wait_readable`). A write likewise
waits only when the socket is full.

What trio's own streams promise is kept: every read is a cancellation point (it
raises `Cancelled` in a cancelled scope, bytes waiting or not), and a task that keeps
finding bytes still passes through the scheduler every `_SCHEDULE_EVERY` reads, so a
fast stream cannot starve the other tasks. There is no read-ahead: unread bytes stay
in the kernel's buffer, whose window holds the peer back.

`TrioSocket` is the plain-TCP `AsyncSocket` reading this way; `TrioStream` is the same
socket as an anyio `ByteStream`, under anyio's TLS stream and the proxy tunnel.
Connecting stays anyio's (Happy Eyeballs, its errors), and so does everything else
that is not the bytes of a connection (locks, events, task groups).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import anyio.abc
import trio

from ._anyio import AsyncSocket
from ._errors import ReadError, TransportTimeout, WriteError

__all__ = ["TrioSocket", "TrioStream", "open_trio_stream"]

# The most one read asks the socket for (what anyio's stream read at a time).
_READ_SIZE = 65536
# Reads in a row that found bytes without waiting, after which a read passes through
# the scheduler once: often enough that other tasks run while a fast peer streams,
# rarely enough that a call's one or two reads never pay for it.
_SCHEDULE_EVERY = 8

_checkpoint_if_cancelled = trio.lowlevel.checkpoint_if_cancelled
_schedule_point = trio.lowlevel.cancel_shielded_checkpoint
_wait_readable = trio.lowlevel.wait_readable
_wait_writable = trio.lowlevel.wait_writable
_current_time = trio.current_time


class _Closed(Exception):
    """The socket was closed here (by `aclose`, maybe while a read or write waited)."""


class _TimedOut(Exception):
    """The wait's deadline passed."""


async def _wait(
    wait: Callable[[socket.socket], Any], sock: socket.socket, deadline: float | None
) -> None:
    """Waits until `sock` is ready (`wait` is trio's `wait_readable` or `wait_writable`),
    at most until `deadline` on trio's clock.

    Raises `_TimedOut` when the deadline passed and `_Closed` when the socket was
    closed here meanwhile; `Cancelled` passes through.
    """
    try:
        if deadline is None:
            await wait(sock)
            return
        with trio.CancelScope(deadline=deadline) as scope:
            await wait(sock)
            return
    except trio.ClosedResourceError:
        raise _Closed from None
    if scope.cancelled_caught:
        raise _TimedOut


class TrioStream(anyio.abc.ByteStream):
    """A connected TCP socket on trio, read and written directly (anyio's stream API).

    `tcp` is the anyio stream that connected it: closing goes through it, so trio
    hears of the close (a task waiting on the socket is woken) before the descriptor
    is freed.
    """

    def __init__(self, tcp: anyio.abc.SocketStream, raw: socket.socket) -> None:
        self._tcp = tcp
        self._raw = raw
        self._closed = False
        # Reads in a row that found bytes without waiting (see `_SCHEDULE_EVERY`).
        self._streak = 0

    async def read(self, max_bytes: int, timeout: float | None) -> bytes:
        """The next bytes (b"" when the peer closed), at most `max_bytes`, within
        `timeout` seconds.

        Raises `_Closed` after `aclose`, `_TimedOut` when no bytes came in time and
        `OSError` when the connection failed.
        """
        await _checkpoint_if_cancelled()
        sock = self._raw
        deadline = None
        while True:
            if self._closed:
                raise _Closed
            try:
                data = sock.recv(max_bytes)
            except BlockingIOError:
                pass
            else:
                streak = self._streak + 1
                if streak < _SCHEDULE_EVERY:
                    self._streak = streak
                else:
                    self._streak = 0
                    await _schedule_point()
                return data
            self._streak = 0
            if deadline is None and timeout is not None:
                deadline = _current_time() + timeout
            await _wait(_wait_readable, sock, deadline)

    async def write(self, data: bytes, timeout: float | None) -> None:
        """Writes `data` whole, waiting for room in the socket for at most `timeout`
        seconds in all.

        Raises `_Closed` after `aclose`, `_TimedOut` when the peer did not make room
        in time and `OSError` when the connection failed. The socket takes a request
        whole as a rule: the write then neither waits nor passes through the
        scheduler (the read that follows is the cancellation point).
        """
        if self._closed:
            raise _Closed
        sock = self._raw
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        if sent == len(data):
            return
        view = memoryview(data)[sent:]
        deadline = None if timeout is None else _current_time() + timeout
        while view:
            await _wait(_wait_writable, sock, deadline)
            if self._closed:
                raise _Closed
            try:
                sent = sock.send(view)
            except BlockingIOError:
                continue
            view = view[sent:]

    # -- anyio's ByteStream, for the TLS stream and the proxy tunnel ---------------------

    async def receive(self, max_bytes: int = _READ_SIZE) -> bytes:
        try:
            data = await self.read(max_bytes, None)
        except _Closed:
            raise anyio.ClosedResourceError from None
        except OSError as exc:
            raise anyio.BrokenResourceError from exc
        if not data:
            raise anyio.EndOfStream
        return data

    async def send(self, item: bytes) -> None:
        try:
            await self.write(item, None)
        except _Closed:
            raise anyio.ClosedResourceError from None
        except OSError as exc:
            raise anyio.BrokenResourceError from exc

    async def send_eof(self) -> None:
        await self._tcp.send_eof()

    async def aclose(self) -> None:
        """Closes at once, without waiting for unsent bytes (as anyio's stream does)."""
        self._closed = True
        await self._tcp.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        raw = self._raw
        return {anyio.abc.SocketAttribute.raw_socket: lambda: raw}


class TrioSocket(AsyncSocket):
    """A plain TCP connection on trio: reads and writes go to `TrioStream` directly."""

    __slots__ = ("_reader",)

    def __init__(self, stream: TrioStream, raw: socket.socket) -> None:
        super().__init__(stream, None, raw)
        self._reader = stream

    async def send(self, data: bytes, timeout: float | None) -> None:
        """Writes `data` whole within `timeout` seconds.

        Raises `TransportTimeout` when the peer did not make room in time and
        `WriteError` when the connection failed or was closed here.
        """
        try:
            await self._reader.write(data, timeout)
        except _TimedOut:
            raise TransportTimeout("write") from None
        except _Closed:
            raise WriteError("the connection was closed") from None
        except OSError as exc:
            raise WriteError(str(exc) or type(exc).__name__) from exc

    async def receive(self, timeout: float | None) -> bytes:
        """The next bytes (b"" when the peer closed), within `timeout` seconds.

        Raises `TransportTimeout` when none came in time and `ReadError` when the
        connection failed or was closed here.
        """
        try:
            return await self._reader.read(_READ_SIZE, timeout)
        except _TimedOut:
            raise TransportTimeout("read") from None
        except _Closed:
            raise ReadError("the connection was closed") from None
        except OSError as exc:
            raise ReadError(str(exc) or type(exc).__name__) from exc


async def open_trio_stream(host: str, port: int) -> TrioStream:
    """Connects to `host:port` on the running trio loop (anyio's connect: Happy Eyeballs)."""
    tcp = await anyio.connect_tcp(host, port)
    return TrioStream(tcp, tcp.extra(anyio.abc.SocketAttribute.raw_socket))
