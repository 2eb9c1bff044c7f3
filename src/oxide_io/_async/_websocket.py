"""One socket driving one core WebSocket session.

The core `WebSocketSession` does the protocol: the Upgrade, framing, reassembly,
pings and pongs, keepalive decisions and the close handshake. This driver only
moves bytes: it writes what the session queued, reads when a message is wanted,
and wakes up for the session's timers while it waits, so keepalive pings go out
and a silent peer is detected. Receiving runs in one task (or thread) at a time;
sending may happen alongside it.

Nobody reads between calls (an agent running a tool), so before a send
`check_alive` takes in what arrived meanwhile and, when the server has been quiet
for the keepalive interval, waits for a pong: a connection a NAT dropped in
silence is found dead in `keepalive_timeout`, not after a whole read timeout.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping

from oxide_proto import (
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_KEEPALIVE_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE,
    NEED_DATA,
    URL,
    BinaryMessage,
    Closed,
    Headers,
    Opened,
    TextMessage,
    WebSocketConnectionClosedError,
    WebSocketSession,
    WebSocketState,
    closed_error,
)

from .._backends._anyio import AsyncBackend, AsyncSocket
from .._backends._errors import TransportError, TransportTimeout
from .._tls import VerifyTypes, ssl_context
from ._transport import AsyncTransport

__all__ = ["AsyncWebSocket", "DEFAULT_CLOSE_TIMEOUT"]

# How long a close waits for the server's Close frame before dropping the socket.
DEFAULT_CLOSE_TIMEOUT = 5.0


class AsyncWebSocket:
    """An open WebSocket: `send_text`, `receive`, `aclose`.

    Built by `AsyncWebSocket.connect`, which returns once the server accepted the
    upgrade. `receive` raises `WebSocketConnectionClosedError` once the connection
    is over (`closed` then tells how), `TransportTimeout` when nothing arrived in
    time, and the core's `LimitExceededError` / `RemoteProtocolError` when the
    server broke a limit or the protocol.
    """

    def __init__(
        self, socket: AsyncSocket, session: WebSocketSession, backend: AsyncBackend
    ) -> None:
        self.socket = socket
        self.session = session
        self.response_headers: Headers = Headers()
        self.subprotocol: str | None = None
        self.closed: Closed | None = None
        self._backend = backend
        self._state = backend.state_lock()
        self._read_lock = backend.lock()
        self._write_lock = backend.lock()
        # Tasks (threads) inside `receive` or `check_alive`, or waiting to be.
        self._readers = 0

    @classmethod
    async def connect(
        cls,
        backend: AsyncBackend,
        url: URL,
        *,
        headers: Headers | Mapping[str, str] | Iterable[tuple[str, str]] = (),
        verify: VerifyTypes = True,
        connect_timeout: float | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        keepalive_interval: float | None = DEFAULT_KEEPALIVE_INTERVAL,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
        transport: AsyncTransport | None = None,
    ) -> AsyncWebSocket:
        """Opens the TCP (and TLS) connection and completes the WebSocket handshake.

        With `transport`, the socket is the transport's (`connect_websocket`): its
        proxy choice, trust and client certificate, `verify` unused; without it, a
        direct connection trusting `verify`. `connect_timeout` bounds the whole of
        it. Raises the backend's `TransportError`s, `ProxyError` when a proxy
        refused, or `WebSocketHandshakeError` when the server refused.
        """
        session = WebSocketSession(
            url,
            headers=headers,
            keepalive_interval=keepalive_interval,
            keepalive_timeout=keepalive_timeout,
            max_message_size=max_message_size,
            now=time.monotonic(),
        )
        deadline = None if connect_timeout is None else time.monotonic() + connect_timeout
        socket = await _connect_socket(backend, transport, url, verify, connect_timeout)
        websocket = cls(socket, session, backend)
        try:
            await websocket._flush(connect_timeout)
            await websocket._open(deadline)
        except BaseException:
            await socket.aclose()
            raise
        return websocket

    async def _open(self, deadline: float | None) -> None:
        while True:
            with self._state:
                event = self.session.next_event()
            if isinstance(event, Opened):
                self.response_headers = event.headers
                self.subprotocol = event.subprotocol
                return
            if event is NEED_DATA:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TransportTimeout("connect")
                try:
                    data = await self.socket.receive(left)
                except TransportTimeout:
                    raise TransportTimeout("connect") from None
                with self._state:
                    self.session.receive_data(data, time.monotonic())
            elif isinstance(event, Closed):
                # The session raises the handshake error before its Closed event.
                raise WebSocketConnectionClosedError(
                    "the WebSocket closed during the handshake", code=event.code
                )

    @property
    def is_open(self) -> bool:
        return self.session.state is WebSocketState.OPEN and not self.socket.is_closed

    # -- sending ------------------------------------------------------------------

    async def send_text(self, text: str, timeout: float | None) -> None:
        """Sends one text message; raises `WebSocketConnectionClosedError` once closed."""
        with self._state:
            self.session.send_text(text)
        await self._flush(timeout)

    async def send_binary(self, data: bytes, timeout: float | None) -> None:
        with self._state:
            self.session.send_binary(data)
        await self._flush(timeout)

    async def _flush(self, timeout: float | None) -> None:
        async with self._write_lock:
            with self._state:
                data = self.session.data_to_send()
            if not data:
                return
            try:
                await self.socket.send(data, timeout)
            except TransportTimeout:
                raise
            except TransportError:
                # A write that fails means the connection is gone; the session
                # reports it as a close without a Close frame (1006).
                with self._state:
                    self.session.receive_data(b"")
                raise

    # -- receiving ----------------------------------------------------------------

    async def receive(self, timeout: float | None) -> TextMessage | BinaryMessage:
        """The next whole message, waiting at most `timeout` seconds for it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state:
            self._readers += 1
        try:
            return await self._receive(deadline)
        finally:
            with self._state:
                self._readers -= 1

    async def _receive(self, deadline: float | None) -> TextMessage | BinaryMessage:
        async with self._read_lock:
            while True:
                try:
                    with self._state:
                        event = self.session.next_event()
                finally:
                    # An error (a message too big) may have queued a Close frame.
                    await self._flush_quietly()
                if event is NEED_DATA:
                    await self._read(deadline)
                elif isinstance(event, (TextMessage, BinaryMessage)):
                    return event
                elif isinstance(event, Closed):
                    self.closed = event
                    await self.socket.aclose()
                    raise closed_error(event.code, event.reason)

    # -- liveness between calls ----------------------------------------------------

    async def check_alive(self) -> None:
        """Before a send: is the connection still there? Afterwards, `is_open` says.

        Takes in, without waiting, what arrived while nobody read (pings are
        answered, a Close frame or an EOF ends the connection, messages stay
        queued for `receive`); then, if the server was quiet for the keepalive
        interval, pings it and waits at most the keepalive timeout for any sign
        of life. No answer ends the session as an abnormal close (1006). Does
        nothing while another task or thread is inside `receive`: that reader
        keeps the connection alive and sees how it ends.
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
        session, socket = self.session, self.socket
        if session.state is not WebSocketState.OPEN or socket.is_closed:
            return
        # `is_readable` looks at the socket itself: bytes a TLS layer already took
        # off it are read with the next message instead.
        while socket.is_readable() and session.state is WebSocketState.OPEN:
            try:
                await self._read(time.monotonic() + DEFAULT_CLOSE_TIMEOUT)
            except TransportTimeout:
                break  # the start of a frame, the rest late: the reader will wait for it
        with self._state:
            deadline = session.check_alive(time.monotonic())
        if deadline is not None:
            await self._flush_quietly()
            while session.awaiting_pong:
                # The session's timer is the pong's deadline: when it fires first,
                # the session declares the connection dead.
                await self._read(None)
        if session.closed is not None:
            # Over: the messages before the end stay queued in the session.
            await socket.aclose()

    def take_queued(self) -> list[TextMessage | BinaryMessage]:
        """The messages received but not yet read, once the connection has ended."""
        if self.closed is not None:
            return []
        with self._state:
            messages, self.closed = self.session.take_messages()
        return messages

    async def _read(self, deadline: float | None) -> None:
        """Reads once from the socket, or runs the session's timer if it comes first."""
        now = time.monotonic()
        if deadline is not None and deadline <= now:
            raise TransportTimeout("read")
        with self._state:
            wait, timer_first = self.session.read_wait(now, deadline)
        data: bytes | None = None
        # A timer due already is run without a read: a read with no time left would
        # be a poll, which the blocking socket reports as an error, not a timeout.
        if not (timer_first and wait == 0):
            try:
                data = await self.socket.receive(wait)
            except TransportTimeout:
                if not timer_first:
                    raise
            except TransportError:
                # Reset or broken: to the session, the same as an EOF without a Close frame.
                data = b""
        with self._state:
            if data is None:
                self.session.handle_timer(time.monotonic())
            else:
                self.session.receive_data(data, time.monotonic())
        await self._flush_quietly()

    async def _flush_quietly(self) -> None:
        """Sends pongs and Close replies; a dead socket shows up at the next read instead."""
        with contextlib.suppress(TransportError):
            await self._flush(DEFAULT_CLOSE_TIMEOUT)

    # -- closing ------------------------------------------------------------------

    async def aclose(
        self, code: int = 1000, reason: str = "", timeout: float | None = DEFAULT_CLOSE_TIMEOUT
    ) -> None:
        """Closes with the handshake (RFC 6455 §7.1.2), then the socket.

        Messages still in flight from the server are read and dropped while the
        server's Close frame is awaited, for at most `timeout` seconds. Runs to
        the end even when the caller is being cancelled.
        """
        async with self._backend.shielded():
            try:
                if self.session.state is WebSocketState.OPEN and not self.socket.is_closed:
                    with self._state:
                        self.session.close(code, reason, now=time.monotonic())
                    await self._flush(timeout)
                if self.closed is None and not self.socket.is_closed:
                    # Closing, by us or by the session (a message too big): the
                    # server's Close frame says how it ended.
                    deadline = None if timeout is None else time.monotonic() + timeout
                    while True:
                        with self._state:
                            event = self.session.next_event()
                        if isinstance(event, Closed):
                            self.closed = event
                            break
                        if event is NEED_DATA:
                            await self._read(deadline)
            except Exception:
                # A peer that does not answer the close cannot keep the socket open.
                pass
            finally:
                await self.socket.aclose()


async def _connect_socket(
    backend: AsyncBackend,
    transport: AsyncTransport | None,
    url: URL,
    verify: VerifyTypes,
    timeout: float | None,
) -> AsyncSocket:
    """The socket a WebSocket to `url` runs on (the connect step, apart from the session)."""
    if transport is not None:
        return await transport.connect_websocket(url, timeout)
    context = ssl_context(verify, "websocket") if url.scheme == "wss" else None
    return await backend.connect(url.host, url.port, ssl_context=context, timeout=timeout)
