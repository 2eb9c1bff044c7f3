"""`AsyncOpenAI`: oxide's `AsyncClient` under the official SDK's name.

Apart from `OpenAI` so that the blocking namespace does not load the async stack.
"""

from __future__ import annotations

from typing import Any, cast

from .._async._clients import AsyncClient
from ._clients import check_http_client, httpx_timeout

__all__ = ["AsyncOpenAI"]


class AsyncOpenAI(AsyncClient):
    """The OpenAI API from asyncio or trio: oxide's `AsyncClient` (see its documentation)."""

    def __init__(self, *, http_client: object = None, **options: Any) -> None:
        check_http_client(http_client, options)
        super().__init__(**httpx_timeout(options))

    def with_options(self, **changes: Any) -> AsyncOpenAI:
        check_http_client(changes.pop("http_client", None), changes)
        return cast(AsyncOpenAI, super().with_options(**httpx_timeout(changes)))

    copy = with_options
