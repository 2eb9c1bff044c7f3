"""Responses: the API over one persistent WebSocket, and the stream / structured-output helpers.

`connect()` and `session()` open a WebSocket. `stream()` wraps a streamed
response (a new one, or a stored one resumed with `response_id=`) in the core's
`ResponseStreamAccumulator`; `parse()` is `create()` with the output text
parsed into `text_format` (an attrs class, dataclass, TypedDict or pydantic
model) and function-call arguments into their tools' types, as the official
SDK's helpers of the same names do. Both take Chat Completions function tools
made by `function_tool(T)` too, sent in the Responses shape.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from oxide_proto import Operation, ParsedResponse, as_responses_tools, parse_response
from oxide_proto.helpers._schema import output_parse_type

from ..._connect_args import (
    DEFAULT_QUEUE_SIZE,
    OwnWebSocketOptions,
    WebSocketConnectOptions,
    connect_options,
)
from ..._options import NOT_GIVEN, NotGiven
from .._api_client import AsyncRawResponse
from .._dispatch import AsyncConnectionManager, AsyncDispatchingConnectionManager
from .._event_socket import AsyncEventSocket
from .._resource import AsyncResource, Body, Headers, Query, TimeoutArg
from .._responses_ws import (
    AsyncBetaResponsesConnection,
    AsyncResponsesConnection,
    AsyncResponsesSession,
)
from .._stream_helper_responses import AsyncResponseStreamManager, with_text_format
from .._streamed_response import AsyncStreamedResponse

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from oxide_proto.websocket._reconnect import OnReconnecting

__all__ = ["AsyncBetaResponsesExtras", "AsyncResponsesExtras"]

_T = TypeVar("_T")

# `GET /responses/{id}?stream=true`: a stored (background) response's events, replayed.
_RESPONSES_RETRIEVE_STREAM = Operation(
    "GET", "/responses/{response_id}", stream_event="responses:ResponseStreamEvent"
)


def _given(value: Any) -> Any:
    return None if isinstance(value, NotGiven) else value


class AsyncResponsesExtras(AsyncResource):
    def connect(
        self,
        extra_query: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str | None] | None = None,
        websocket_connection_options: Mapping[str, Any] | None = None,
        on_reconnecting: OnReconnecting | None = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = DEFAULT_QUEUE_SIZE,
        **options: Unpack[OwnWebSocketOptions],
    ) -> AsyncDispatchingConnectionManager[AsyncResponsesConnection]:
        """`async with client.responses.connect() as conn`: `wss://…/v1/responses`.

        Send with `conn.response.create(...)` / `conn.response.steer(...)`; read
        typed events with `async for event in conn` or `await conn.recv()`. The URL
        is the client's `websocket_base_url`, else its `base_url` with ws/wss; the
        handshake carries the client's authorization, organization, project,
        User-Agent and default headers. The official SDK's arguments, positionally
        too (`extra_query`, `extra_headers`, `websocket_connection_options`,
        `on_reconnecting`, `max_retries`, `initial_delay`, `max_delay`,
        `max_queue_size`; see `oxide_io._connect_args`), and oxide's keywords
        `timeout`, `reconnect`, `max_message_size`, `keepalive_interval`,
        `keepalive_timeout`. A response in flight at an abnormal close fails, never
        replayed.
        """
        settings = connect_options(
            extra_query,
            extra_headers,
            websocket_connection_options,
            on_reconnecting,
            max_retries,
            initial_delay,
            max_delay,
            max_queue_size,
            options,
        )
        socket = AsyncEventSocket(self._client, "/responses", settings)
        return AsyncDispatchingConnectionManager(socket, AsyncResponsesConnection)

    def session(
        self, **options: Unpack[WebSocketConnectOptions]
    ) -> AsyncConnectionManager[AsyncResponsesSession]:
        """`async with client.responses.session() as s`: one request at a time on a WebSocket.

        `await s.send(model=..., input=...)` returns the finished `Response` (a
        failed, incomplete or errored one raises); `s.send_stream(...)` yields one
        response's events, `s.stream(...)` the same through the stream helper.
        Same options as `connect()`.
        """
        socket = AsyncEventSocket(self._client, "/responses", options)
        return AsyncConnectionManager(socket, AsyncResponsesSession)

    def stream(
        self,
        *,
        response_id: str | NotGiven = NOT_GIVEN,
        starting_after: int | NotGiven = NOT_GIVEN,
        text_format: type[_T] | NotGiven = NOT_GIVEN,
        tools: Iterable[Mapping[str, object]] | NotGiven = NOT_GIVEN,
        text: Mapping[str, object] | NotGiven = NOT_GIVEN,
        include: Sequence[str] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **params: Any,
    ) -> AsyncResponseStreamManager[_T]:
        """`async with client.responses.stream(...) as stream`: helper events.

        With `model=` and `input=` (and any `create()` parameter) it creates a
        response; with `response_id=` it resumes a stored one, yielding only
        the events after `starting_after`. Iterate for `response.output_text.delta`
        (with `snapshot`), `response.function_call_arguments.done` (with
        `parsed_arguments`), ...; `await stream.get_final_response()` returns the
        `ParsedResponse`, its `output_parsed` the text as `text_format`.
        """
        tool_list = None if isinstance(tools, NotGiven) else as_responses_tools(tools)
        if isinstance(response_id, NotGiven):
            if not isinstance(starting_after, NotGiven):
                raise TypeError("starting_after resumes a stored response: give response_id too")
            if "model" not in params or "input" not in params:
                raise TypeError("a new response needs model= and input= (or response_id=)")
            # `create` is the generated method of the class this one is mixed into.
            create = getattr(self, "create")  # noqa: B009
            request: Any = functools.partial(
                create,
                text=with_text_format(text, text_format),
                tools=NOT_GIVEN if tool_list is None else tool_list,
                include=include,
                stream=True,
                extra_headers=extra_headers,
                extra_query=extra_query,
                extra_body=extra_body,
                timeout=timeout,
                **params,
            )
        else:
            if params or not isinstance(text, NotGiven):
                names = ", ".join(
                    sorted([*params, *(() if isinstance(text, NotGiven) else ["text"])])
                )
                raise TypeError(
                    f"resuming response {response_id!r} takes no new parameters: {names}"
                )
            request = functools.partial(
                self._client._call,
                _RESPONSES_RETRIEVE_STREAM,
                path_params={"response_id": response_id},
                query={"stream": True, "include": include},
                stream=True,
                extra_headers=extra_headers,
                extra_query=extra_query,
                extra_body=extra_body,
                timeout=timeout,
            )
        return AsyncResponseStreamManager(
            request,
            text_format=_given(text_format),
            tools=tool_list,
            starting_after=_given(starting_after),
        )

    @overload
    async def parse(
        self,
        *,
        text_format: type | NotGiven = NOT_GIVEN,
        parse_as: type[_T] | None,
        tools: Iterable[Mapping[str, object]] | NotGiven = NOT_GIVEN,
        text: Mapping[str, object] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **params: Any,
    ) -> ParsedResponse[_T]: ...

    @overload
    async def parse(
        self,
        *,
        text_format: type[_T] | NotGiven = NOT_GIVEN,
        parse_as: NotGiven = NOT_GIVEN,
        tools: Iterable[Mapping[str, object]] | NotGiven = NOT_GIVEN,
        text: Mapping[str, object] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **params: Any,
    ) -> ParsedResponse[_T]: ...

    async def parse(
        self,
        *,
        text_format: type[Any] | NotGiven = NOT_GIVEN,
        parse_as: type[Any] | NotGiven | None = NOT_GIVEN,
        tools: Iterable[Mapping[str, object]] | NotGiven = NOT_GIVEN,
        text: Mapping[str, object] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **params: Any,
    ) -> ParsedResponse[Any]:
        """`create()`, with `output_parsed` the output text as `text_format`.

        `parse_as`, as in the official SDK, reads the output as another type than
        the `text_format` that sets the request's schema (None: not parsed), for
        an input whose `configuration_update` item changes the output format.
        Function calls get `parsed_arguments` (typed for tools made with
        `responses_function_tool(T)`, plain JSON for strict ones). Raises
        `OutputValidationError` naming the field that does not fit, and
        `InvalidToolArgumentsError` naming a call whose arguments do not parse.
        """
        tool_list = None if isinstance(tools, NotGiven) else as_responses_tools(tools)
        request_text = with_text_format(text, text_format)
        given_input = params.get("input")
        if isinstance(extra_body, Mapping) and "input" in extra_body:
            given_input = extra_body["input"]
        output_type = output_parse_type(
            given_input,
            request_format=request_text.get("format")
            if isinstance(request_text, Mapping)
            else None,
            text_format=_given(text_format),
            parse_as=_given(parse_as),
            parse_as_given=not isinstance(parse_as, NotGiven),
        )
        create = getattr(self, "create")  # noqa: B009
        response = await create(
            text=request_text,
            tools=NOT_GIVEN if tool_list is None else tool_list,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            **params,
        )
        if isinstance(response, AsyncStreamedResponse):
            # `with_streaming_response.parse()`: its `parse()` gives the parsed result.
            response._add_post_parser(
                lambda response: parse_response(response, text_format=output_type, tools=tool_list)
            )
            return response  # type: ignore[return-value]
        if isinstance(response, AsyncRawResponse):
            # `with_raw_response.parse()`: the raw response, whose `parse()` gives the parsed one.
            parsed: ParsedResponse[Any] = parse_response(
                response.parse(), text_format=output_type, tools=tool_list
            )
            raw: Any = AsyncRawResponse(response.http_response, response.content, parsed)
            return raw  # type: ignore[no-any-return]
        return parse_response(response, text_format=output_type, tools=tool_list)


class AsyncBetaResponsesExtras(AsyncResource):
    def connect(
        self,
        extra_query: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str | None] | None = None,
        websocket_connection_options: Mapping[str, Any] | None = None,
        on_reconnecting: OnReconnecting | None = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = DEFAULT_QUEUE_SIZE,
        **options: Unpack[OwnWebSocketOptions],
    ) -> AsyncDispatchingConnectionManager[AsyncBetaResponsesConnection]:
        """`async with client.beta.responses.connect() as conn`: `wss://…/v1/responses`.

        As `client.responses.connect()`, with the beta event classes and
        `conn.response.inject(...)`; the same arguments.
        """
        settings = connect_options(
            extra_query,
            extra_headers,
            websocket_connection_options,
            on_reconnecting,
            max_retries,
            initial_delay,
            max_delay,
            max_queue_size,
            options,
        )
        socket = AsyncEventSocket(self._client, "/responses", settings)
        return AsyncDispatchingConnectionManager(socket, AsyncBetaResponsesConnection)
