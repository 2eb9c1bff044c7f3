"""`responses.stream()`: Responses API events seen through the core's stream accumulator.

The events may come from an SSE response (`POST /responses`, or
`GET /responses/{id}?stream=true` to resume a stored one) or from a WebSocket
session (`session.stream(...)`): the helper takes any async iterator of decoded
events, hands each to `ResponseStreamAccumulator.handle_event()` and yields what
it returns (text deltas with their snapshot, function-call arguments parsed as
soon as each call is complete, `response.completed` carrying the
`ParsedResponse`). The request goes out when the manager is entered.

Resuming with `starting_after=N` reads the response's stream from its start, so
the accumulator sees every output item, and yields only the events whose
`sequence_number` is above N, as the official SDK does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from oxide_proto import ParsedResponse, ResponseStreamAccumulator, UnknownModel, text_with_format
from oxide_proto.types.responses import Response, ResponseStreamEvent

from .._options import NotGiven
from ._stream_helper_base import AsyncHelperEventStream

__all__ = ["AsyncResponseStream", "AsyncResponseStreamManager", "with_text_format"]

_T = TypeVar("_T")

ResponseEvent = ResponseStreamEvent | UnknownModel


def with_text_format(
    text: Mapping[str, object] | NotGiven | None, text_format: type | NotGiven | None
) -> Mapping[str, object] | NotGiven | None:
    """The `text` parameter with `format` set to `text_format`'s strict JSON schema."""
    if text_format is None or isinstance(text_format, NotGiven):
        return text
    return text_with_format(None if isinstance(text, NotGiven) else text, text_format)


class AsyncResponseStream(AsyncHelperEventStream[ResponseEvent], Generic[_T]):
    """`async for event in stream`: the helper events of one response.

    The helper events (`ResponseTextDeltaEvent` with `snapshot`,
    `ResponseFunctionCallArgumentsDoneEvent` with `parsed_arguments`, ...) are
    subclasses of the raw ones; every other event passes through unchanged.
    """

    def __init__(
        self,
        source: AsyncIterator[Any],
        accumulator: ResponseStreamAccumulator[_T],
        *,
        starting_after: int | None = None,
    ) -> None:
        handle: Callable[[Any], Sequence[ResponseEvent]] = accumulator.handle_event
        if starting_after is not None:
            handle = _events_after(handle, starting_after)
        super().__init__(source, handle)
        self._accumulator = accumulator

    @property
    def current_snapshot(self) -> Response:
        """The response so far (the last lifecycle event's, with the output streamed)."""
        return self._accumulator.current_snapshot

    async def get_final_response(self) -> ParsedResponse[_T]:
        """Reads the rest of the stream; the whole response with `output_parsed`.

        That is `response.completed`'s response, parsed; after `response.failed`
        or `response.incomplete` it is rebuilt from what the stream delivered.
        """
        await self.until_done()
        return self._accumulator.get_final_response()


def _events_after(
    handle: Callable[[Any], Sequence[ResponseEvent]], after: int
) -> Callable[[Any], Sequence[ResponseEvent]]:
    # The accumulator still sees every event (it needs every output item); only
    # the ones numbered above `after` are yielded.
    def handle_after(raw: Any) -> Sequence[ResponseEvent]:
        return [e for e in handle(raw) if getattr(e, "sequence_number", after + 1) > after]

    return handle_after


class AsyncResponseStreamManager(Generic[_T]):
    """`async with client.responses.stream(...) as stream`: sends the request on entry
    and closes the stream on exit, however the block ends."""

    def __init__(
        self,
        request: Callable[[], Awaitable[AsyncIterator[Any]]],
        *,
        text_format: type[_T] | None,
        tools: Iterable[Mapping[str, Any]] | None,
        starting_after: int | None = None,
    ) -> None:
        self._request = request
        self._text_format = text_format
        self._tools = tools
        self._starting_after = starting_after
        self._stream: AsyncResponseStream[_T] | None = None

    async def __aenter__(self) -> AsyncResponseStream[_T]:
        source = await self._request()
        accumulator: ResponseStreamAccumulator[_T] = ResponseStreamAccumulator(
            text_format=self._text_format, tools=self._tools
        )
        self._stream = AsyncResponseStream(source, accumulator, starting_after=self._starting_after)
        return self._stream

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            await self._stream.close()
