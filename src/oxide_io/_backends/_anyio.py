"""The async byte stream: anyio sockets and TLS, so one driver serves asyncio and trio.

The TCP stream under it is each event loop's own (`_asyncio`, `_trio`), read without
anyio's per-read costs; TLS, locks, events and task groups stay anyio's.

Each method takes the timeout of its phase; exceeding it raises `TransportTimeout`.
Foreign exceptions (OSError, ssl.SSLError, anyio's stream errors) are translated
here, where they cross into oxide.
"""

from __future__ import annotations

import asyncio
import functools
import os
import select
import socket
import ssl
import sys
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.to_thread
from anyio.streams.tls import TLSAttribute, TLSStream

from ._errors import ConnectError, ReadError, TransportTimeout, WriteError, first_task_error

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from oxide_proto import Tunnel

__all__ = [
    "AsyncBackend",
    "AsyncEvent",
    "AsyncLock",
    "AsyncSocket",
    "AsyncTaskGroup",
    "AsyncWaiter",
]

_READ_SIZE = 65536


class AsyncSocket:
    """One connected socket (plain or TLS)."""

    __slots__ = ("_clock", "_plain", "_raw", "_stream", "_tls", "alpn", "is_closed")

    def __init__(self, stream: anyio.abc.ByteStream, alpn: str | None, raw: socket.socket) -> None:
        self._stream = stream
        self._tls = isinstance(stream, TLSStream)
        # Writes go straight to the socket until it once fills up (see `send`).
        self._plain = not self._tls
        self._raw = raw
        self.alpn = alpn
        self.is_closed = False
        self._clock = _event_loop_clock()

    async def send(self, data: bytes, timeout: float | None) -> None:
        if self._plain:
            # Plain TCP: the socket takes a request whole as a rule, so write it
            # straight away and skip the stream's checkpoint (a pass of the event
            # loop) and the deadline's timer. Cancellation is still seen at the read
            # that follows.
            try:
                sent = _write(self._raw, data)
            except OSError as exc:
                raise WriteError(str(exc) or type(exc).__name__) from exc
            if sent == len(data):
                return
            # The socket is full: the stream sends the rest (waiting for the peer to
            # read, within the deadline) and every write after it, so nothing it may
            # have buffered can be overtaken.
            self._plain = False
            data = data[sent:]
        try:
            if self._tls:
                # A TLS record cut short by a cancellation leaves the stream unusable
                # (its sequence number is spent): a cancellation arriving as we start
                # to send lands here, before the record is written.
                await anyio.lowlevel.checkpoint()
            if timeout is None:
                await self._stream.send(data)
                return
            with anyio.CancelScope(deadline=self._clock() + timeout):
                await self._stream.send(data)
                return
        except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise WriteError(str(exc) or type(exc).__name__) from exc
        except anyio.EndOfStream as exc:
            # TLS: a read (another HTTP/2 stream's) already met the peer's close.
            raise WriteError("the peer closed the connection") from exc
        raise TransportTimeout("write")  # the scope caught its own deadline

    async def receive(self, timeout: float | None) -> bytes:
        """The next bytes from the peer; b"" when it closed the connection."""
        # A deadline scope of our own rather than anyio.fail_after: the same timeout
        # without its generator-based context manager, on every read.
        try:
            if timeout is None:
                return await self._stream.receive(_READ_SIZE)
            with anyio.CancelScope(deadline=self._clock() + timeout):
                return await self._stream.receive(_READ_SIZE)
        except anyio.EndOfStream:
            return b""
        except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise ReadError(str(exc) or type(exc).__name__) from exc
        raise TransportTimeout("read")  # the scope caught its own deadline

    def is_readable(self) -> bool:
        """True when the peer sent data or closed: for an idle pooled connection, it is gone."""
        return _readable(self._raw)

    def forget(self) -> None:
        """Lets go of a socket inherited through `os.fork()`, leaving the parent's
        connection as it was: no TLS close_notify, no HTTP/2 GOAWAY, no shutdown."""
        _forget([self])

    async def aclose(self) -> None:
        """Closes the socket, even inside a cancelled scope (cleanup must not be skipped)."""
        if self.is_closed:
            return
        self.is_closed = True
        with anyio.CancelScope(shield=True):
            try:
                if isinstance(self._stream, TLSStream):
                    # No TLS close_notify exchange: waiting for the peer's answer
                    # would let a dead server stall a close.
                    await self._stream.transport_stream.aclose()
                else:
                    await self._stream.aclose()
            except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass


