"""A stream of typed events from a Server-Sent Events response.

The core decodes (SSE framing, `[DONE]`, error events, JSON, models); this class
only pulls body bytes into it. A stream is retried, as a whole request, only while
no event has reached the caller. Close it (`async with`, `aclose()`/`close()`, or reading to
the end) to hand its connection back to the pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from oxide_proto import (
    NEED_DATA,
    OpenAIStreamDecoder,
    RemoteProtocolError,
    StreamEnd,
    decode,
)

from .._errors_map import TRANSPORT_ERRORS, to_api_error
from ._response import AsyncResponse

__all__ = ["AsyncStream"]

T = TypeVar("T")

# The events after which a stream is complete though no `[DONE]` follows: a
# Responses stream's last lifecycle event, and the closing events of transcription,
# speech and image streams.
_TERMINAL_TYPES = frozenset(
    {
        "response.completed",
        "response.failed",
        "response.incomplete",
        "transcript.text.done",
        "speech.audio.done",
        "image_generation.completed",
        "image_edit.completed",
    }
)

Reconnect = Callable[[BaseException, int], Awaitable["AsyncResponse | None"]]


class AsyncStream(Generic[T]):
    """`async for event in stream`: the events of one streamed API response."""

    def __init__(
        self, response: AsyncResponse, event_type: Any, *, reconnect: Reconnect | None = None
    ) -> None:
        self.response = response
        self._event_type = event_type
        self._reconnect = reconnect
        self._decoder = OpenAIStreamDecoder(response=response.info)
        self._delivered = 0
        self._attempt = 0
        self._terminal_seen = False
        self._closed = False

    @property
    def request_id(self) -> str | None:
        return self.response.request_id

    def __aiter__(self) -> AsyncStream[T]:
        return self

    async def __anext__(self) -> T:
        while True:
            if self._closed:
                raise StopAsyncIteration
            try:
                item = await self._next_payload()
            except TRANSPORT_ERRORS as exc:
                if await self._retry(exc):
                    continue
                await self.aclose()
                raise to_api_error(exc, self.response.request) from exc
            except BaseException:
                await self.aclose()
                raise
            if item is None:
                self._closed = True
                raise StopAsyncIteration
            self._delivered += 1
            return item

    async def _next_payload(self) -> T | None:
        decoder = self._decoder
        while True:
            event = decoder.next_event()
            if event is NEED_DATA:
                chunk = await self.response.receive()
                if chunk:
                    decoder.receive_data(chunk)
                else:
                    decoder.receive_eof()
                continue
            if isinstance(event, StreamEnd):
                await self._finish(event)
                return None
            if event.type in _TERMINAL_TYPES:
                self._terminal_seen = True
            data = event.data
            name = event.event
            if name is not None and name.startswith("thread."):
                # An Assistants event names itself only in the SSE `event:` field; its
                # model (`AssistantStreamEvent`) holds that name beside the object.
                data = {"event": name, "data": data}
            if self._event_type is None:
                return data  # type: ignore[no-any-return]
            return decode(self._event_type, data, response=self.response.info)  # type: ignore[no-any-return]

    async def _finish(self, end: StreamEnd) -> None:
        if end.done:
            # Read the (usually empty) rest so the connection can be reused.
            while await self.response.receive():
                pass
            return
        if not self._terminal_seen:
            # A transport-level failure: retried like a dropped connection while
            # nothing reached the caller, an APIConnectionError after that.
            raise RemoteProtocolError(
                "the stream ended before the API marked it complete "
                "(no [DONE] and no final event): the response is truncated"
            )

    async def _retry(self, exc: BaseException) -> bool:
        """Starts the request again if nothing reached the caller yet and policy allows."""
        if self._delivered or self._reconnect is None:
            return False
        await self.response.aclose()
        response = await self._reconnect(exc, self._attempt)
        if response is None:
            return False
        self._attempt += 1
        self.response = response
        self._decoder = OpenAIStreamDecoder(response=response.info)
        return True

    async def aclose(self) -> None:
        """Stops the stream; its connection is reset (HTTP/2) or closed (HTTP/1.1).

        Iterating a closed stream yields nothing more.
        """
        self._closed = True
        await self.response.aclose()

    # The official SDK's name for it (the blocking twin's `aclose()` is `close()`).
    # unasync: pass
    close = aclose

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def until_done(self) -> AsyncStream[T]:
        """Reads the stream to its end."""
        async for _ in self:
            pass
        return self
