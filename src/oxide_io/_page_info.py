"""`PageInfo`: what asks for the page after this one, as `page.next_page_info()` gives it.

The official SDK's pages answer `next_page_info()` with an object holding the
query parameters of the next request (or None on the last page); code that logs
or forwards a cursor reads `info.params`. oxide's pages build theirs from the same
parameters `get_next_page()` sends, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["PageInfo"]


class PageInfo:
    """The query parameters (`params`) that ask for the next page of a list."""

    __slots__ = ("params",)

    def __init__(self, *, params: Mapping[str, object]) -> None:
        self.params: dict[str, object] = dict(params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PageInfo) and other.params == self.params

    __hash__ = None  # type: ignore[assignment]  # equal by value, and mutable

    def __repr__(self) -> str:
        return f"PageInfo(params={self.params!r})"
