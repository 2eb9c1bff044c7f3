"""A WebSocket carrying JSON events to and from the API, as a sans-I/O state machine.

The Responses and Realtime connections are JSON events over one WebSocket that is
reopened after an abnormal close. Everything about that which is a decision lives
here, so a test makes it without a socket and a custom runtime drives it with its
own: the handshake's URL and headers (built like an HTTP request's: base URL,
authorization, organization, project, User-Agent, default headers; minus what only
describes an HTTP body), when a close is worth reopening, how long to wait before
each attempt, what `on_reconnecting` is told and may change, which failed attempt
ends the reconnecting (one rule with the request retry policy), when a reopened
connection has proved itself, and how a message becomes a JSON object or an error.

The driver tells `EventSocket` what happened and does what it answers:

- `connect(now)`: the next connection's `WebSocketSession` (its Upgrade queued, to
  `handshake()`'s URL with its headers, under the options' limits and keepalive);
- `opened()`: the handshake succeeded;
- `lost(code, reason)`: the connection ended before a send; raises the error
  to give the sender, or returns when it is to be reopened;
- `next_attempt(random)`: the seconds to sleep before the next attempt, or raises
  (attempts used up, `on_reconnecting` aborted);
- `open_failed(error)`: whether to try again, or raise `error`;
- `received(data)`: a message arrived (a reopened connection proves itself);
- `close()` / `check_send()`: the caller closed; later sends raise;
- `check_may_connect()`: raises when this client may open no socket at all;
- `queue(text)` / `take_queued()`: messages sent before a connection is open
  (a connection manager's `send()` before it is entered), bounded by
  `max_queue_size` bytes, to go out, in order, once one is;
- `failure(error, timed_out=...)`: the connection failed (the transport, or the
  session's protocol or handshake error): the error of the public hierarchy to
  raise in its place.

Which error a failure becomes is a decision too, made once here for every driver:
the official SDK lets its WebSocket library's own exceptions through, which no
`except APIError` catches. Here a transport fault, a frame that breaks RFC 6455 and
a handshake answer that is not HTTP (or is cut short) are `APIConnectionError`s, as
the same faults are over HTTP; a timeout is `APITimeoutError`; a message over
`max_message_size` is `ResponseTooLargeError`; a handshake refused with an HTTP
status is that status's error class (`AuthenticationError` for 401, ...), built from
the refusal's headers and body as for a request. The original stays the `__cause__`;
`WebSocketConnectionClosedError` (a close) and API errors pass unchanged.

Reopening never replays anything: a message in flight at the close may have been
acted on, so it fails and only the next send goes over the new connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..api._azure import AzureConfig, azure_auth_headers, realtime_target
from ..api._encode import build_request
from ..base._errors import (
    APIConnectionError,
    APIError,
    APIEventError,
    APIStatusError,
    APITimeoutError,
    LimitExceededError,
    MalformedEventError,
    OpenAIError,
    ResponseTooLargeError,
    WebSocketConnectionClosedError,
    WebSocketHandshakeError,
    WebSocketQueueFullError,
    status_error_from_response,
)
from ..base._headers import Headers
from ..base._record import frozen
from ..base._types import URL, Request, ResponseInfo
from ..base._url import websocket_url
from ..http._retry import retryable_handshake
from ..websocket._reconnect import NO_RECONNECT, OnReconnecting, ReconnectingEvent, ReconnectPolicy
from ..websocket._websocket_events import (
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_KEEPALIVE_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE,
)

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "EventSocket",
    "EventSocketTarget",
    "Handshake",
    "WebSocketOptions",
    "closed_error",
    "event_error",
    "parse_event_payload",
    "unhandled_error",
]

if TYPE_CHECKING:
    from ..websocket._websocket import WebSocketSession

_DEFAULT_POLICY = ReconnectPolicy()
# The official SDK's bound, in bytes, on the messages waiting for a connection.
DEFAULT_QUEUE_SIZE = 1_048_576

# Headers that describe an HTTP body or its encoding: meaningless on an Upgrade.
_NOT_FOR_UPGRADE = frozenset(
    {"accept", "accept-encoding", "content-type", "x-stainless-retry-count"}
)

# Where a binary message or an error keeps the text it could not use.
_MAX_KEPT_TEXT = 2000


@frozen(kw_only=True)
class WebSocketOptions:
    """How a WebSocket to the API behaves: the `connect()` options, every one defaulted.

    `extra_query` / `extra_headers` go on the handshake. Reconnecting, as in the
    official SDK, is on when `on_reconnecting` is given (or `reconnect=True`, or a
    `ReconnectPolicy`, used as given; `reconnect=False` turns it off): after an
    abnormal close the next send reopens the connection first, in at most
    `max_retries` attempts, each after a backoff from `initial_delay` doubling to
    `max_delay`, each announced to `on_reconnecting`. `max_message_size` limits
    one incoming message. `keepalive_interval` is how long the server may stay
    quiet before a ping, `keepalive_timeout` how long the pong may take (None
    turns the pings and the liveness check before sends off). `max_queue_size`
    bounds, in bytes, the messages waiting for the connection to open.
    """

    extra_query: Mapping[str, object] | None = None
    extra_headers: Mapping[str, str | None] | None = None
    on_reconnecting: OnReconnecting | None = None
    reconnect: bool | ReconnectPolicy | None = None
    max_retries: int = _DEFAULT_POLICY.max_retries
    initial_delay: float = _DEFAULT_POLICY.initial_delay
    max_delay: float = _DEFAULT_POLICY.max_delay
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    keepalive_interval: float | None = DEFAULT_KEEPALIVE_INTERVAL
    keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT
    max_queue_size: int = DEFAULT_QUEUE_SIZE

    def reconnect_policy(self) -> ReconnectPolicy:
        """The policy these options ask for (`max_retries=0`: never reopen)."""
        reconnect = self.reconnect
        if isinstance(reconnect, ReconnectPolicy):
            return reconnect
        wanted = self.on_reconnecting is not None if reconnect is None else reconnect
        if not wanted:
            return NO_RECONNECT
        return ReconnectPolicy(
            max_retries=self.max_retries,
            initial_delay=self.initial_delay,
            max_delay=self.max_delay,
        )


@frozen(kw_only=True)
class EventSocketTarget:
    """Where a socket goes and as whom: `path` (and `query`) under the client's base URL.

    `websocket_base_url` wins over `base_url` (whose http/https become ws/wss).
    An Azure client (`azure`) authenticates with its own header, and its Realtime
    socket has its own URL naming the deployment. A client with an X.509 workload
    identity (`x509_identity`) opens none: its certificate and the token exchanged
    for it are for HTTPS requests only, as in the official SDK.
    """

    base_url: str | URL
    path: str
    query: Mapping[str, object] | None = None
    websocket_base_url: str | None = None
    api_key: str | None = None
    organization: str | None = None
    project: str | None = None
    default_headers: Mapping[str, str] | None = None
    default_query: Mapping[str, object] | None = None
    azure: AzureConfig | None = None
    x509_identity: bool = False


@frozen
class Handshake:
    """Open a WebSocket to `url` with `headers` (the handshake's own are added by the session)."""

    url: URL
    headers: list[tuple[str, str]]


class EventSocket:
    """The decisions of one reconnecting event socket; see the module docstring."""

    def __init__(self, target: EventSocketTarget, options: WebSocketOptions) -> None:
        self.target = target
        self.options = options
        self.policy = options.reconnect_policy()
        self._api_key = target.api_key
        self._auth_headers: Mapping[str, str | None] = {}
        if target.azure is not None:
            self._api_key = None
            self._auth_headers = azure_auth_headers(target.azure.api_key, target.azure.ad_token)
        # What the handshake carries; `on_reconnecting` may replace them.
        self.extra_query = options.extra_query
        self.extra_headers = options.extra_headers
        self._handshake = self._build()
        self.reconnects = 0
        # Attempts since a connection last brought an event that is not an error:
        # a server that accepts and at once drops does not get forever.
        self.attempts = 0
        self.closing = False
        # The close being recovered from, and the failure to raise when giving up.
        self._lost: WebSocketConnectionClosedError | None = None
        self._failure: Exception | None = None
        # Messages sent before a connection was open, and their size in bytes.
        self._queued: list[str] = []
        self._queued_bytes = 0

    @property
    def url(self) -> URL:
        return self._handshake.url

    def handshake(self) -> Handshake:
        """The next connection's URL and headers."""
        return self._handshake

    def connect(self, now: float) -> WebSocketSession:
        """The next connection's session: send its `data_to_send()` (the Upgrade) first."""
        # wsproto loads with the first connection, not with `import oxide_io`.
        from ..websocket._websocket import WebSocketSession

        options, handshake = self.options, self._handshake
        return WebSocketSession(
            handshake.url,
            headers=handshake.headers,
            max_message_size=options.max_message_size,
            keepalive_interval=options.keepalive_interval,
            keepalive_timeout=options.keepalive_timeout,
            now=now,
        )

    def authenticated(self, api_key: str | None, headers: Mapping[str, str | None] | None) -> None:
        """A fresh key (for `Authorization`) and auth headers for the next handshake.

        A client with a key or token provider authenticates every handshake anew.
        """
        self._api_key = api_key
        self._auth_headers = headers or {}
        self._handshake = self._build()

    def _build(self) -> Handshake:
        target = self.target
        base: str | URL = target.websocket_base_url or target.base_url
        path = target.path
        # A query argument left as None is not sent (a default may stand in).
        query = {key: value for key, value in (target.query or {}).items() if value is not None}
        extra_headers = self.extra_headers
        if self._auth_headers:
            # The auth header, below the call's own headers.
            extra_headers = {**self._auth_headers, **(extra_headers or {})}
        if target.azure is not None and path == "/realtime":
            # The Azure Realtime socket has its own URL and names the deployment.
            model = query.get("model")
            base, path, query = realtime_target(
                target.azure,
                websocket_base_url=target.websocket_base_url,
                model=model if isinstance(model, str) else None,
                query=query,
            )
        request = build_request(
            "GET",
            base,
            path,
            query=query,
            extra_query=self.extra_query,
            default_query=target.default_query,
            api_key=self._api_key,
            organization=target.organization,
            project=target.project,
            default_headers=target.default_headers,
            extra_headers=extra_headers,
            accept_encoding=None,
        )
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if name.lower() not in _NOT_FOR_UPGRADE
        ]
        return Handshake(websocket_url(request.url), headers)

    # -- the connection's life --------------------------------------------------------

    def opened(self) -> None:
        """The handshake succeeded."""
        if self._lost is not None:
            self.reconnects += 1
            self._lost = self._failure = None

    def check_may_connect(self) -> None:
        """Raises when this client may not open the socket at all (before any
        authentication, so an X.509 identity exchanges no token for it)."""
        if self.target.x509_identity:
            raise OpenAIError("X.509 workload identity is not supported by WebSocket connections")

    def queue(self, text: str) -> None:
        """Keeps `text` to send once a connection is open; `WebSocketQueueFullError`
        (and it is not kept) when the waiting messages would pass `max_queue_size`
        bytes, `WebSocketConnectionClosedError` after the caller closed."""
        self.check_send()
        size = len(text.encode("utf-8"))
        if self._queued_bytes + size > self.options.max_queue_size:
            raise WebSocketQueueFullError(
                f"the send queue is full ({self._queued_bytes} of {self.options.max_queue_size}"
                f" bytes taken, this message is {size}): message not queued"
            )
        self._queued.append(text)
        self._queued_bytes += size

    @property
    def has_queued(self) -> bool:
        return bool(self._queued)

    def take_queued(self) -> list[str]:
        """The waiting messages, oldest first, to send now; the queue is left empty."""
        queued, self._queued, self._queued_bytes = self._queued, [], 0
        return queued

    def check_send(self) -> None:
        """Raises when the caller closed the socket: a send never reopens it then."""
        if self.closing:
            raise WebSocketConnectionClosedError("the connection was closed", code=1000)

    def close(self) -> None:
        """The caller closes the socket."""
        self.closing = True

    def lost(self, code: int, reason: str = "") -> WebSocketConnectionClosedError:
        """The connection ended with `code` before a send.

        Raises the close as an error when it is not to be reopened (then the
        messages received before it stay readable); returns it when the
        `next_attempt`s follow.
        """
        self.check_send()
        error = closed_error(code, reason)
        if not self.policy.should_reconnect(code):
            raise error
        self._lost = self._failure = error
        return error

    def next_attempt(self, random: Callable[[], float]) -> float:
        """Seconds to wait before the next attempt to reopen.

        Raises the close when `on_reconnecting` aborts or raises (its exception
        chained), the last attempt's error when every attempt failed.
        """
        lost, failure = self._lost, self._failure
        if lost is None or failure is None:
            raise RuntimeError("next_attempt() without a lost connection")
        if self.policy.exhausted(self.attempts):
            raise failure
        delay = self.policy.delay(self.attempts, random).seconds
        self.attempts += 1
        if self.options.on_reconnecting is not None:
            self._ask(lost, delay, self.options.on_reconnecting)
        return delay

    def _ask(
        self, lost: WebSocketConnectionClosedError, delay: float, callback: OnReconnecting
    ) -> None:
        event = ReconnectingEvent(
            attempt=self.attempts,
            max_attempts=self.policy.max_retries,
            delay=delay,
            close_code=lost.code,
            extra_query=dict(self.extra_query or {}),
            extra_headers=dict(self.extra_headers or {}),
        )
        try:
            overrides = callback(event)
        except Exception as exc:
            raise lost from exc
        if not overrides:
            return
        if overrides.get("abort"):
            raise lost
        if "extra_query" in overrides or "extra_headers" in overrides:
            self.extra_query = overrides.get("extra_query", self.extra_query)
            self.extra_headers = overrides.get("extra_headers", self.extra_headers)
            self._handshake = self._build()

    def open_failed(self, error: Exception) -> bool:
        """An attempt to reopen failed with `error`: True to go on, False to raise it.

        A connection error is worth another attempt; a refused handshake as the
        request retry policy says (429 and 5xx, not 401, 403 or 404), whether
        `error` is the session's `WebSocketHandshakeError` or what `failure` made
        of it.
        """
        if self._lost is None:
            return False
        handshake = error if isinstance(error, WebSocketHandshakeError) else error.__cause__
        if isinstance(handshake, WebSocketHandshakeError):
            if not retryable_handshake(handshake):
                return False
        elif not isinstance(error, APIConnectionError):
            return False
        self._failure = error
        return True

    def received(self, data: str | bytes) -> None:
        """A message arrived on the current connection."""
        if self.attempts:
            # As the official SDK counts: an event other than `error` on a reopened
            # connection proves it works, and a later drop starts from attempt 1.
            try:
                kind = json.loads(data).get("type")
            except (ValueError, AttributeError, RecursionError):
                return
            if isinstance(kind, str) and kind and kind != "error":
                self.attempts = 0

    def failure(
        self, error: Exception, *, timed_out: str | None = None
    ) -> APIError | WebSocketConnectionClosedError:
        """The error to raise for `error`, a failure of the current connection.

        `error` is what the transport raised (any exception: a reset, a refused
        connection, a TLS failure) or what the session raised (`RemoteProtocolError`,
        `LimitExceededError`, `WebSocketHandshakeError`). `timed_out` names the
        phase (`connect`, `read`, `write`) when the failure is that its time ran
        out. The answer is an `APIError` whose `__cause__` is `error` (see the
        module docstring for which class), or `error` itself when it already is an
        API error or a `WebSocketConnectionClosedError`.
        """
        if isinstance(error, (APIError, WebSocketConnectionClosedError)):
            return error
        request = Request("GET", self.url, Headers(self._handshake.headers))
        answer: APIError
        if timed_out is not None:
            answer = APITimeoutError(request, message=f"WebSocket timed out ({timed_out}).")
        elif isinstance(error, LimitExceededError):
            answer = ResponseTooLargeError(
                message=f"WebSocket message too large: {error}",
                request=request,
                limit_name=error.limit_name,
                limit=error.limit,
            )
        elif isinstance(error, WebSocketHandshakeError) and _refused(error):
            answer = _refusal_error(error, request)
        elif isinstance(error, WebSocketHandshakeError):
            answer = APIConnectionError(
                message=f"WebSocket handshake failed: {error}", request=request
            )
        else:
            answer = APIConnectionError(
                message=f"WebSocket connection error: {error}", request=request
            )
        answer.__cause__ = error
        return answer


