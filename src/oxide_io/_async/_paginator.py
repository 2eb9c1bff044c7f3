"""What an async list method returns: awaitable for its first page, iterable over every item.

`await client.files.list()` gives the first page (`.data`, `.has_next_page()`,
`await .get_next_page()`); `async for file in client.files.list()` goes through
every item of every page without the `await`, as with the official SDK. The
blocking client has no need of it: its list methods return the first page,
which iterates across pages. This module is therefore async only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine, Generator
from typing import Any, Generic, TypeVar

from ._page import AsyncPage

__all__ = ["AsyncPaginator"]

T = TypeVar("T")


class AsyncPaginator(Coroutine[Any, Any, AsyncPage[T]], Generic[T]):
    """`await` it for the first page; `async for` it for every item of every page.

    The request is made once, on the first `await` or iteration. It is a
    coroutine (it runs the request's), so `asyncio.create_task()` and trio's
    `start_soon` take it like any other.
    """

    __slots__ = ("_first",)

    def __init__(self, first: Coroutine[Any, Any, AsyncPage[T]]) -> None:
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first.__await__()

    def send(self, value: Any) -> Any:
        return self._first.send(value)

    def throw(self, *args: Any) -> Any:
        return self._first.throw(*args)

    def close(self) -> None:
        self._first.close()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._first
        async for item in page:
            yield item