def _forget(sockets: list[AsyncSocket]) -> None:
    """Lets go of sockets inherited through `os.fork()`, leaving the parent's
    connections as they were (see `AsyncSocket.forget`)."""
    if not sockets:
        return
    dead, peer = socket.socketpair()
    peer.close()
    with dead:
        for sock in sockets:
            sock.is_closed = True
            with suppress(OSError, ValueError):
                fd = sock._raw.fileno()
                if fd >= 0:
                    # This process's descriptor now names a socket whose peer is
                    # gone: the TCP connection is released here without a byte
                    # sent on it, and any stale use reads EOF or fails to write.
                    os.dup2(dead.fileno(), fd)
    # The stream objects belong to an event loop of the parent: closing them (or
    # their finalizers) would call into it. They are kept, inert.
    _INHERITED.extend(sockets)


_INHERITED: list[AsyncSocket] = []


async def _open_tunnel(tcp: anyio.abc.ByteStream, tunnel: Tunnel) -> None:
    while True:
        out = tunnel.data_to_send()
        if out:
            await tcp.send(out)
        try:
            data = await tcp.receive(_READ_SIZE)
        except anyio.EndOfStream:
            data = b""
        if tunnel.receive_data(data):
            break
    if tunnel.leftover:
        raise ConnectError(f"proxy {tunnel.proxy.url} sent data before the tunnel was used")


def _event_loop_clock() -> Callable[[], float]:
    """The clock cancel scope deadlines are read against, as one cheap call.

    A socket lives on the event loop that opened it, so its deadlines can read that
    loop's clock directly, where `anyio.current_time()` looks the loop up again on
    every read and write. The direct clock is used only when it reads what anyio's
    does (a loop hosting another as a guest has a clock of its own).
    """
    clock: Callable[[], float] | None = None
    trio = sys.modules.get("trio")
    if trio is not None and trio.lowlevel.in_trio_run():
        clock = trio.current_time
    elif (asyncio := sys.modules.get("asyncio")) is not None:
        with suppress(RuntimeError):
            clock = asyncio.get_running_loop().time
    if clock is None or abs(clock() - anyio.current_time()) > 1.0:
        return anyio.current_time
    return clock


def _write(sock: socket.socket, data: bytes) -> int:
    """Writes what the socket takes now without waiting; returns how many bytes.

    os.write on the descriptor: asyncio hands out a socket wrapper without `send`.
    The descriptor is asked for at each write: a closed socket gives -1 (EBADF),
    never a number another file took since.
    """
    try:
        return os.write(sock.fileno(), data)
    except BlockingIOError:
        return 0


