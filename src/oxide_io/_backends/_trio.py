"""The byte stream on trio: the socket read and written directly, trio waited on only
when the socket has nothing to give or no room.

anyio's trio stream reads through trio's socket, which passes through the scheduler
after every read, bytes or not (a schedule point), and a timed read opens two cancel
scopes (anyio's and the trio one inside it). Most reads of a client that keeps up
find their bytes already there: the reply came while the request's own code ran.
The stream here tries the socket first; only when it is empty does a read wait for
it to become readable (`trio.lowlevel.wait_readable`). A write likewise waits only
when the socket is full.

A wait's timeout is not a cancel scope of its own: entering and closing one costs
about as much as the rest of a read together. The waits of one trio run share a
`_Timekeeper`, a system task that sleeps until the earliest deadline of the waits in
progress; a wait enters its deadline in a set, and wakes the keeper only when that
deadline is earlier than the keeper's (a read timeout is the same for every read as
a rule, so a later read's deadline is later, and nothing wakes). A wait whose
deadline passes is woken by `trio.lowlevel.notify_closing` on its socket, which
wakes whatever waits on the descriptor with `ClosedResourceError` and leaves the
socket open: the wait that expired raises `_TimedOut`, a wait in the other direction
(a writer, while a read timed out) simply waits again.

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

import math
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


class _Wait:
    """One direction's wait on a socket, as the timekeeper sees it."""

    __slots__ = ("deadline", "expired", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.deadline = math.inf
        # Set by the timekeeper when the deadline passed during the wait.
        self.expired = False


class _Timekeeper:
    """The deadlines of the waits in progress in one trio run, and the system task that
    wakes a wait whose deadline passed."""

    __slots__ = ("_earlier", "_waits", "wakes_at")

    def __init__(self) -> None:
        self._waits: set[_Wait] = set()
        # When the keeper wakes next: no later than the earliest deadline in `_waits`.
        self.wakes_at = math.inf
        # Set when a wait with an earlier deadline came, to wake the keeper before
        # `wakes_at` (setting an Event is safe whatever the keeper is doing).
        self._earlier = trio.Event()

    def add(self, wait: _Wait, deadline: float) -> None:
        wait.deadline = deadline
        wait.expired = False
        self._waits.add(wait)
        if deadline < self.wakes_at:
            self.wakes_at = deadline
            self._earlier.set()

    def discard(self, wait: _Wait) -> None:
        self._waits.discard(wait)

    async def run(self) -> None:
        """Sleeps until the earliest deadline, wakes the waits past theirs, and again,
        until the run ends (a system task is cancelled then)."""
        while True:
            wakes_at = self.wakes_at = self._expire(_current_time())
            earlier = self._earlier = trio.Event()
            with trio.move_on_at(wakes_at):
                await earlier.wait()

    def _expire(self, now: float) -> float:
        """Wakes the waits whose deadline passed; returns the earliest deadline left.

        A function of its own, not a part of `run`'s loop: a loop variable left in
        the keeper's frame while it sleeps would keep the last wait it saw, and that
        wait's socket, alive (until the run ends, if no later wait came).
        """
        waits = self._waits
        for wait in [wait for wait in waits if wait.deadline <= now]:
            waits.discard(wait)
            wait.expired = True
            # Wakes the wait (and any other on this descriptor) with
            # ClosedResourceError; the socket itself stays open.
            if wait.sock.fileno() >= 0:
                trio.lowlevel.notify_closing(wait.sock)
        return min((wait.deadline for wait in waits), default=math.inf)


_KEEPER: trio.lowlevel.RunVar[_Timekeeper | None] = trio.lowlevel.RunVar(
    "oxide_timekeeper", default=None
)


def _timekeeper() -> _Timekeeper:
    """This trio run's timekeeper, started on first use."""
    keeper = _KEEPER.get()
    if keeper is None:
        keeper = _Timekeeper()
        _KEEPER.set(keeper)
        trio.lowlevel.spawn_system_task(keeper.run, name="oxide timekeeper")
    return keeper


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
        self._reading = _Wait(raw)
        self._writing = _Wait(raw)

    async def _wait(
        self,
        wait: Callable[[socket.socket], Any],
        direction: _Wait,
        timeout: float | None,
        deadline: float | None,
    ) -> float | None:
        """Waits until the socket is ready (`wait` is trio's `wait_readable` or
        `wait_writable`), for `timeout` seconds or until `deadline` on trio's clock
        (set at the first wait of a read or write, and returned for the next).

        Returns on readiness and also without it (the socket's other direction timed
        out meanwhile): the caller tries the socket again either way. Raises
        `_TimedOut` when the deadline passed and `_Closed` when the socket was
        closed here; `Cancelled` passes through.
        """
        sock = self._raw
        if timeout is None:
            try:
                await wait(sock)
            except trio.ClosedResourceError:
                if self._closed:
                    raise _Closed from None
            return None
        if deadline is None:
            deadline = _current_time() + timeout
        elif _current_time() >= deadline:
            raise _TimedOut
        # Looked up at each wait, not kept: a pooled connection may outlive its trio
        # run and be used in the next one, whose timekeeper is another.
        keeper = _timekeeper()
        keeper.add(direction, deadline)
        try:
            await wait(sock)
        except trio.ClosedResourceError:
            if self._closed:
                raise _Closed from None
            if direction.expired:
                raise _TimedOut from None
        finally:
            keeper.discard(direction)
        return deadline

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
            deadline = await self._wait(_wait_readable, self._reading, timeout, deadline)

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
        deadline = None
        while view:
            deadline = await self._wait(_wait_writable, self._writing, timeout, deadline)
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
