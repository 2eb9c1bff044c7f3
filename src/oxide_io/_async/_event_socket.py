"""A WebSocket to the API carrying JSON events, reopened after an abnormal close.

The Responses and Realtime connections share this: the URL and handshake headers
built like an HTTP request's (same base URL, authorization, organization,
project, User-Agent, default headers), JSON text messages out, raw messages in,
transport failures turned into API errors where they cross into the public API.

Before each send the connection checks itself (`AsyncWebSocket.check_alive`):
what arrived while nobody read is taken in, and after a quiet spell the server
must answer a ping. Reconnecting follows the core's `ReconnectPolicy`, as the
official SDK does when given `on_reconnecting`: after an abnormal close (1001,
1005, 1006, 1011, 1012, 1013), the error is raised to whoever was waiting (a
message in flight may have been acted on, so nothing is replayed), and the next
send opens a new connection first, waiting the policy's backoff before each
attempt and calling `on_reconnecting` before it. A close that happened while the
connection was idle is therefore invisible to the sender; the messages received
before it are still delivered, before those of the new connection.
"""

from __future__ import annotations

import collections
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from oxide_proto import (
    URL,
    APIConnectionError,
    APIEventError,
    APITimeoutError,
    MalformedEventError,
    ReconnectPolicy,
    WebSocketConnectionClosedError,
    WebSocketHandshakeError,
    build_request,
    websocket_url,
)
from oxide_proto._azure import azure_auth_headers, realtime_target
from oxide_proto._record import frozen

from .._backends._anyio import AsyncBackend
from .._backends._errors import TransportError, TransportTimeout
from .._logging import logger, redact
from .._options import NOT_GIVEN, ClientOptions, NotGiven
from .._reconnecting import OnReconnecting, ReconnectingEvent
from .._timeout import Timeout, to_timeout
from ._websocket import DEFAULT_CLOSE_TIMEOUT, AsyncWebSocket

if TYPE_CHECKING:
    from ._client import AsyncAPIClient
    from ._transport import AsyncTransport

# `client._authenticate`: (key for `Authorization`, headers) for one handshake.
Authenticate = Callable[
    [Mapping[str, "str | None"] | None],
    Awaitable[tuple["str | None", Mapping[str, "str | None"] | None]],
]

__all__ = [
    "AsyncConnectionManager",
    "AsyncEventSocket",
    "WebSocketOptions",
    "event_error",
    "parse_event_payload",
    "reconnect_policy",
    "socket_for",
]

# Headers that describe an HTTP body or its encoding: meaningless on an Upgrade.
_NOT_FOR_UPGRADE = frozenset(
    {"accept", "accept-encoding", "content-type", "x-stainless-retry-count"}
)

_NO_RECONNECT = ReconnectPolicy(max_retries=0)


@frozen(kw_only=True)
class WebSocketOptions:
    """How a WebSocket to the API behaves; every field has a sane default.

    `timeout` defaults to the client's (its `read` bounds each wait for an event,
    `connect` the TCP, TLS and WebSocket handshakes). `max_message_size` limits
    one incoming message. `keepalive_interval` is how long the server may stay
    quiet before a ping, `keepalive_timeout` how long the pong may take (None
    turns the pings and the liveness check before sends off). `reconnect` sets
    how often and how patiently an abnormally closed connection is reopened
    (`ReconnectPolicy(max_retries=0)` never reopens); `on_reconnecting` is
    called before each attempt.
    """

    timeout: Timeout | None = None
    max_message_size: int = 16 * 1024 * 1024
    keepalive_interval: float | None = 20.0
    keepalive_timeout: float = 20.0
    reconnect: ReconnectPolicy = _NO_RECONNECT
    extra_query: Mapping[str, object] | None = None
    extra_headers: Mapping[str, str | None] | None = None
    on_reconnecting: OnReconnecting | None = None