def _readable(sock: socket.socket) -> bool:
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class _NoLock:
    """Async code runs one task at a time between awaits: core calls need no lock."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _AsyncNoLock:
    """Stands in for a lock where only one task can be inside: no checkpoint, no cost."""

    __slots__ = ()

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _AsyncNoLock()


class AsyncLock:
    """A FIFO lock that costs nothing when free.

    anyio's lock passes through the event loop on every acquisition; the locks here
    guard socket reads and writes, which are scheduling points of their own, so a
    free lock is simply taken. A waiter is handed the lock by the task releasing it.
    """

    __slots__ = ("_event", "_locked", "_one_loop", "_waiters")

    def __init__(self, *, one_loop: bool = False) -> None:
        self._locked = False
        self._waiters: deque[anyio.Event] = deque()
        # With `one_loop` (the lock guards something of one event loop, a socket),
        # the loop's own Event class is kept from the first wait: `anyio.Event()`
        # looks the running library up on every call.
        self._one_loop = one_loop
        self._event: Callable[[], anyio.Event] = anyio.Event

    async def __aenter__(self) -> None:
        if not self._locked:
            self._locked = True
            return
        handed = self._event()
        if self._one_loop:
            self._event = type(handed)
        self._waiters.append(handed)
        try:
            await handed.wait()
        except BaseException:
            if handed.is_set():
                self._release()  # handed over as the wait was cancelled: pass it on
            else:
                self._waiters.remove(handed)
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()  # the lock stays taken, by the next waiter
        else:
            self._locked = False


class AsyncWaiter(Protocol):
    """One task's wait until another task of its event loop wakes it.

    Used once: `wait` once, `wake` any number of times (before or during the
    wait). The waiting task may be cancelled; a later `wake` is then harmless.
    """

    def wake(self) -> None: ...

    def wait(self, timeout: float | None) -> Awaitable[None]:
        """Returns when woken, or after `timeout` seconds (None: no limit)."""
        ...


class _FutureWaiter:
    """An asyncio waiter: one bare future, where an Event would add its own queue
    and the future it makes per wait."""

    __slots__ = ("_future", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._future: asyncio.Future[None] = loop.create_future()

    def wake(self) -> None:
        if not self._future.done():
            self._future.set_result(None)

    def wait(self, timeout: float | None) -> Awaitable[None]:
        if timeout is None:
            return self._future
        return self._wait_at_most(timeout)

    async def _wait_at_most(self, timeout: float) -> None:
        timer = self._loop.call_later(max(timeout, 0.0), self.wake)
        try:
            await self._future
        finally:
            timer.cancel()


class _EventWaiter:
    """A waiter on any event loop anyio runs (trio's)."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = anyio.Event()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, timeout: float | None) -> None:
        with anyio.move_on_after(timeout):
            await self._event.wait()


class AsyncEvent:
    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = anyio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, timeout: float | None) -> bool:
        """True when set, False when the timeout passed first."""
        with anyio.move_on_after(timeout):
            await self._event.wait()
            return True
        return False


