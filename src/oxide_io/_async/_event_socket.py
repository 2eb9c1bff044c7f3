"""A WebSocket to the API carrying JSON events, reopened after an abnormal close.

The core's `EventSocket` (this driver's `proto`) makes every decision: the
handshake, whether a close is reopened, the wait before each attempt, what
`on_reconnecting` is told, the API error a failure becomes (`failure`). This driver
authenticates each handshake anew, opens the socket, sleeps, sends and receives.
After an abnormal close the error goes to whoever was waiting and the next send
reopens; the messages received before the close are delivered first. Messages
queued before a connection was open (`queue_json`) go out, in order, when the
connection manager is entered, or before the next send.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oxide_proto import RemoteProtocolError, encode_event_text

from .._backends._errors import TransportError, TransportTimeout
from .._connect_args import WebSocketConnectOptions, event_socket
from .._logging import DEBUG, logger, redact
from .._options import NOT_GIVEN, NotGiven
from ._websocket import AsyncWebSocket

if TYPE_CHECKING:
    from oxide_proto import BaseModel

    from ._api_client import AsyncAPIClient

__all__ = ["AsyncEventSocket"]


class AsyncEventSocket:
    """The WebSocket at `path` under the client's WebSocket base URL, opened on demand."""

    def __init__(
        self,
        client: AsyncAPIClient,
        path: str,
        options: WebSocketConnectOptions,
        query: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.proto, self.timeout = event_socket(client._options, path, options, query, headers)
        # The client's transport opens the socket: its proxies, trust and client
        # certificate apply to the WebSocket as to HTTP requests.
        self._transport = client._transport
        # A key or token provider (or Azure) authenticates every handshake anew.
        self._authenticate = client._authenticate if client._options.dynamic_auth else None
        self.websocket: AsyncWebSocket | None = None
        # Messages the previous connection received before it ended, still unread.
        self._backlog: collections.deque[str | bytes] = collections.deque()

    async def open(self) -> AsyncWebSocket:
        """Opens the connection (the first time, or again after an abnormal close)."""
        proto = self.proto
        proto.check_may_connect()  # before authenticating: a refused socket exchanges no token
        if self._authenticate is not None:
            proto.authenticated(*await self._authenticate(None))
        try:
            self.websocket = await AsyncWebSocket.connect(
                self._transport, proto.connect(time.monotonic()), self.timeout.connect
            )
        except (TransportError, RemoteProtocolError) as exc:
            raise self._failure(exc) from exc
        proto.opened()
        logger.debug("WebSocket open: %s", redact(str(proto.url)))
        return self.websocket

    async def _ensure_open(self) -> AsyncWebSocket:
        websocket, proto = self.websocket, self.proto
        if websocket is not None and websocket.is_open:
            await websocket.check_alive()
            if websocket.is_open:
                return websocket
        proto.check_send()
        if websocket is None:
            return await self.open()
        messages, closed = await websocket.ended()
        self._backlog.extend(message.data for message in messages)
        proto.lost(closed.code, closed.reason)  # raises unless the close is to be reopened
        logger.info("The WebSocket closed (code %d); reopening it before the send", closed.code)
        while True:
            delay = proto.next_attempt(random.random)
            logger.info(
                "Reopening the WebSocket in %.2f s (attempt %d of %d)",
                delay,
                proto.attempts,
                proto.policy.max_retries,
            )
            await self._transport.backend.sleep(delay)
            try:
                return await self.open()
            except Exception as exc:
                if not proto.open_failed(exc):
                    raise

    def queue_json(self, event: Mapping[str, Any] | BaseModel) -> None:
        """Keeps one client event (a dict or an event model) to send once the
        connection is open (see the core's `EventSocket.queue` for the bound)."""
        self.proto.queue(encode_event_text(event))

    async def send_queued(self) -> None:
        """Sends the queued messages, oldest first, over the open connection."""
        websocket = self.websocket
        assert websocket is not None  # called once open
        for text in self.proto.take_queued():
            try:
                await websocket.send_text(text, self.timeout.write)
            except TransportError as exc:
                raise self._failure(exc) from exc

    async def send_json(self, event: Mapping[str, Any] | BaseModel) -> None:
        """Sends one client event, a dict or an event model, as JSON."""
        await self.send_raw(encode_event_text(event))

    async def send_raw(self, text: str) -> None:
        """Sends one text message, opening the connection again first if it dropped."""
        websocket = await self._ensure_open()
        if self.proto.has_queued:
            await self.send_queued()  # what the manager queued goes first
        if logger.isEnabledFor(DEBUG):
            logger.debug("WebSocket send: %d characters", len(text))
        try:
            await websocket.send_text(text, self.timeout.write)
        except TransportError as exc:
            raise self._failure(exc) from exc

    async def receive(self, timeout: float | NotGiven | None = NOT_GIVEN) -> str | bytes:
        """The next message's text (or bytes), within `timeout` (the client's read timeout).

        Raises `APITimeoutError`, `WebSocketConnectionClosedError` once it is over
        (only a send reopens it: a message lost in a drop is never waited for),
        `ResponseTooLargeError` or `APIConnectionError` (the server broke the protocol).
        """
        if self._backlog:
            return self._backlog.popleft()
        websocket = self.websocket or await self._ensure_open()
        try:
            message = await websocket.receive(
                self.timeout.read if isinstance(timeout, NotGiven) else timeout
            )
        except (TransportError, RemoteProtocolError) as exc:
            raise self._failure(exc) from exc
        self.proto.received(message.data)
        return message.data

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Closes with the close handshake; later sends and receives raise."""
        self.proto.close()
        if self.websocket is not None:
            await self.websocket.aclose(code, reason)

    def _failure(self, exc: Exception) -> Exception:
        # An APIError, or WebSocketConnectionClosedError as it is.
        timed_out = exc.phase if isinstance(exc, TransportTimeout) else None
        return self.proto.failure(exc, timed_out=timed_out)
