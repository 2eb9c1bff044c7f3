"""The Responses API over one persistent WebSocket (`wss://…/v1/responses`).

An agent loop calling tools fifty times keeps one connection instead of fifty
requests. As in the official SDK's `responses.connect()`, `conn.response.create(...)`
sends `response.create` with the parameters of `POST /v1/responses`, and server
events arrive as the classes the SSE stream gives. `AsyncResponsesSession` is the
request-level view, where any failure is a typed error, never a hang; the core's
`ResponsesTurn` says what a response came to.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, TypeVar

from oxide_proto import WebSocketConnectionClosedError, decode_response_stream_event
from oxide_proto.sessions._responses_socket import (
    BetaResponsesClientEvents,
    BetaResponsesServerEvent,
    ResponsesClientEvents,
    ResponsesServerEvent,
    ResponsesTurn,
    decode_beta_responses_event,
    stream_request,
)
from oxide_proto.types.responses import Response

from .._options import NOT_GIVEN, NotGiven
from ._dispatch import AsyncEventConnection
from ._event_socket import AsyncEventSocket
from ._stream_helper_responses import AsyncResponseStreamManager

__all__ = [
    "AsyncBetaResponsesConnection",
    "AsyncResponseEvents",
    "AsyncResponsesConnection",
    "AsyncResponsesSession",
    "ResponsesServerEvent",
]

_T = TypeVar("_T")


class AsyncResponsesConnection(AsyncEventConnection[ResponsesServerEvent]):
    """`client.responses.connect()`: `conn.response.create(...)` / `.steer(...)` out, events in."""

    def __init__(self, socket: AsyncEventSocket) -> None:
        super().__init__(socket, decode_response_stream_event)
        self.response = ResponsesClientEvents[Awaitable[None]](self.send)


class AsyncBetaResponsesConnection(AsyncEventConnection[BetaResponsesServerEvent]):
    """`client.beta.responses.connect()`: the beta event classes, `response.inject` besides."""

    def __init__(self, socket: AsyncEventSocket) -> None:
        super().__init__(socket, decode_beta_responses_event)
        self.response = BetaResponsesClientEvents[Awaitable[None]](self.send)


class AsyncResponsesSession:
    """One response at a time over one connection, as calls that return or raise.

    `send(request)` sends `response.create` and returns the `Response` of its
    `response.completed`; `send_stream(request)` returns the events of that one
    response. Events of a response the caller stopped reading are skipped before
    the next request goes out, so requests never see each other's events.
    """

    def __init__(self, socket: AsyncEventSocket) -> None:
        self.connection = AsyncResponsesConnection(socket)
        self._turn = ResponsesTurn()

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
        `MalformedEventError` or `ResponseTooLargeError`.
        """
        await self._start(request, params, timeout)
        await self._finish(timeout)
        return self._turn.result()

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
        body, tool_list = stream_request(request, params, text_format=text_format, tools=tools)
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
        if self._turn.unfinished:
            # The rest of a response the caller stopped reading; a close ends it too.
            with contextlib.suppress(WebSocketConnectionClosedError):
                await self._finish(timeout)
        await self.connection.send(self._turn.start(request, params))

    async def _finish(self, timeout: float | NotGiven | None) -> None:
        while not self._turn.feed(await self._next(timeout)):
            pass

    async def _next(self, timeout: float | NotGiven | None) -> dict[str, Any]:
        try:
            return await self.connection._recv_payload(timeout)
        except BaseException:
            # The connection is closed, timed out or broken: nothing of this response
            # will follow, and a later send starts afresh (over a reopened connection).
            self._turn.stopped()
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
        if self._session._turn.feed(payload):
            self._done = True
            self._session._turn.check()
        return decode_response_stream_event(payload)
