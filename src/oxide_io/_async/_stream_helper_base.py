"""What the stream helpers share: pull raw items, hand each to a core accumulator,
yield the events it returns one at a time.

`chat.completions.stream()` and `responses.stream()` differ only in the
accumulator and in how they are opened; the iteration, the closing (an error
from the accumulator closes the source first) and `until_done()` are here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["AsyncHelperEventStream"]

_E = TypeVar("_E")
_S = TypeVar("_S", bound="AsyncHelperEventStream[Any]")


class AsyncHelperEventStream(Generic[_E]):
    """Events from `handle(raw)` for each raw item of `source`, in order."""

    def __init__(self, source: AsyncIterator[Any], handle: Callable[[Any], Sequence[_E]]) -> None:
        self._source = source
        self._handle = handle
        self._events: Sequence[_E] = ()
        self._next = 0

    def __aiter__(self: _S) -> _S:
        return self

    async def __anext__(self) -> _E:
        index = self._next
        events = self._events
        if index < len(events):
            self._next = index + 1
            return events[index]
        while True:
            raw = await self._source.__anext__()
            try:
                events = self._handle(raw)
            except BaseException:
                await self.close()
                raise
            if events:
                self._events = events
                self._next = 1
                return events[0]

    async def until_done(self: _S) -> _S:
        """Reads the stream to its end."""
        async for _ in self:
            pass
        return self

    async def close(self) -> None:
        """Stops the stream; an HTTP stream releases its connection. Iteration then ends."""
        self._events = ()
        self._next = 0
        closer = getattr(self._source, "aclose", None)
        if closer is not None:
            await closer()

    async def __aenter__(self: _S) -> _S:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
