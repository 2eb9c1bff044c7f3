"""One socket driving one core `WebSocketSession`, its `proto`.

The session does the protocol (the Upgrade, framing, pings, keepalive, the close
handshake). This driver writes what the session queued, reads when a message is
wanted and runs the session's timers while it waits. One task (or thread)
receives at a time; sends may run beside it. Nobody reads between calls (an agent
running a tool), so `check_alive` runs before a send.
"""

from __future__ import annotations

import contextlib
import time

from oxide_proto import (
    DEFAULT_CLOSE_TIMEOUT,
    BinaryMessage,
    Closed,
    NeedData,
    Opened,
    TextMessage,
    WebSocketEvent,
    WebSocketSession,
    WebSocketState,
    closed_error,
)

from .._backends._anyio import AsyncBackend, AsyncSocket
from .._backends._errors import TransportError, TransportTimeout
from ._transport import AsyncTransport

__all__ = ["AsyncWebSocket"]

Message = TextMessage | BinaryMessage


class AsyncWebSocket:
    """An open WebSocket (`connect`): `send_text`, `receive`, `aclose`."""

    def __init__(self, socket: AsyncSocket, proto: WebSocketSession, backend: AsyncBackend) -> None:
        self.socket = socket
        self.proto = proto
        self._backend = backend
        self._state = backend.state_lock()
        self._read_lock = backend.lock()
        self._write_lock = backend.lock()
        # Tasks (threads) inside `receive` or `check_alive`, or waiting to be.
        self._readers = 0

    @classmethod
    async def connect(
        cls, transport: AsyncTransport, proto: WebSocketSession, timeout: float | None
    ) -> AsyncWebSocket:
        """Sends `proto`'s Upgrade over the transport's socket (its proxy, trust and
        client certificate) and returns once the server accepted, within `timeout`.

        Raises the backend's `TransportError`s, `ProxyError`, `WebSocketHandshakeError`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        socket = await transport.connect_websocket(proto.url, timeout)
        websocket = cls(socket, proto, transport.backend)
        try:
            await websocket._flush(timeout)
            event = await websocket._event(deadline, "connect")
            if isinstance(event, Closed):  # a refusal raises before its Closed
                raise closed_error(event.code, event.reason)
        except BaseException:
            await socket.aclose()
            raise
        return websocket

    @property
    def is_open(self) -> bool:
        return self.proto.state is WebSocketState.OPEN and not self.socket.is_closed

    async def send_text(self, text: str, timeout: float | None) -> None:
        """Sends one text message; raises `WebSocketConnectionClosedError` once closed."""
        with self._state:
            self.proto.send_text(text)
        await self._flush(timeout)

    async def _flush(self, timeout: float | None) -> None:
        async with self._write_lock:
            with self._state:
                data = self.proto.data_to_send()
            if not data:
                return
            try:
                await self.socket.send(data, timeout)
            except TransportTimeout:
                raise
            except TransportError:
                # The connection is gone: to the session, an EOF without a Close frame.
                with self._state:
                    self.proto.receive_data(b"")
                raise

    async def _flush_quietly(self) -> None:
        """Sends pongs and Close replies; a dead socket shows up at the next read instead."""
        with contextlib.suppress(TransportError):
            await self._flush(DEFAULT_CLOSE_TIMEOUT)

    async def receive(self, timeout: float | None) -> Message:
        """The next whole message, waiting at most `timeout` seconds for it.

        Raises `WebSocketConnectionClosedError` once the connection is over,
        `TransportTimeout`, and the core's `LimitExceededError` / `RemoteProtocolError`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state:
            self._readers += 1
        try:
            async with self._read_lock:
                event = await self._event(deadline)
        finally:
            with self._state:
                self._readers -= 1
        if isinstance(event, Closed):
            await self.socket.aclose()
            raise closed_error(event.code, event.reason)
        assert not isinstance(event, Opened)  # the session gives it once, to `connect`
        return event

    async def _event(self, deadline: float | None, phase: str = "read") -> WebSocketEvent:
        """The session's next event, reading (and running its timers) until one comes."""
        while True:
            with self._state:
                event = self.proto.next_event()
            if not isinstance(event, NeedData):
                return event
            await self._read(deadline, phase)

    async def _read(self, deadline: float | None, phase: str = "read") -> None:
        """Reads once from the socket, or runs the session's timer if it comes first."""
        now = time.monotonic()
        if deadline is not None and deadline <= now:
            raise TransportTimeout(phase)
        with self._state:
            wait, timer_first = self.proto.read_wait(now, deadline)
        data: bytes | None = None
        # A timer due already is run without a read: a read with no time left would
        # be a poll, which the blocking socket reports as an error, not a timeout.
        if not (timer_first and wait == 0):
            try:
                data = await self.socket.receive(wait)
            except TransportTimeout:
                if not timer_first:
                    raise TransportTimeout(phase) from None
            except TransportError:
                if self.proto.state is WebSocketState.CONNECTING:
                    raise  # the connect failed: the transport's error says how
                data = b""  # reset or broken: to the session, an EOF without a Close frame
        with self._state:
            if data is None:
                self.proto.handle_timer(time.monotonic())
            else:
                self.proto.receive_data(data, time.monotonic())
        await self._flush_quietly()

    async def check_alive(self) -> None:
        """Before a send: is the connection still there? Afterwards, `is_open` says.

        Takes in what arrived while nobody read; after a quiet spell, waits for the
        pong of the session's ping (`WebSocketSession.check_alive`): a connection a
        NAT dropped in silence is found dead in `keepalive_timeout`. Does nothing
        while another task or thread is inside `receive`.
        """
        with self._state:
            if self._readers:
                return
            self._readers += 1
        try:
            async with self._read_lock:
                await self._check_alive()
        finally:
            with self._state:
                self._readers -= 1

    async def _check_alive(self) -> None:
        proto, socket = self.proto, self.socket
        if proto.state is not WebSocketState.OPEN or socket.is_closed:
            return
        # `is_readable` looks at the socket itself: bytes a TLS layer already took
        # off it are read with the next message instead.
        while socket.is_readable() and proto.state is WebSocketState.OPEN:
            try:
                await self._read(time.monotonic() + DEFAULT_CLOSE_TIMEOUT)
            except TransportTimeout:
                break  # the start of a frame, the rest late: the reader will wait for it
        with self._state:
            deadline = proto.check_alive(time.monotonic())
        if deadline is not None:
            await self._flush_quietly()
            while proto.awaiting_pong:
                # The session's timer is the pong's deadline: when it fires first,
                # the session declares the connection dead.
                await self._read(None)
        if proto.closed is not None:
            await socket.aclose()  # the messages before the end stay queued in the session

    async def ended(self) -> tuple[list[Message], Closed]:
        """Once not `is_open`: the unread messages and how it ended (a close under way finished)."""
        await self.aclose()
        with self._state:
            messages, closed = self.proto.take_messages()
        assert closed is not None  # `aclose` leaves the session closed
        return messages, closed

    async def aclose(
        self, code: int = 1000, reason: str = "", timeout: float | None = DEFAULT_CLOSE_TIMEOUT
    ) -> None:
        """Closes with the handshake (RFC 6455 §7.1.2), then the socket, even when cancelled.

        Messages still in flight are dropped while the server's Close frame is
        awaited, for at most `timeout` seconds; the session is closed afterwards.
        """
        proto = self.proto
        async with self._backend.shielded():
            try:
                if proto.state is WebSocketState.OPEN and not self.socket.is_closed:
                    with self._state:
                        proto.close(code, reason, now=time.monotonic())
                    await self._flush(timeout)
                if proto.closed is None and not self.socket.is_closed:
                    deadline = None if timeout is None else time.monotonic() + timeout
                    while not isinstance(await self._event(deadline), Closed):
                        pass
            except Exception:
                pass  # a peer that does not answer the close cannot keep the socket open
            finally:
                await self.socket.aclose()
                with self._state:
                    proto.receive_data(b"")  # the socket is gone: an EOF, if not ended yet
