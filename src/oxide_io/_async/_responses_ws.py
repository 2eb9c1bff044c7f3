"""The Responses API over one persistent WebSocket (`wss://…/v1/responses`).

An agent loop that calls tools fifty times keeps one connection instead of
opening fifty requests. The spelling is the official SDK's `responses.connect()`:
`conn.response.create(...)` sends a `response.create` event carrying the same
parameters as `POST /v1/responses` (with `previous_response_id` to continue),
`conn.response.steer(...)` a `response.steer` event, and the server's events
arrive typed, as the same classes the SSE stream gives (`ResponseTextDeltaEvent`,
...; types this package does not know arrive as `UnknownModel`).

`AsyncResponsesSession` is the request-level view of a connection: `send`
returns the finished `Response` and `send_stream` the events of one response;
a failure of any kind (an `error` event, `response.failed`, `response.incomplete`,
a close, a timeout, a malformed message) is a typed error, never a hang.

As in the SDK, `on_reconnecting=` turns reconnecting on (`reconnect=` takes a
`ReconnectPolicy` or a bool too), and the connection takes handlers by event
type (`on`, `off`, `once`, `dispatch_events()`).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from oxide_proto import (
    ReconnectPolicy,
    ResponseFailedError,
    ResponseIncompleteError,
    UnknownModel,
    WebSocketConnectionClosedError,
    decode_response_stream_event,
)
from oxide_proto.types.responses import Response, ResponseStreamEvent

from .._event_handlers import EventHandlers
from .._options import NOT_GIVEN, NotGiven
from .._reconnecting import OnReconnecting
from .._timeout import Timeout
from ._dispatch import AsyncDispatchingConnectionManager, AsyncEventDispatcher
from ._event_socket import (
    AsyncConnectionManager,
    AsyncEventSocket,
    event_error,
    parse_event_payload,
    socket_for,
)
from ._response_stream import AsyncResponseStreamManager, with_text_format

if TYPE_CHECKING:
    from ._client import AsyncAPIClient

__all__ = [
    "AsyncResponseEvents",
    "AsyncResponsesConnection",
    "AsyncResponsesResponseResource",
    "AsyncResponsesSession",
    "ResponsesServerEvent",
    "connect_responses",
    "responses_session",
]

ResponsesServerEvent = ResponseStreamEvent | UnknownModel
_T = TypeVar("_T")

# The events that end one response on the connection.
_TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete", "error"})


def connect_responses(
    client: AsyncAPIClient,
    *,
    extra_query: Mapping[str, object] | None = None,
    extra_headers: Mapping[str, str | None] | None = None,
    timeout: float | Timeout | NotGiven | None = NOT_GIVEN,
    on_reconnecting: OnReconnecting | None = None,
    max_retries: int = 5,
    initial_delay: float = 0.5,
    max_delay: float = 8.0,
    reconnect: bool | ReconnectPolicy | None = None,
    max_message_size: int = 16 * 1024 * 1024,
    keepalive_interval: float | None = 20.0,
    keepalive_timeout: float = 20.0,
) -> AsyncDispatchingConnectionManager[AsyncResponsesConnection]:
    """`async with connect_responses(client) as conn`: a Responses WebSocket.

    The URL is the client's `websocket_base_url`, else its `base_url` with ws/wss,
    plus `/responses`; the handshake carries the client's authorization,
    organization, project, User-Agent and default headers. `timeout` (the
    client's by default) bounds the connect and each wait for an event.

    Reconnecting, as in the official SDK, is on when `on_reconnecting` is given
    (or `reconnect=True`, or a `ReconnectPolicy`): after an abnormal close the
    next send reopens the connection first, in at most `max_retries` attempts,
    each after a backoff from `initial_delay` doubling to `max_delay`, each
    announced to `on_reconnecting` (a `ReconnectingEvent`; it may answer with
    `ReconnectingOverrides`). A response in flight at the close fails, never
    replayed. Before a send after `keepalive_interval` of silence, the server
    must answer a ping within `keepalive_timeout`, else the connection counts as
    dropped (1006).
    """
    socket = socket_for(
        client,
        "/responses",
        timeout=timeout,
        reconnect=reconnect,
        on_reconnecting=on_reconnecting,
        max_retries=max_retries,
        initial_delay=initial_delay,
        max_delay=max_delay,
        extra_query=extra_query,
        extra_headers=extra_headers,
        max_message_size=max_message_size,
        keepalive_interval=keepalive_interval,
        keepalive_timeout=keepalive_timeout,
    )
    return AsyncDispatchingConnectionManager(socket, AsyncResponsesConnection)


def responses_session(
    client: AsyncAPIClient,
    *,
    extra_query: Mapping[str, object] | None = None,
    extra_headers: Mapping[str, str | None] | None = None,
    timeout: float | Timeout | NotGiven | None = NOT_GIVEN,
    on_reconnecting: OnReconnecting | None = None,
    max_retries: int = 5,
    initial_delay: float = 0.5,
    max_delay: float = 8.0,
    reconnect: bool | ReconnectPolicy | None = None,
    max_message_size: int = 16 * 1024 * 1024,
    keepalive_interval: float | None = 20.0,
    keepalive_timeout: float = 20.0,
) -> AsyncConnectionManager[AsyncResponsesSession]:
    """`async with responses_session(client) as session`: request-level Responses over WebSocket.

    Takes the same options as `connect_responses`.
    """
    socket = socket_for(
        client,
        "/responses",
        timeout=timeout,
        reconnect=reconnect,
        on_reconnecting=on_reconnecting,
        max_retries=max_retries,
        initial_delay=initial_delay,
        max_delay=max_delay,
        extra_query=extra_query,
        extra_headers=extra_headers,
        max_message_size=max_message_size,
        keepalive_interval=keepalive_interval,
        keepalive_timeout=keepalive_timeout,
    )
    return AsyncConnectionManager(socket, _new_session)


def _new_session(socket: AsyncEventSocket) -> AsyncResponsesSession:
    return AsyncResponsesSession(AsyncResponsesConnection(socket))


def parse_event(data: str | bytes) -> ResponsesServerEvent:
    """One server message as a typed event; `MalformedEventError` when it is not JSON."""
    return decode_response_stream_event(parse_event_payload(data))


class AsyncResponsesResponseResource:
    """`conn.response`: the client events about responses."""

    def __init__(self, connection: AsyncResponsesConnection) -> None:
        self._connection = connection

    async def create(self, **params: Any) -> None:
        """Sends `response.create` with the parameters of `POST /v1/responses`.

        `model`, `input`, `instructions`, `tools`, `previous_response_id`, `store`,
        ... are sent as given; `stream` is implicit over a WebSocket. `stream_id`
        names a lane: requests on one lane are answered in order.
        """
        await self._connection.send({"type": "response.create", **params})

    async def steer(self, *, input: Any, previous_response_id: str) -> None:
        """Queues input for a running response (`response.steer`).

        The server answers `response.steer.accepted`, `.pending` or `.failed`.
        """
        await self._connection.send(
            {"type": "response.steer", "input": input, "previous_response_id": previous_response_id}
        )


class AsyncResponsesConnection(AsyncEventDispatcher[ResponsesServerEvent]):
    """A live Responses WebSocket: send client events, receive typed server events.

    `async for event in conn` yields events until the connection closes (it ends
    quietly after a normal close and raises `WebSocketConnectionClosedError`
    after an abnormal one); `recv()` returns one event; `on(type, handler)` and
    `dispatch_events()` call handlers instead.
    """

    def __init__(self, socket: AsyncEventSocket) -> None:
        self._socket = socket
        self._handlers: EventHandlers[ResponsesServerEvent] = EventHandlers()
        self.response = AsyncResponsesResponseResource(self)

    def _decode(self, payload: dict[str, Any]) -> ResponsesServerEvent:
        return decode_response_stream_event(payload)

    @property
    def url(self) -> str:
        return str(self._socket.url)

    @property
    def reconnects(self) -> int:
        """How many times the connection was reopened after an abnormal close."""
        return self._socket.reconnects

    async def send(self, event: Mapping[str, Any]) -> None:
        """Sends one client event (a dict with its `type`) as JSON."""
        await self._socket.send_json(event)

    async def send_raw(self, data: str) -> None:
        """Sends one text message exactly as given."""
        await self._socket.send_raw(data)

    async def recv(self, timeout: float | NotGiven | None = NOT_GIVEN) -> ResponsesServerEvent:
        """The next server event, waiting at most `timeout` (the read timeout by default)."""
        return parse_event(await self._socket.receive(timeout))

    async def recv_bytes(self, timeout: float | NotGiven | None = NOT_GIVEN) -> bytes:
        """The next server message, undecoded."""
        data = await self._socket.receive(timeout)
        return data.encode("utf-8") if isinstance(data, str) else data

    def parse_event(self, data: str | bytes) -> ResponsesServerEvent:
        return parse_event(data)

    async def _recv_payload(self, timeout: float | NotGiven | None) -> dict[str, Any]:
        return parse_event_payload(await self._socket.receive(timeout))

    async def __aiter__(self) -> AsyncIterator[ResponsesServerEvent]:
        while True:
            try:
                event = await self.recv()
            except WebSocketConnectionClosedError as exc:
                if exc.code == 1000:
                    return
                raise
            yield event

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Closes with the WebSocket close handshake; waits at most a few seconds."""
        await self._socket.aclose(code, reason)

    async def __aenter__(self) -> AsyncResponsesConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncResponsesSession:
    """One response at a time over one connection, as calls that return or raise.

    `send(request)` sends `response.create` and returns the `Response` of its
    `response.completed`; `send_stream(request)` returns the events of that one
    response. Events of a response the caller stopped reading are skipped before
    the next request goes out, so requests never see each other's events.
    """

    def __init__(self, connection: AsyncResponsesConnection) -> None:
        self.connection = connection
        self._unfinished = False

    async def send(
        self,
        request: Mapping[str, Any] | None = None,
        /,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        **params: Any,
    ) -> Response:
        """Creates a response and waits for it to complete.

        `request` (a dict) and `params` are the `POST /v1/responses` parameters.
        Raises `ResponseFailedError`, `ResponseIncompleteError`, `APIEventError`
        (an `error` event), `WebSocketConnectionClosedError`, `APITimeoutError`
        (no event within `timeout`, the read timeout by default),
        `MalformedEventError` or `LimitExceededError`.
        """
        await self._start(request, params, timeout)
        while True:
            payload = await self._next(timeout)
            kind = payload.get("type")
            if kind in _TERMINAL:
                self._unfinished = False
                return _outcome(payload)

    async def send_stream(
        self,
        request: Mapping[str, Any] | None = None,
        /,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        **params: Any,
    ) -> AsyncResponseEvents:
        """Creates a response; iterate the result for its events, the last one included.

        The iteration ends after `response.completed`, `response.failed` or
        `response.incomplete`; an `error` event raises `APIEventError`.
        """
        await self._start(request, params, timeout)
        return AsyncResponseEvents(self, timeout)

    def stream(
        self,
        request: Mapping[str, Any] | None = None,
        /,
        *,
        text_format: type[_T] | None = None,
        tools: Iterable[Mapping[str, Any]] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        **params: Any,
    ) -> AsyncResponseStreamManager[_T]:
        """`async with session.stream(model=..., input=...) as stream`: `send_stream`
        through the stream helper, as `client.responses.stream()` gives it over HTTP.

        Text deltas carry their snapshot, function calls their `parsed_arguments`,
        and `await stream.get_final_response()` the `ParsedResponse` with
        `output_parsed` (the output text as `text_format`).
        """
        body = {**(request or {}), **params}
        if text_format is not None:
            body["text"] = with_text_format(body.get("text"), text_format)
        tool_list = None if tools is None else list(tools)
        if tool_list is not None:
            body["tools"] = tool_list
        return AsyncResponseStreamManager(
            functools.partial(self.send_stream, body, timeout=timeout),
            text_format=text_format,
            tools=tool_list,
        )

    async def _start(
        self,
        request: Mapping[str, Any] | None,
        params: Mapping[str, Any],
        timeout: float | NotGiven | None,
    ) -> None:
        if self._unfinished:
            await self._skip_rest(timeout)
        event = {"type": "response.create", **(request or {}), **params}
        # Set before sending: if the send fails midway, the server may still answer.
        self._unfinished = True
        await self.connection.send(event)

    async def _skip_rest(self, timeout: float | NotGiven | None) -> None:
        try:
            while True:
                payload = await self._next(timeout)
                if payload.get("type") in _TERMINAL:
                    break
        except WebSocketConnectionClosedError:
            pass
        self._unfinished = False

    async def _next(self, timeout: float | NotGiven | None) -> dict[str, Any]:
        try:
            return await self.connection._recv_payload(timeout)
        except BaseException:
            # The connection is closed, timed out or broken: nothing of this response
            # will follow, and a later send starts afresh (over a reopened connection).
            self._unfinished = False
            raise

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.connection.close(code, reason)

    async def __aenter__(self) -> AsyncResponsesSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncResponseEvents:
    """`async for event in events`: the typed events of one response, its last included."""

    def __init__(self, session: AsyncResponsesSession, timeout: float | NotGiven | None) -> None:
        self._session = session
        self._timeout = timeout
        self._done = False

    def __aiter__(self) -> AsyncResponseEvents:
        return self

    async def __anext__(self) -> ResponsesServerEvent:
        if self._done:
            raise StopAsyncIteration
        payload = await self._session._next(self._timeout)
        kind = payload.get("type")
        if kind in _TERMINAL:
            self._done = True
            self._session._unfinished = False
            if kind == "error":
                raise event_error(payload)
        return decode_response_stream_event(payload)


def _outcome(payload: Mapping[str, Any]) -> Response:
    kind = payload.get("type")
    if kind == "error":
        raise event_error(payload)
    event = decode_response_stream_event(payload)
    response = getattr(event, "response", None)
    if not isinstance(response, Response):
        raise event_error({"type": "error", "error": {"message": f"{kind} without a response"}})
    if kind == "response.completed":
        return response
    if kind == "response.failed":
        error = response.error
        detail = getattr(error, "message", None) or "no details given"
        raise ResponseFailedError(
            f"response {response.id} failed: {detail}",
            response=response,
            body=payload.get("response", {}).get("error"),
        )
    details = response.incomplete_details
    reason = getattr(details, "reason", None)
    raise ResponseIncompleteError(
        f"response {response.id} is incomplete: {reason or 'no reason given'}",
        response=response,
        reason=reason,
    )
