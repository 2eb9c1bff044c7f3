"""One socket driving one core HTTP connection (HTTP/1.1 or HTTP/2).

The driver only moves bytes: it writes what the core queued, reads when a stream
needs more input and feeds it back. HTTP/2 streams of several tasks share the
connection: whoever needs input takes the read lock and reads for everyone (the
core buffers events per stream); queued output is sent in the order the core
produced it, under the write lock. When what it read changed how many streams the
connection takes (the peer's SETTINGS, a refused stream, GOAWAY), the pool hears
it at once through `on_change`, so waiting requests move without waiting for a
stream to end.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from oxide_proto import NEED_DATA, BodyData, HTTPConnection, HTTPEvent, Request

from .._backends._anyio import AsyncBackend, AsyncSocket
from .._backends._errors import TransportError, TransportTimeout

__all__ = ["AsyncConnection"]


class AsyncConnection:
    """A pooled connection. `proto` is the core object; `socket` the byte stream."""

    def __init__(
        self,
        socket: AsyncSocket,
        proto: HTTPConnection,
        origin: tuple[str, str, int],
        backend: AsyncBackend,
        *,
        id: int = 0,
        on_drop: Callable[[AsyncConnection], None] | None = None,
        on_change: Callable[[AsyncConnection], Awaitable[None]] | None = None,
    ) -> None:
        # The pool's id for it (`oxide_proto.ConnectionPool` numbers connections).
        self.id = id
        self.socket = socket
        self.proto = proto
        self.origin = origin
        self.requests_started = 0
        self._on_drop = on_drop
        self._on_change = on_change
        self._backend = backend
        self._state = backend.state_lock()
        # Only HTTP/2 streams share a connection; an HTTP/1.1 connection carries one
        # request at a time, so its reads and writes need no lock (nor its cost).
        shared = proto.http_version == "HTTP/2"
        # Reading HTTP/1.1 never queues output; HTTP/2 reads may (acks, window updates).
        self._reads_queue_output = shared
        # A socket lives on one event loop: so do the locks that guard it.
        self._read_lock = backend.lock(shared=shared, one_loop=True)
        self._write_lock = backend.lock(shared=shared, one_loop=True)
        self._outbox = bytearray()
        # Streams whose response was garbage-collected before it was read or closed.
        self._dropped: list[int] = []

    @property
    def http_version(self) -> str:
        return self.proto.http_version

    async def flush(self, timeout: float | None) -> None:
        """Sends whatever the core queued (requests, acks, window updates), in order."""
        if not self._reads_queue_output:
            # HTTP/1.1: one request at a time, written by the task that sent it: the
            # core's bytes go out as they are, without the lock and the outbox copy.
            data = self.proto.data_to_send()
            if data:
                await self.socket.send(data, timeout)
            return
        with self._state:
            self._outbox += self.proto.data_to_send()
        if not self._outbox:
            return
        async with self._write_lock:
            if not self._outbox:
                return
            data = bytes(self._outbox)
            self._outbox.clear()
            await self.socket.send(data, timeout)

    def dropped(self, stream_id: int) -> None:
        """A response on `stream_id` was garbage-collected unread: abandon it on next use.

        Runs from the garbage collector, at any point of any thread, so it takes
        no lock and does no I/O (list appends only): the pool reaps the stream at its
        next checkout (`reap`), and a reset (HTTP/2) goes out with the next write.
        """
        self._dropped.append(stream_id)
        if self._on_drop is not None:
            self._on_drop(self)

    def reap(self) -> int:
        """Cancels and releases the dropped streams; returns how many (the pool
        releases as many)."""
        reaped = 0
        with self._state:
            while self._dropped:
                stream_id = self._dropped.pop()
                self.proto.cancel(stream_id)
                self.proto.release(stream_id)
                reaped += 1
        return reaped

    @property
    def is_reusable(self) -> bool:
        """Whether the connection may carry another request (the core says so and
        the socket is open)."""
        return self.proto.is_reusable and not self.socket.is_closed

    def begin(self, request: Request) -> int:
        """Queues the head of `request` in the core; returns its stream id."""
        with self._state:
            stream_id = self.proto.start_request(request)
        self.requests_started += 1
        return stream_id

    async def send_request(self, stream_id: int, request: Request, timeout: float | None) -> None:
        """Writes the head queued by `begin` and the body (streamed when it is an iterable)."""
        await self.flush(timeout)
        body = request.body
        if body is not None and not isinstance(body, bytes):
            for chunk in body:
                await self._send_chunk(stream_id, chunk, timeout)
            with self._state:
                self.proto.end_request(stream_id)
            await self.flush(timeout)

    async def _send_chunk(self, stream_id: int, chunk: bytes, timeout: float | None) -> None:
        view = memoryview(chunk)
        while view:
            with self._state:
                accepted = self.proto.send_body(stream_id, bytes(view))
            await self.flush(timeout)
            view = view[accepted:]
            if view and not accepted:
                # HTTP/2 flow control: the window is shut until the peer reads.
                await self._read_once(timeout)

    async def next_event(self, stream_id: int, read_timeout: float | None) -> HTTPEvent:
        """The next event of `stream_id`, reading from the socket as needed.

        `read_timeout` bounds the wait for this stream's next event: bytes for other
        streams, PINGs and their acks do not extend it.
        """
        proto = self.proto
        with self._state:
            event = proto.next_event(stream_id)
        if event is not NEED_DATA:
            # Buffered already. Over HTTP/2, pulling body data hands its flow-control
            # credit back, which may have queued a WINDOW_UPDATE; a head or the end
            # queues nothing.
            if self._reads_queue_output and type(event) is BodyData:
                await self.flush(read_timeout)
            return event
        deadline = None if read_timeout is None else time.monotonic() + read_timeout
        while True:
            if self._reads_queue_output:
                async with self._read_lock:
                    # Another stream's task may have read this stream's events
                    # while we waited (HTTP/2).
                    with self._state:
                        event = proto.next_event(stream_id)
                    fed = event is NEED_DATA
                    if fed:
                        await self._feed(deadline)
                if fed:
                    with self._state:
                        event = proto.next_event(stream_id)
                # Reading may have queued acks (SETTINGS, PING); pulling body data,
                # a WINDOW_UPDATE.
                if fed or type(event) is BodyData:
                    await self.flush(read_timeout)
            else:
                # HTTP/1.1 has one stream, read by one task: no lock to take. It has
                # no timer and no news for the pool either, so the socket is read
                # here rather than through `_feed`: two coroutine frames fewer held
                # by every request waiting for its answer, which the garbage
                # collector walks over at each collection while hundreds wait.
                left = None if deadline is None else deadline - time.monotonic()
                try:
                    if left is not None and left <= 0:
                        raise TransportTimeout("read")
                    data = await self.socket.receive(left)
                except TransportTimeout:
                    with self._state:
                        proto.timed_out(time.monotonic())
                    raise
                with self._state:
                    proto.receive_data(data)
                    event = proto.next_event(stream_id)
            if event is not NEED_DATA:
                return event

    async def _feed(self, deadline: float | None) -> None:
        """Reads once (by `deadline`, a monotonic time) and feeds the core what came."""
        left = None if deadline is None else deadline - time.monotonic()
        try:
            if left is not None and left <= 0:
                raise TransportTimeout("read")
            data = await self._receive(left)
        except TransportTimeout:
            # The core decides what a silent peer means for the next request.
            with self._state:
                self.proto.timed_out(time.monotonic())
            raise
        if data is not None:
            await self._give(data)

    async def check_alive(self, timeout: float | None) -> bool:
        """Before another request: whether the connection may carry it.

        When the core wants proof of life first (a read timed out on it), sends
        its PING and reads until the ACK, at most `timeout` seconds (the connect
        timeout): False when the connection is dead or stayed silent.
        """
        proto = self.proto
        with self._state:
            due = proto.check_alive(time.monotonic(), timeout)
        if due is not None:
            try:
                await self.flush(timeout)
                while proto.proving:
                    async with self._read_lock:
                        # Another stream's reader may have taken the ACK in meanwhile.
                        if proto.proving:
                            # The ACK's due time is the core's timer: the read ends there.
                            data = await self._receive(None)
                            if data is not None:
                                await self._give(data)
                    await self.flush(timeout)
            except TransportError:
                return False
        return self.is_reusable

    async def _receive(self, timeout: float | None) -> bytes | None:
        """Reads from the socket, waking for the core's timers (HTTP/2 keepalive PINGs).

        Returns None when a timer fired instead: the caller looks at its events
        again (a keepalive that went unanswered has failed the streams by then).
        """
        timer = self.proto.next_timer()
        if timer is None:
            return await self.socket.receive(timeout)
        now = time.monotonic()
        deadline = None if timeout is None else now + timeout
        wait = max(timer - now, 0.0)
        if deadline is not None and deadline <= timer:
            return await self.socket.receive(timeout)
        try:
            return await self.socket.receive(wait)
        except TransportTimeout:
            with self._state:
                self.proto.handle_timer(time.monotonic())
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            await self.flush(left)
            return None

    async def _read_once(self, timeout: float | None) -> None:
        async with self._read_lock:
            data = await self._receive(timeout)
            if data is None:
                return
            await self._give(data)
        await self.flush(timeout)

    async def _give(self, data: bytes) -> None:
        """Gives the core what was read; tells the pool when its capacity changed."""
        proto = self.proto
        with self._state:
            proto.receive_data(data, time.monotonic())
            changed = proto.capacity_changed
            if changed:
                proto.capacity_changed = False
        if changed and self._on_change is not None:
            await self._on_change(self)

    async def cancel(self, stream_id: int) -> None:
        """Abandons a stream: HTTP/2 resets it, HTTP/1.1 gives up the connection."""
        async with self._backend.shielded():
            with self._state:
                self.proto.cancel(stream_id)
            if self.proto.is_reusable:
                try:
                    await self.flush(1.0)
                except Exception:
                    await self.aclose()

    def release(self, stream_id: int) -> None:
        with self._state:
            self.proto.release(stream_id)

    async def aclose(self) -> None:
        await self.socket.aclose()