def reconnect_policy(
    reconnect: bool | ReconnectPolicy | None,
    on_reconnecting: OnReconnecting | None,
    *,
    max_retries: int,
    initial_delay: float,
    max_delay: float,
) -> ReconnectPolicy:
    """The policy a `connect()` asked for.

    A `ReconnectPolicy` is used as given; `True` or, as in the official SDK, an
    `on_reconnecting` callback with `reconnect` left at None turns reconnecting
    on with `max_retries`, `initial_delay` and `max_delay`; `False` turns it off.
    """
    if isinstance(reconnect, ReconnectPolicy):
        return reconnect
    wanted = on_reconnecting is not None if reconnect is None else reconnect
    if not wanted:
        return _NO_RECONNECT
    return ReconnectPolicy(
        max_retries=max_retries, initial_delay=initial_delay, max_delay=max_delay
    )


def socket_for(
    client: AsyncAPIClient,
    path: str,
    *,
    query: Mapping[str, object] | None = None,
    timeout: float | Timeout | NotGiven | None,
    reconnect: bool | ReconnectPolicy | None,
    on_reconnecting: OnReconnecting | None,
    max_retries: int,
    initial_delay: float,
    max_delay: float,
    extra_query: Mapping[str, object] | None,
    extra_headers: Mapping[str, str | None] | None,
    max_message_size: int,
    keepalive_interval: float | None,
    keepalive_timeout: float,
) -> AsyncEventSocket:
    """The event socket a `connect()` with these arguments asks for, not yet open."""
    settings = WebSocketOptions(
        timeout=None if isinstance(timeout, NotGiven) else to_timeout(timeout),
        reconnect=reconnect_policy(
            reconnect,
            on_reconnecting,
            max_retries=max_retries,
            initial_delay=initial_delay,
            max_delay=max_delay,
        ),
        on_reconnecting=on_reconnecting,
        extra_query=extra_query,
        extra_headers=extra_headers,
        max_message_size=max_message_size,
        keepalive_interval=keepalive_interval,
        keepalive_timeout=keepalive_timeout,
    )
    return AsyncEventSocket(
        client._options,
        client._transport.backend,
        path,
        query=query,
        settings=settings,
        authenticate=client._authenticate if client._options.dynamic_auth else None,
        transport=client._transport,
    )


_DEFAULT_SETTINGS = WebSocketOptions()