class AsyncTaskGroup:
    """Tasks that run side by side and all end before the `async with` block does.

    anyio's task group: an error in one task, or a cancellation of the block,
    cancels the others; `cancelled()` tells a task whether that has begun. The
    first error a task raised is raised from the block as itself, not in an
    exception group (as the blocking group does), so a caller's `except` for
    it works on asyncio and trio alike.
    """

    __slots__ = ("_group",)

    def __init__(self) -> None:
        self._group = anyio.create_task_group()

    async def __aenter__(self) -> AsyncTaskGroup:
        await self._group.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool:
        try:
            return bool(await self._group.__aexit__(*exc))
        except BaseExceptionGroup as group:
            if group is exc[1]:
                raise
            error = first_task_error(group.exceptions, anyio.get_cancelled_exc_class())
        raise error

    def start_soon(self, function: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        self._group.start_soon(function, name=name)

    def cancelled(self) -> bool:
        return self._group.cancel_scope.cancel_called


class AsyncBackend:
    """Opens streams and sleeps on whichever event loop is running (asyncio or trio)."""

    async def connect(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        timeout: float | None,
        tunnel: Tunnel | None = None,
    ) -> AsyncSocket:
        """Connects to `host:port`; with `tunnel`, that is the proxy, asked to open a
        tunnel to `tunnel.host:tunnel.port`, in which TLS (if any) then starts."""
        try:
            with anyio.fail_after(timeout):
                tcp: anyio.abc.ByteStream
                own = trio_own = None
                if self.runtime() == "asyncio":
                    # A stream that keeps reading (see `_asyncio`).
                    from ._asyncio import ProtocolSocket, ProtocolTLSSocket, open_stream

                    tcp = own = await open_stream(host, port)
                else:
                    # The socket read directly, trio waited on only when it is empty.
                    from ._trio import TrioSocket, open_trio_stream

                    tcp = trio_own = await open_trio_stream(host, port)
                try:
                    # Small request heads and SSE lines must not wait for Nagle's timer.
                    sock = tcp.extra(anyio.abc.SocketAttribute.raw_socket)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    if tunnel is not None:
                        await _open_tunnel(tcp, tunnel)
                        host = tunnel.host
                    if ssl_context is None:
                        if own is not None:
                            return ProtocolSocket(own, sock)
                        assert trio_own is not None
                        return TrioSocket(trio_own, sock)
                    tls = await TLSStream.wrap(
                        tcp,
                        hostname=host,
                        ssl_context=ssl_context,
                        standard_compatible=False,
                    )
                    alpn = tls.extra(TLSAttribute.alpn_protocol)
                    if own is not None:
                        return ProtocolTLSSocket(tls, alpn, sock, own)
                    return AsyncSocket(tls, alpn, sock)
                except BaseException:
                    # Whatever failed or was cancelled once TCP connected (an option,
                    # the tunnel, the TLS handshake), the socket is closed here and
                    # now, not left to the garbage collector.
                    with anyio.CancelScope(shield=True):
                        await tcp.aclose()
                    raise
        except TimeoutError:
            raise TransportTimeout("connect") from None
        except (OSError, ssl.SSLError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
            # EndOfStream: the peer closed the connection in the middle of the TLS handshake.
            raise ConnectError(str(exc) or type(exc).__name__) from exc

    async def resolve(self, host: str, port: int, timeout: float | None) -> str:
        """The first address `host` resolves to (for a proxy that wants an address)."""
        try:
            with anyio.fail_after(timeout):
                found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise TransportTimeout("connect") from None
        except OSError as exc:
            raise ConnectError(f"cannot resolve {host!r}: {exc}") from exc
        return str(found[0][4][0])

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    def runtime(self) -> str | None:
        """The running event loop's library, "asyncio" or "trio" (for the platform headers)."""
        trio = sys.modules.get("trio")
        if trio is not None:
            try:
                trio.lowlevel.current_task()
            except RuntimeError:
                pass
            else:
                return "trio"
        return "asyncio"

    def lock(self, *, shared: bool = True, one_loop: bool = False) -> AsyncLock | _AsyncNoLock:
        """A lock for a resource several tasks use; a free no-op one when `shared` is False.

        `one_loop`: the resource belongs to one event loop (a socket), so the lock
        may keep what it learned of that loop.
        """
        return AsyncLock(one_loop=one_loop) if shared else _NO_LOCK

    def event(self) -> AsyncEvent:
        return AsyncEvent()

    def waiter_factory(self) -> Callable[[], AsyncWaiter]:
        """Makes waiters for the running event loop's tasks (see `AsyncWaiter`).

        Call it on that loop and keep the result for as long as what the waiters
        guard lives on it (a socket): on asyncio each waiter is then one future.
        """
        if self.runtime() == "asyncio":
            return functools.partial(_FutureWaiter, asyncio.get_running_loop())
        return _EventWaiter

    def state_lock(self) -> _NoLock:
        return _NoLock()

    def task_group(self) -> AsyncTaskGroup:
        return AsyncTaskGroup()

    async def run_blocking(self, function: Callable[[], None]) -> None:
        """Runs a blocking call (an fsync) in a worker thread, off the event loop."""
        await anyio.to_thread.run_sync(function)

    @asynccontextmanager
    async def shielded(self) -> AsyncIterator[None]:
        """Runs cleanup that must finish even when the caller is being cancelled."""
        with anyio.CancelScope(shield=True):
            yield