def _refused(error: WebSocketHandshakeError) -> bool:
    """Whether the server answered the upgrade with an HTTP status (101 is the upgrade's
    own: a 101 that fails RFC 6455's checks is a broken answer, not a refusal)."""
    return error.status_code is not None and error.status_code != 101


def _refusal_error(error: WebSocketHandshakeError, request: Request) -> APIStatusError:
    """The status error for a refused upgrade, as a request refused alike gets it."""
    assert error.status_code is not None
    response = ResponseInfo(error.status_code, error.headers or Headers(), "HTTP/1.1", request)
    return status_error_from_response(response, (error.body or "").encode("utf-8"))


def closed_error(code: int, reason: str = "", *, hint: str = "") -> WebSocketConnectionClosedError:
    """The error for a connection that closed with `code` and `reason`."""
    detail = f"code {code}" + (f", {reason}" if reason else "")
    return WebSocketConnectionClosedError(
        f"the WebSocket connection closed ({detail})" + (f"; {hint}" if hint else ""),
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
                data=data[:_MAX_KEPT_TEXT].decode("utf-8", errors="replace"),
            ) from None
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise MalformedEventError(
            f"WebSocket message is not valid JSON: {reason}",
            event=None,
            data=text[:_MAX_KEPT_TEXT],
        ) from None
    if not isinstance(payload, dict):
        raise MalformedEventError(
            "WebSocket message is JSON but not an object", event=None, data=text[:_MAX_KEPT_TEXT]
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


def unhandled_error(payload: Mapping[str, Any], *, handled: bool) -> APIEventError | None:
    """The error to raise for an event no handler took: an `error` event, else None.

    Dispatching by event type, an `error` event with neither a handler of its own
    nor one for every event ends the dispatch, as in the official SDK.
    """
    if handled or payload.get("type") != "error":
        return None
    return event_error(payload)
