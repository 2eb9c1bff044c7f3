"""One socket driving one core HTTP connection (HTTP/1.1 or HTTP/2).

The driver only moves bytes: it writes what the core queued, reads when a stream
needs more input and feeds it back. HTTP/2 streams of several tasks share the
connection: one task at a time reads for everyone (the core buffers events per
stream) while the others wait. Who reads, who waits and for how long, and whom a
read wakes (the tasks of the streams it brought news to, `take_news`, those past
their deadline, and the next reader when the last one stops) are decisions of the
core's `ReadTurns`; this driver makes the waiters, sleeps, reads the socket and
wakes whom it names. A read that brings a hundred responses wakes their hundred
tasks at once, and nobody else.

Queued output is sent in the order the core produced it, under the write lock.
When what it read changed how many streams the connection takes (the peer's
SETTINGS, a refused stream, GOAWAY), the pool hears it at once through
`on_change`, so waiting requests move without waiting for a stream to end.

A waiting task's read timeout holds while another task reads: the reader's read
ends by the earliest deadline of those waiting (`ReadTurns.begin_read`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from oxide_proto import (
    NEED_DATA,
    BodyData,
    HTTPConnection,
    HTTPEvent,
    NeedData,
    ReadTurns,
    Request,
)

from .._backends._anyio import AsyncBackend, AsyncSocket, AsyncWaiter
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
        # A socket lives on one event loop: so does the lock that guards it.
        self._write_lock = backend.lock(shared=shared, one_loop=True)
        # HTTP/2 reading (see the module docstring): who reads, who waits, who is woken.
        self._turns: ReadTurns[AsyncWaiter] = ReadTurns()
        self._new_waiter: Callable[[], AsyncWaiter] | None = None
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
                seen = self._turns.reads
                accepted = self.proto.send_body(stream_id, bytes(view))
            await self.flush(timeout)
            view = view[accepted:]
            if view and not accepted:
                # HTTP/2 flow control: the window is shut until the peer reads.
                await self._read_once(timeout, seen)

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
        if self._reads_queue_output:
            event = await self._shared_event(stream_id, deadline, read_timeout)
            # Pulling body data hands its flow-control credit back: a WINDOW_UPDATE
            # may be queued; a read this task made may have left acks in the outbox.
            if type(event) is BodyData or self._outbox:
                await self.flush(read_timeout)
            return event
        # HTTP/1.1 has one stream, read by one task: nobody to read for. It has no
        # timer and no news for the pool either, so the socket is read here rather
        # than through `_read_shared`: coroutine frames fewer held by every request
        # waiting for its answer, which the garbage collector walks over at each
        # collection while hundreds wait.
        while True:
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

    # -- HTTP/2: one task reads for all, `ReadTurns` says who ----------------------------

    async def _shared_event(
        self, stream_id: int, deadline: float | None, read_timeout: float | None
    ) -> HTTPEvent:
        """The next event of `stream_id`: reads for every stream when no other task
        does, else waits until a read brings this stream something, its deadline
        (monotonic) passes, or it is this task's turn to read."""
        proto = self.proto
        turns = self._turns
        waiter: AsyncWaiter | None = None
        key = stream_id
        while True:
            wait: float | None = None
            with self._state:
                if waiter is not None:
                    turns.unpark(key, waiter)
                    waiter = None
                # Looked at under the same lock as the decision to wait: on threads,
                # another's read may have brought this stream's event a moment ago.
                try:
                    event = proto.next_event(stream_id)
                except BaseException:
                    self._pass_on()
                    raise
                if event is not NEED_DATA:
                    woken = turns.pass_on()
                    if woken is not None:
                        woken.wake()
                    return event
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    # The core decides what a silent peer means for the next request.
                    proto.timed_out(now)
                    self._pass_on()
                    raise TransportTimeout("read")
                if not turns.take():
                    make = self._new_waiter
                    if make is None:
                        make = self._new_waiter = self._backend.waiter_factory()
                    waiter = make()
                    key, wait = turns.park(stream_id, waiter, deadline, now)
            if waiter is None:
                event = await self._read_for(stream_id, deadline, read_timeout)
                if event is not NEED_DATA:
                    return event
                continue  # the reader stepped aside to send what the read queued
            try:
                await waiter.wait(wait)
            except BaseException:
                with self._state:
                    turns.unpark(key, waiter)
                    self._pass_on()
                raise

    async def _read_for(
        self, stream_id: int, deadline: float | None, read_timeout: float | None
    ) -> HTTPEvent | NeedData:
        """Reads for every stream (the caller took the reading role) until `stream_id`
        has an event, then lets another task read.

        NEED_DATA: the read queued output (acks), which is sent with the role let go
        of, so that a write waiting for the peer never keeps the others from reading.
        """
        proto = self.proto
        try:
            while True:
                try:
                    await self._read_shared(deadline)
                except TransportTimeout:
                    # The core decides what a silent peer means for the next request.
                    with self._state:
                        proto.timed_out(time.monotonic())
                    raise
                with self._state:
                    event = proto.next_event(stream_id)
                    self._outbox += proto.data_to_send()
                if event is not NEED_DATA or self._outbox:
                    break
        finally:
            with self._state:
                woken = self._turns.stop_reading()
                if woken is not None:
                    woken.wake()
        if event is NEED_DATA:
            await self.flush(read_timeout)
        return event

    async def _read_shared(self, deadline: float | None) -> None:
        """Reads once for every stream (the caller holds the reading role), feeds the
        core, wakes the tasks `ReadTurns` names for what came, and tells the pool
        when the connection's capacity changed.

        The read ends by `deadline` (the caller's: `TransportTimeout`), by the
        earliest deadline of the waiting tasks (those past theirs are woken to
        raise their own timeout) and by the core's next timer (HTTP/2 keepalive
        PINGs: the core handles it, and the caller looks at its events again).
        """
        proto = self.proto
        turns = self._turns
        now = time.monotonic()
        timer = proto.next_timer()
        # Outside the state lock: a task that parks meanwhile (on threads) either
        # sees this read's end or keeps a timer of its own.
        until = turns.begin_read(deadline, now, timer)
        data: bytes | None = None
        if until is None or until > now:
            # The core's timer (a keepalive PING due) may come first: the read then
            # ends there. The socket is read right here, one call fewer a read.
            timed = timer is not None and (until is None or until > timer)
            wait: float | None
            if timer is not None and timed:
                wait = max(timer - now, 0.0)
            else:
                wait = None if until is None else until - now
            try:
                try:
                    data = await self.socket.receive(wait)
                except TransportTimeout:
                    if not timed:
                        raise
                    await self._timer_came(until)
            except TransportTimeout:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
        elif deadline is not None and deadline <= now:
            raise TransportTimeout("read")
        changed = False
        with self._state:
            now = time.monotonic()
            if data is not None:
                proto.receive_data(data, now)
                changed = proto.capacity_changed
                if changed:
                    proto.capacity_changed = False
            for woken in turns.read_done(proto.take_news(), now):
                woken.wake()
        if changed and self._on_change is not None:
            await self._on_change(self)

    async def _timer_came(self, until: float | None) -> None:
        """The core's timer came before any input: it sends a keepalive PING (sent
        here, by `until` at the latest) or fails the streams of a connection whose
        PING went unanswered; the caller looks at its events again."""
        with self._state:
            self.proto.handle_timer(time.monotonic())
        await self.flush(None if until is None else max(until - time.monotonic(), 0.0))

    async def _read_once(self, timeout: float | None, seen: int) -> None:
        """Waits for one read after the `seen`-th (this task's, or another's): the
        flow-control window may have opened, a PING's ACK may have come."""
        deadline = None if timeout is None else time.monotonic() + timeout
        turns = self._turns
        waiter: AsyncWaiter | None = None
        key = 0
        wait: float | None = None
        with self._state:
            if turns.reads != seen:
                return  # one came since the caller looked
            if not turns.take():
                make = self._new_waiter
                if make is None:
                    make = self._new_waiter = self._backend.waiter_factory()
                waiter = make()
                key, wait = turns.park(None, waiter, deadline, time.monotonic())
        if waiter is None:
            try:
                await self._read_shared(deadline)
            finally:
                with self._state:
                    woken = turns.stop_reading()
                    if woken is not None:
                        woken.wake()
            await self.flush(timeout)
            return
        try:
            await waiter.wait(wait)
        finally:
            with self._state:
                turns.unpark(key, waiter)
                self._pass_on()
        if deadline is not None and time.monotonic() >= deadline:
            raise TransportTimeout("read")

    def _pass_on(self) -> None:
        """Wakes the task whose turn to read it now is, if any (under the state lock)."""
        woken = self._turns.pass_on()
        if woken is not None:
            woken.wake()

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
                while True:
                    with self._state:
                        seen = self._turns.reads
                        if not proto.proving:
                            break
                    # The ACK's due time is the core's timer: a read ends there.
                    await self._read_once(None, seen)
                    await self.flush(timeout)
            except TransportError:
                return False
        return self.is_reusable

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
