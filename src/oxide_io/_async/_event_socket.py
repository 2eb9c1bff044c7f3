"""A WebSocket to the API carrying JSON events, reopened after an abnormal close.

The Responses and Realtime connections share this driver of the core's
`EventSocket`, which makes every decision: the handshake's URL and headers,
whether a close is reopened, the wait before each attempt, what `on_reconnecting`
is told, which failed attempt ends it. This module does the I/O around them:
it authenticates each handshake (key and token providers are called for every
connection), opens the socket, sleeps, sends JSON text, receives raw messages,
and turns transport failures into API errors where they cross into the public API.

Before each send the connection checks itself (`AsyncWebSocket.check_alive`):
what arrived while nobody read is taken in, and after a quiet spell the server
must answer a ping. After an abnormal close the error is raised to whoever was
waiting, and the next send reopens the connection first; a close that happened
while the connection was idle is therefore invisible to the sender, and the
messages received before it are still delivered, before those of the new one.
"""

from __future__ import annotations

import collections
import json
import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from oxide_proto import APIConnectionError, APITimeoutError
from oxide_proto.sessions._event_socket import EventSocket, WebSocketOptions, closed_error

from .._backends._errors import TransportError, TransportTimeout
from .._logging import DEBUG, logger, redact
from .._options import NOT_GIVEN, NotGiven, WebSocketConnectOptions, websocket_target
from .._timeout import to_timeout
from ._websocket import DEFAULT_CLOSE_TIMEOUT, AsyncWebSocket

if TYPE_CHECKING:
    from ._api_client import AsyncAPIClient

