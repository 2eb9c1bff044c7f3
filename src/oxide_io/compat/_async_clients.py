"""`AsyncOpenAI` and `AsyncBedrockOpenAI`: oxide's `AsyncClient` under the official SDK's names.

Apart from `OpenAI` so that the blocking namespace does not load the async stack.
"""

from __future__ import annotations

from .._async._clients import AsyncClient
from .._async._provider_auth import provider_options
from ._bedrock import BedrockClientMixin

__all__ = ["AsyncBedrockOpenAI", "AsyncOpenAI"]


class AsyncOpenAI(AsyncClient):
    """The OpenAI API from asyncio or trio: oxide's `AsyncClient` (see its documentation)."""


class AsyncBedrockOpenAI(BedrockClientMixin, AsyncOpenAI):  # type: ignore[misc,override]
    """Amazon Bedrock's OpenAI-compatible API from asyncio or trio (the official
    SDK's `AsyncBedrockOpenAI`): oxide's `AsyncClient` with `provider=bedrock(...)`."""

    _provider_options = staticmethod(provider_options)
