"""A page of a list operation: the decoded list model, iterable over its items.

The official SDK returns a page object for list operations (`models.list()`),
which code iterates directly; this is that object. The page keeps the model the
core decoded and reads through to it (`page.data`, `page.object`, `page.to_dict()`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

__all__ = ["AsyncPage"]

T = TypeVar("T")


class AsyncPage(Generic[T]):
    """`async for item in page`: the items of one page (its `data`)."""

    def __init__(self, result: Any) -> None:
        self._result = result

    @property
    def data(self) -> list[T]:
        items: list[T] | None = getattr(self._result, "data", None)
        return list(items or ())

    @property
    def _request_id(self) -> str | None:
        request_id: str | None = getattr(self._result, "_request_id", None)
        return request_id

    def has_next_page(self) -> bool:
        """Pages of list operations without a cursor hold every item."""
        return False

    async def __aiter__(self) -> AsyncIterator[T]:
        for item in self.data:  # noqa: RUF100, UP028 (the blocking twin: a plain loop)
            yield item

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_result":
            raise AttributeError(name)
        return getattr(self._result, name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self.data)} items>"