__all__ = ["AsyncConnectionManager", "AsyncEventSocket"]


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
        # The options as the core takes them; an unknown name is a TypeError there.
        settings: dict[str, Any] = {**options}
        timeout = settings.pop("timeout", NOT_GIVEN)
        self._options = client._options
        self.timeout = (
            client._options.timeout if isinstance(timeout, NotGiven) else to_timeout(timeout)
        )
        self.state = EventSocket(
            websocket_target(client._options, path, query, headers), WebSocketOptions(**settings)
        )
        self._backend = client._transport.backend
        # The client's transport opens the socket: its proxies, trust and client
        # certificate apply to the WebSocket as to HTTP requests.
        self._transport = client._transport
        # A client with a key or token provider (or an Azure client) authenticates
        # every handshake anew: `open()` asks it before connecting.
        self._authenticate = client._authenticate if client._options.dynamic_auth else None
        self.websocket: AsyncWebSocket | None = None
        # Messages the previous connection received before it ended, still unread.
        self._backlog: collections.deque[str | bytes] = collections.deque()

    @property
    def url(self) -> str:
        return str(self.state.url)

    @property
    def reconnects(self) -> int:
        return self.state.reconnects

    # -- opening ------------------------------------------------------------------

    async def open(self) -> None:
        """Opens the connection (the first time, or again after an abnormal close)."""
        state = self.state
        if self._authenticate is not None:
            state.authenticated(*await self._authenticate(None))
        handshake, settings = state.handshake(), state.options
        try:
            self.websocket = await AsyncWebSocket.connect(
                self._backend,
                handshake.url,
                headers=handshake.headers,
                verify=self._options.verify,
                connect_timeout=self.timeout.connect,
                max_message_size=settings.max_message_size,
                keepalive_interval=settings.keepalive_interval,
                keepalive_timeout=settings.keepalive_timeout,
                transport=self._transport,
            )
        except TransportError as exc:
            raise _api_error(exc) from exc
        state.opened()
        logger.debug("WebSocket open: %s", redact(str(handshake.url)))

    async def _ensure_open(self) -> AsyncWebSocket:
        websocket = self.websocket
        if websocket is not None and websocket.is_open:
            await websocket.check_alive()
            if websocket.is_open:
                return websocket
        self.state.check_send()
        if websocket is None:
            await self.open()
            assert self.websocket is not None
            return self.websocket
        if websocket.closed is None and websocket.session.closed is None:
            # Closing but not closed (a message was too big): finish the handshake
            # to learn the code it ended with.
            await websocket.aclose()
        closed = websocket.closed or websocket.session.closed
        code = closed.code if closed is not None else 1006
        # Raises when the close is not to be reopened: the messages before it stay
        # with the old connection, for `receive`.
        self.state.lost(code, closed.reason if closed is not None else "")
        self._backlog.extend(message.data for message in websocket.take_queued())
        await websocket.aclose()
        logger.info("The WebSocket closed (code %d); reopening it before the send", code)
        while True:
            delay = self.state.next_attempt(random.random)
            logger.info(
                "Reopening the WebSocket in %.2f s (attempt %d of %d)",
                delay,
                self.state.attempts,
                self.state.policy.max_retries,
            )
            await self._backend.sleep(delay)
            try:
                await self.open()
            except Exception as exc:
                if not self.state.open_failed(exc):
                    raise
            else:
                assert self.websocket is not None
                return self.websocket

    # -- messages -----------------------------------------------------------------

    async def send_json(self, event: Mapping[str, Any]) -> None:
        await self.send_raw(json.dumps(event, separators=(",", ":"), ensure_ascii=False))

    async def send_raw(self, text: str) -> None:
        """Sends one text message, opening the connection again first if it dropped."""
        websocket = await self._ensure_open()
        if logger.isEnabledFor(DEBUG):
            logger.debug("WebSocket send: %d characters", len(text))
        try:
            await websocket.send_text(text, self.timeout.write)
        except TransportError as exc:
            raise _api_error(exc) from exc

    async def receive(self, timeout: float | NotGiven | None = NOT_GIVEN) -> str | bytes:
        """The next message's text (or bytes for a binary message).

        Waits at most `timeout` seconds (the client's read timeout by default).
        Raises `APITimeoutError` when nothing came in time,
        `WebSocketConnectionClosedError` when the connection is over, and the
        core's `LimitExceededError` or `RemoteProtocolError` when the server broke
        a limit or the protocol. A closed connection is not reopened here: only
        a send reopens it, so a message lost in a drop is never waited for.
        """
        if self._backlog:
            return self._backlog.popleft()
        websocket = self.websocket
        if websocket is None:
            websocket = await self._ensure_open()
        elif websocket.closed is not None:
            closed = websocket.closed
            raise closed_error(closed.code, closed.reason, hint="send again to reopen it")
        wait = self.timeout.read if isinstance(timeout, NotGiven) else timeout
        try:
            message = await websocket.receive(wait)
        except TransportError as exc:
            raise _api_error(exc) from exc
        self.state.received(message.data)
        return message.data

    # -- closing ------------------------------------------------------------------

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Closes with the close handshake; later sends and receives raise."""
        self.state.close()
        websocket = self.websocket
        if websocket is not None:
            await websocket.aclose(code, reason, DEFAULT_CLOSE_TIMEOUT)


def _api_error(exc: TransportError) -> APIConnectionError:
    if isinstance(exc, TransportTimeout):
        return APITimeoutError(None, message=f"WebSocket timed out ({exc.phase}).")
    return APIConnectionError(message=f"WebSocket connection error: {exc}", request=None)


class _Closable(Protocol):
    async def close(self, code: int = 1000, reason: str = "") -> None: ...


C = TypeVar("C", bound=_Closable)


class AsyncConnectionManager(Generic[C]):
    """`async with manager as connection`: opens on entry, closes (handshake) on exit.

    `await manager.enter()` opens without the block; the caller must then close
    the connection itself.
    """

    def __init__(self, socket: AsyncEventSocket, make: Callable[[AsyncEventSocket], C]) -> None:
        self._socket = socket
        self._make = make
        self._connection: C | None = None

    async def enter(self) -> C:
        await self._socket.open()
        self._connection = self._make(self._socket)
        return self._connection

    async def __aenter__(self) -> C:
        return await self.enter()

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await self._connection.close()
