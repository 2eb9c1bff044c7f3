"""`chat.completions.stream()`: a chunk stream seen through the core's chat accumulator.

The request goes out when the manager is entered (`async with`), as with the
official SDK, so a stream can never be left open by forgetting to close it.
Every chunk is handed to `ChatCompletionAccumulator.handle_chunk()` and the
events it returns are yielded one by one; all the work per chunk is the core's,
this driver only pulls chunks. An error raised by the accumulator (a cut-short
structured reply, tool arguments that do not parse) closes the stream first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from oxide_proto import (
    ChatCompletionAccumulator,
    ChatCompletionStreamEvent,
    ParsedChatCompletion,
)
from oxide_proto.types.chat import ChatCompletionChunk

from ._response import AsyncResponse
from ._sse_stream import AsyncStream
from ._stream_helper_base import AsyncHelperEventStream

__all__ = ["AsyncChatCompletionStream", "AsyncChatCompletionStreamManager"]

_T = TypeVar("_T")


class AsyncChatCompletionStream(AsyncHelperEventStream[ChatCompletionStreamEvent], Generic[_T]):
    """`async for event in stream`: the helper events of one streamed chat completion.

    Events are the core's (`ChunkEvent`, `ContentDeltaEvent`, `ContentDoneEvent`,
    `FunctionToolCallArgumentsDoneEvent`, `ChoiceDoneEvent`, ...); each names its
    `choice_index`, so the choices of `n > 1` stay apart.
    """

    def __init__(
        self, raw: AsyncStream[ChatCompletionChunk], accumulator: ChatCompletionAccumulator[_T]
    ) -> None:
        super().__init__(raw, accumulator.handle_chunk)
        self._raw = raw
        self._accumulator = accumulator

    @property
    def response(self) -> AsyncResponse:
        """The HTTP response the chunks come from (status, headers, HTTP version)."""
        return self._raw.response

    @property
    def request_id(self) -> str | None:
        return self._raw.request_id

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[object]:
        """The completion so far, updated in place by every chunk."""
        return self._accumulator.current_completion_snapshot

    async def get_final_completion(self) -> ParsedChatCompletion[_T]:
        """Reads the rest of the stream; the whole completion, parsed as `parse()` would give it."""
        await self.until_done()
        return self._accumulator.get_final_completion()


class AsyncChatCompletionStreamManager(Generic[_T]):
    """`async with client.chat.completions.stream(...) as stream`: sends the request on entry
    and closes the stream on exit, however the block ends."""

    def __init__(
        self,
        request: Callable[[], Awaitable[AsyncStream[ChatCompletionChunk]]],
        *,
        response_format: type[_T] | Mapping[str, Any] | None,
        tools: Iterable[Mapping[str, Any]] | None,
    ) -> None:
        self._request = request
        self._response_format = response_format
        self._tools = tools
        self._stream: AsyncChatCompletionStream[_T] | None = None

    async def __aenter__(self) -> AsyncChatCompletionStream[_T]:
        raw = await self._request()
        accumulator: ChatCompletionAccumulator[_T] = ChatCompletionAccumulator(
            response_format=self._response_format, tools=self._tools
        )
        self._stream = AsyncChatCompletionStream(raw, accumulator)
        return self._stream

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            await self._stream.close()