class AsyncEventSocket:
    """The WebSocket at `path` under the client's WebSocket base URL, opened on demand."""

    def __init__(
        self,
        options: ClientOptions,
        backend: AsyncBackend,
        path: str,
        *,
        query: Mapping[str, object] | None = None,
        settings: WebSocketOptions = _DEFAULT_SETTINGS,
        authenticate: Authenticate | None = None,
        transport: AsyncTransport | None = None,
    ) -> None:
        self._options = options
        # The client's transport opens the socket: its proxies, trust and client
        # certificate apply to the WebSocket as to HTTP requests.
        self._transport = transport
        # A client with a key or token provider (or an Azure client) authenticates
        # every handshake anew: `open()` asks it before connecting.
        self._authenticate = authenticate
        self._api_key: str | None = options.api_key
        self._auth_headers: Mapping[str, str | None] = {}
        if options.azure is not None:
            self._api_key = None
            self._auth_headers = azure_auth_headers(options.azure.api_key, options.azure.ad_token)
        self._backend = backend
        self.settings = settings
        self.timeout = settings.timeout if settings.timeout is not None else options.timeout
        self._path, self._query = path, query
        # What the handshake carries; `on_reconnecting` may replace them.
        self._extra_query = settings.extra_query
        self._extra_headers = settings.extra_headers
        self.url, self._headers = self._target(path, query)
        self.websocket: AsyncWebSocket | None = None
        self.reconnects = 0
        # Reconnect attempts since a connection last brought an event that is not
        # an error: a server that accepts and at once drops does not get forever.
        self._attempts = 0
        # Messages the previous connection received before it ended, still unread.
        self._backlog: collections.deque[str | bytes] = collections.deque()
        self._closing = False

    def _target(
        self, path: str, query: Mapping[str, object] | None
    ) -> tuple[URL, list[tuple[str, str]]]:
        options = self._options
        base = options.websocket_base_url or options.base_url
        extra_headers = self._extra_headers
        if self._auth_headers:
            # Azure's auth header, below the call's own headers.
            extra_headers = {**self._auth_headers, **(extra_headers or {})}
        if options.azure is not None and path == "/realtime":
            # The Azure Realtime socket has its own URL and names the deployment.
            model = (query or {}).get("model")
            base, path, query = realtime_target(
                options.azure,
                websocket_base_url=options.websocket_base_url,
                model=model if isinstance(model, str) else None,
                query=query,
            )
        request = build_request(
            "GET",
            base,
            path,
            query=query,
            extra_query=self._extra_query,
            default_query=options.default_query,
            api_key=self._api_key,
            organization=options.organization,
            project=options.project,
            default_headers=options.default_headers,
            extra_headers=extra_headers,
            accept_encoding=None,
        )
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if name.lower() not in _NOT_FOR_UPGRADE
        ]
        return websocket_url(request.url), headers

    # -- opening ------------------------------------------------------------------

    async def open(self) -> None:
        """Opens the connection (the first time, or again after an abnormal close)."""
        timeout = self.timeout
        if self._authenticate is not None:
            # A fresh key or token for this handshake: the providers are called
            # for each connection, reconnections included.
            self._api_key, auth = await self._authenticate(None)
            self._auth_headers = auth or {}
            self.url, self._headers = self._target(self._path, self._query)
        try:
            self.websocket = await AsyncWebSocket.connect(
                self._backend,
                self.url,
                headers=self._headers,
                verify=self._options.verify,
                connect_timeout=timeout.connect,
                max_message_size=self.settings.max_message_size,
                keepalive_interval=self.settings.keepalive_interval,
                keepalive_timeout=self.settings.keepalive_timeout,
                transport=self._transport,
            )
        except TransportError as exc:
            raise _api_error(exc) from exc
        logger.debug("WebSocket open: %s", redact(str(self.url)))

    async def _ensure_open(self) -> AsyncWebSocket:
        websocket = self.websocket
        if websocket is not None and websocket.is_open:
            await websocket.check_alive()
            if websocket.is_open:
                return websocket
        if self._closing:
            raise WebSocketConnectionClosedError("the connection was closed", code=1000)
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
        reason = closed.reason if closed is not None else ""
        error = WebSocketConnectionClosedError(
            f"the WebSocket connection closed (code {code}" + (f", {reason})" if reason else ")"),
            code=code,
            reason=reason,
        )
        if not self.settings.reconnect.should_reconnect(code):
            # The messages before the close stay with the old connection, for `receive`.
            raise error
        self._backlog.extend(message.data for message in websocket.take_queued())
        await websocket.aclose()
        logger.info("The WebSocket closed (code %d); reopening it before the send", code)
        await self._reopen(error)
        assert self.websocket is not None
        return self.websocket

    async def _reopen(self, closed: WebSocketConnectionClosedError) -> None:
        """Opens a new connection after `closed`, waiting before each attempt.

        Raises `closed` when `on_reconnecting` aborts or raises, the last
        attempt's error when every attempt failed.
        """
        policy = self.settings.reconnect
        failure: Exception = closed
        while True:
            delay = policy.delay(self._attempts, random.random)
            if delay is None:
                raise failure
            self._attempts += 1
            if self.settings.on_reconnecting is not None:
                self._ask_before_reconnecting(closed, delay)
            logger.info(
                "Reopening the WebSocket in %.2f s (attempt %d of %d)",
                delay,
                self._attempts,
                policy.max_retries,
            )
            await self._backend.sleep(delay)
            try:
                await self.open()
            except (APIConnectionError, WebSocketHandshakeError) as exc:
                if isinstance(exc, WebSocketHandshakeError) and not _worth_retrying(exc):
                    raise
                failure = exc
            else:
                self.reconnects += 1
                return

    def _ask_before_reconnecting(
        self, closed: WebSocketConnectionClosedError, delay: float
    ) -> None:
        settings = self.settings
        assert settings.on_reconnecting is not None
        event = ReconnectingEvent(
            attempt=self._attempts,
            max_attempts=settings.reconnect.max_retries,
            delay=delay,
            close_code=closed.code,
            extra_query=dict(self._extra_query or {}),
            extra_headers=dict(self._extra_headers or {}),
        )
        try:
            overrides = settings.on_reconnecting(event)
        except Exception as exc:
            raise closed from exc
        if not overrides:
            return
        if overrides.get("abort"):
            raise closed
        if "extra_query" in overrides or "extra_headers" in overrides:
            self._extra_query = overrides.get("extra_query", self._extra_query)
            self._extra_headers = overrides.get("extra_headers", self._extra_headers)
            self.url, self._headers = self._target(self._path, self._query)

    def _progress(self, data: str | bytes) -> None:
        # As the official SDK counts: an event other than `error` on a reopened
        # connection proves it works, and a later drop starts from attempt 1.
        try:
            kind = json.loads(data).get("type")
        except (ValueError, AttributeError, RecursionError):
            return
        if isinstance(kind, str) and kind and kind != "error":
            self._attempts = 0

    # -- messages -----------------------------------------------------------------

    async def send_json(self, event: Mapping[str, Any]) -> None:
        await self.send_raw(json.dumps(event, separators=(",", ":"), ensure_ascii=False))

    async def send_raw(self, text: str) -> None:
        """Sends one text message, opening the connection again first if it dropped."""
        websocket = await self._ensure_open()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("WebSocket send: %d characters", len(text))
        try:
            await websocket.send_text(text, self.timeout.write)
        except TransportError as exc:
            raise _api_error(exc) from exc

    async def send_bytes(self, data: bytes) -> None:
        websocket = await self._ensure_open()
        try:
            await websocket.send_binary(data, self.timeout.write)
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
            raise _closed_again(websocket)
        wait = self.timeout.read if isinstance(timeout, NotGiven) else timeout
        try:
            message = await websocket.receive(wait)
        except TransportError as exc:
            raise _api_error(exc) from exc
        if self._attempts:
            self._progress(message.data)
        return message.data

    # -- closing ------------------------------------------------------------------

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Closes with the close handshake; later sends and receives raise."""
        self._closing = True
        websocket = self.websocket
        if websocket is not None:
            await websocket.aclose(code, reason, DEFAULT_CLOSE_TIMEOUT)


def _worth_retrying(exc: WebSocketHandshakeError) -> bool:
    # A refusal for a reason that will not change (401, 403, 404) ends it; a server
    # that is overloaded, restarting or rate limiting may accept a later attempt.
    status = exc.status_code
    return status is None or status == 429 or status >= 500


def _api_error(exc: TransportError) -> APIConnectionError:
    if isinstance(exc, TransportTimeout):
        return APITimeoutError(None, message=f"WebSocket timed out ({exc.phase}).")
    return APIConnectionError(message=f"WebSocket connection error: {exc}", request=None)


def _closed_again(websocket: AsyncWebSocket) -> WebSocketConnectionClosedError:
    closed = websocket.closed
    code = closed.code if closed is not None else 1006
    reason = closed.reason if closed is not None else ""
    detail = f"code {code}" + (f", {reason}" if reason else "")
    return WebSocketConnectionClosedError(
        f"the WebSocket connection closed ({detail}); send again to reopen it",
        code=code,
        reason=reason,
    )


def parse_event_payload(data: str | bytes) -> dict[str, Any]:
    """The JSON object in one message; `MalformedEventError` when it is not one (nor
    UTF-8 text: a binary message is never altered into U+FFFD characters)."""
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedEventError(
                f"WebSocket message is not UTF-8 text ({exc.reason} at byte {exc.start})",
                event=None,
                data=data[:2000].decode("utf-8", errors="replace"),
            ) from None
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise MalformedEventError(
            f"WebSocket message is not valid JSON: {reason}", event=None, data=text[:2000]
        ) from None
    if not isinstance(payload, dict):
        raise MalformedEventError(
            "WebSocket message is JSON but not an object", event=None, data=text[:2000]
        )
    return payload


def event_error(payload: Mapping[str, Any]) -> APIEventError:
    """The error for an `error` event.

    The WebSocket APIs nest the details (`{"type": "error", "error": {...}}`); the
    Responses SSE shape has them at the top level. Both are accepted.
    """
    details = payload.get("error")
    body: Mapping[str, Any] = details if isinstance(details, Mapping) else payload
    message = body.get("message")
    text = message if isinstance(message, str) and message else "the server sent an error event"
    code = body.get("code")
    if code is not None:
        text = f"{text} (code {code})"
    return APIEventError(text, event=payload, body=dict(body))


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
