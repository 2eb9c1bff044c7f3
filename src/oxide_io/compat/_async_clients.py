"""`AsyncOpenAI`: oxide's `AsyncClient` under the official SDK's name.

Apart from `OpenAI` so that the blocking namespace does not load the async stack.
"""

from __future__ import annotations

from typing import Any

from .._async._clients import AsyncClient
from ._clients import check_http_client

__all__ = ["AsyncOpenAI"]


class AsyncOpenAI(AsyncClient):
    """The OpenAI API from asyncio or trio: oxide's `AsyncClient` (see its documentation)."""

    def __init__(self, *, http_client: object = None, **options: Any) -> None:
        check_http_client(http_client)
        super().__init__(**options)
