"""A page of a list operation: the decoded list model, and the way to the next page.

The official SDK returns a page object for list operations, which code iterates
directly (every item of every page, fetched as the loop goes) or walks page by
page (`has_next_page()`, `next_page_info()`, `get_next_page()`). The page keeps the model the core
decoded and reads through to it (`page.data`, `page.has_more`, `page.to_dict()`).
How the next page is asked for is the operation's pagination style (see
`Operation.page`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from .._page_info import PageInfo

__all__ = ["AsyncPage"]

T = TypeVar("T")

FetchPage = Callable[[Mapping[str, object]], Awaitable["AsyncPage[Any]"]]


class AsyncPage(Generic[T]):
    """One page of a list: `data` holds its items; `async for` goes through every page's."""

    def __init__(self, result: Any, style: str = "list", fetch: FetchPage | None = None) -> None:
        self._result = result
        self._style = style
        self._fetch = fetch

    @property
    def data(self) -> list[T]:
        items: list[T] | None = getattr(self._result, "data", None)
        return list(items or ())

    @property
    def _request_id(self) -> str | None:
        request_id: str | None = getattr(self._result, "_request_id", None)
        return request_id

    def next_page_params(self) -> dict[str, object] | None:
        """The query parameters that ask for the next page, or None on the last page."""
        style, result = self._style, self._result
        if style == "list" or getattr(result, "has_more", None) is False:
            return None
        if style == "cursor":
            # Pages carry `last_id` (most lists) or only their items' ids.
            last_id = getattr(result, "last_id", None)
            if not last_id:
                items = self.data
                last_id = getattr(items[-1], "id", None) if items else None
            return {"after": last_id} if last_id else None
        token = getattr(result, "next_page" if style == "page" else "next", None)
        if not token:
            return None
        # "token": the page's `next` token goes back as `page` (agent environment files).
        return {"after": token} if style == "next" else {"page": token}

    def next_page_info(self) -> PageInfo | None:
        """The official SDK's view of `next_page_params()`: a `PageInfo` whose
        `params` ask for the next page, or None on the last page."""
        params = self.next_page_params()
        return None if params is None else PageInfo(params=params)

    def has_next_page(self) -> bool:
        return bool(self.data) and self.next_page_params() is not None

    async def get_next_page(self) -> AsyncPage[T]:
        """Requests the page after this one; see `has_next_page()` first."""
        params = self.next_page_params() if self.data else None
        if params is None or self._fetch is None:
            raise RuntimeError(
                "this is the last page: check has_next_page() before get_next_page()"
            )
        page: AsyncPage[T] = await self._fetch(params)
        return page

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page and each one after it, requested as the loop goes."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:  # noqa: RUF100, UP028 (the blocking twin: a plain loop)
                yield item

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_result", "_style", "_fetch"):
            raise AttributeError(name)
        return getattr(self._result, name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self.data)} items>"
