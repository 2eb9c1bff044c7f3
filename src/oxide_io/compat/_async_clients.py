"""`AsyncOpenAI`: oxide's `AsyncClient` under the official SDK's name.

Apart from `OpenAI` so that the blocking namespace does not load the async stack.
"""

from __future__ import annotations

from .._async._clients import AsyncClient

__all__ = ["AsyncOpenAI"]


class AsyncOpenAI(AsyncClient):
    """The OpenAI API from asyncio or trio: oxide's `AsyncClient` (see its documentation)."""
