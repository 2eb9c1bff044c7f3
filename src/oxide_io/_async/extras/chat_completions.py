"""Chat Completions helpers: `stream()` with typed helper events, `parse()` for structured outputs.

Both take what `create()` takes, with two differences the official SDK makes:
`response_format` may be a Python type (an attrs class, dataclass, TypedDict or
pydantic model), sent as its strict JSON schema and parsed back into the type;
and `tools` built with `function_tool(T)` get their call arguments parsed into
`T` (strict function tools into plain JSON). The parsing itself is the core's
(`parse_chat_completion`, `ChatCompletionAccumulator`), so a streamed and a
non-streamed reply with the same content give equal results.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from oxide_proto import ParsedChatCompletion, parse_chat_completion, response_format_for

from ..._options import NOT_GIVEN, NotGiven
from .._api_client import AsyncRawResponse
from .._resource import AsyncResource, Body, Headers, Query, TimeoutArg
from .._stream_helper_chat import AsyncChatCompletionStreamManager
from .._streamed_response import AsyncStreamedResponse

if TYPE_CHECKING:
    from oxide_proto.types.params import ChatCompletionMessageParam

__all__ = ["AsyncChatCompletionsExtras"]

_T = TypeVar("_T")


def _wire_format(response_format: object) -> Any:
    """The `response_format` to send: a type becomes its strict JSON schema."""
    if isinstance(response_format, type):
        return response_format_for(response_format)
    return response_format


def _given(value: Any) -> Any:
    return None if isinstance(value, NotGiven) else value


def _helper_headers(method: str, extra_headers: Headers | None) -> dict[str, str | None]:
    # The official SDK names its helper in this header; the API's logs see the same.
    return {"X-Stainless-Helper-Method": method, **(extra_headers or {})}


class AsyncChatCompletionsExtras(AsyncResource):
    def stream(
        self,
        *,
        messages: Iterable[ChatCompletionMessageParam],
        model: str,
        response_format: type[_T] | Mapping[str, object] | NotGiven = NOT_GIVEN,
        tools: Iterable[Mapping[str, object]] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **params: Any,
    ) -> AsyncChatCompletionStreamManager[_T]:
        """`async with client.chat.completions.stream(...) as stream`: helper events.

        The request is sent when the block is entered. Iterate the stream for
        `content.delta` (with the text so far), `content.done` (parsed into
        `response_format` when it is a type), `tool_calls.function.arguments.done`
        (as soon as each call is complete, with `parsed_arguments`), ... events;
        `await stream.get_final_completion()` returns the `ParsedChatCompletion`.
        Any other `create()` parameter (`n`, `temperature`, ...) goes in `params`.
        """
        tool_list = None if isinstance(tools, NotGiven) else list(tools)
        # `create` is the generated method of the class this one is mixed into.
        create = getattr(self, "create")  # noqa: B009
        request = functools.partial(
            create,
            messages=messages,
            model=model,
            response_format=_wire_format(response_format),
            tools=NOT_GIVEN if tool_list is None else tool_list,
            stream=True,
            extra_headers=_helper_headers("chat.completions.stream", extra_headers),
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            **params,
        )
        return AsyncChatCompletionStreamManager(
            request, response_format=_given(response_format), tools=tool_list
        )

    async def parse(
        self,
        *,
        messages: Iterable[ChatCompletionMessageParam],
        model: str,
        response_format: type[_T] | Mapping[str, object] | NotGiven = NOT_GIVEN,
        tools: Iterable[Mapping[str, object]] | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **params: Any,
    ) -> ParsedChatCompletion[_T]:
        """`create()`, with `message.parsed` the content as `response_format`.

        A refusal is left in `message.refusal` (nothing is parsed). Raises
        `LengthFinishReasonError` / `ContentFilterFinishReasonError` when a choice
        was cut short, `OutputValidationError` naming the field that does not fit
        the type, and `InvalidToolArgumentsError` naming a call whose arguments
        do not parse.
        """
        tool_list = None if isinstance(tools, NotGiven) else list(tools)
        create = getattr(self, "create")  # noqa: B009
        completion = await create(
            messages=messages,
            model=model,
            response_format=_wire_format(response_format),
            tools=NOT_GIVEN if tool_list is None else tool_list,
            extra_headers=_helper_headers("chat.completions.parse", extra_headers),
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            **params,
        )
        if isinstance(completion, AsyncStreamedResponse):
            # `with_streaming_response.parse()`: its `parse()` gives the parsed result.
            completion._add_post_parser(
                lambda completion: parse_chat_completion(
                    completion, response_format=_given(response_format), tools=tool_list
                )
            )
            return completion  # type: ignore[return-value]
        if isinstance(completion, AsyncRawResponse):
            # `with_raw_response.parse()`: the raw response, whose `parse()` gives the parsed one.
            parsed = parse_chat_completion(
                completion.parse(),
                response_format=_given(response_format),
                tools=tool_list,
            )
            raw: Any = AsyncRawResponse(completion.http_response, completion.content, parsed)
            return raw  # type: ignore[no-any-return]
        return parse_chat_completion(
            completion, response_format=_given(response_format), tools=tool_list
        )
