"""The first API resources: chat completions, responses, models, embeddings.

Each method only names its operation and forwards its arguments to the client's
generic `_call`; the official SDK's resource and method names are kept so code
moves over unchanged. `with_raw_response` gives the same methods returning the
status and headers alongside the parsed result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oxide_proto import Operation, ResponseInfo, decode_embeddings

from .._options import NOT_GIVEN, NotGiven
from .._timeout import Timeout

if TYPE_CHECKING:
    from ._client import AsyncAPIClient

__all__ = ["AsyncChat", "AsyncCompletions", "AsyncEmbeddings", "AsyncModels", "AsyncResponses"]

CHAT_COMPLETIONS_CREATE = Operation(
    "POST",
    "/chat/completions",
    response="chat:ChatCompletion",
    stream_event="chat:ChatCompletionChunk",
    body="json",
)
RESPONSES_CREATE = Operation(
    "POST",
    "/responses",
    response="responses:Response",
    stream_event="responses:ResponseStreamEvent",
    body="json",
)
MODELS_LIST = Operation("GET", "/models", response="models:ListModelsResponse", page="list")
MODELS_RETRIEVE = Operation("GET", "/models/{model}", response="models:Model")
EMBEDDINGS_CREATE = Operation(
    "POST", "/embeddings", response="embeddings:CreateEmbeddingResponse", body="json"
)

Timeoutish = float | Timeout | None | NotGiven


class AsyncResource:
    """A group of methods bound to a client; `with_raw_response` is the same group, raw."""

    def __init__(self, client: AsyncAPIClient, *, raw: bool = False) -> None:
        self._client = client
        self._raw = raw

    @property
    def with_raw_response(self) -> Any:
        return type(self)(self._client, raw=True)


class AsyncCompletions(AsyncResource):
    async def create(
        self,
        *,
        messages: Any,
        model: str,
        stream: bool = False,
        extra_headers: dict[str, str | None] | None = None,
        extra_query: dict[str, object] | None = None,
        extra_body: dict[str, object] | None = None,
        timeout: Timeoutish = NOT_GIVEN,
        **params: Any,
    ) -> Any:
        """Creates a chat completion; with `stream=True`, an async iterator of chunks."""
        body = {"messages": messages, "model": model, **params}
        if stream:
            body["stream"] = True
        return await self._client._call(
            CHAT_COMPLETIONS_CREATE,
            body=body,
            stream=stream,
            raw=self._raw,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )


class AsyncChat(AsyncResource):
    @property
    def completions(self) -> AsyncCompletions:
        return AsyncCompletions(self._client, raw=self._raw)


class AsyncResponses(AsyncResource):
    async def create(
        self,
        *,
        stream: bool = False,
        extra_headers: dict[str, str | None] | None = None,
        extra_query: dict[str, object] | None = None,
        extra_body: dict[str, object] | None = None,
        timeout: Timeoutish = NOT_GIVEN,
        **params: Any,
    ) -> Any:
        """Creates a model response; with `stream=True`, an async iterator of typed events."""
        body = dict(params)
        if stream:
            body["stream"] = True
        return await self._client._call(
            RESPONSES_CREATE,
            body=body,
            stream=stream,
            raw=self._raw,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )


class AsyncModels(AsyncResource):
    async def list(
        self,
        *,
        extra_headers: dict[str, str | None] | None = None,
        extra_query: dict[str, object] | None = None,
        timeout: Timeoutish = NOT_GIVEN,
    ) -> Any:
        """Lists the models available to the key."""
        return await self._client._call(
            MODELS_LIST,
            raw=self._raw,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )

    async def retrieve(
        self,
        model: str,
        *,
        extra_headers: dict[str, str | None] | None = None,
        extra_query: dict[str, object] | None = None,
        timeout: Timeoutish = NOT_GIVEN,
    ) -> Any:
        """One model by id."""
        return await self._client._call(
            MODELS_RETRIEVE,
            path_params={"model": model},
            raw=self._raw,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )


class AsyncEmbeddings(AsyncResource):
    async def create(
        self,
        *,
        input: Any,
        model: str,
        extra_headers: dict[str, str | None] | None = None,
        extra_query: dict[str, object] | None = None,
        extra_body: dict[str, object] | None = None,
        timeout: Timeoutish = NOT_GIVEN,
        encoding_format: str | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> Any:
        """Embeds `input` with `model`.

        Without an `encoding_format` the vectors travel as base64 (a quarter of
        the bytes) and come back as floats, as with the official SDK; with
        `encoding_format="base64"` each `embedding` is the base64 string.
        """
        keep_base64 = encoding_format == "base64"

        def decoder(data: Any, info: ResponseInfo) -> Any:
            return decode_embeddings(data, response=info, keep_base64=keep_base64)

        wire_format = "base64" if isinstance(encoding_format, NotGiven) else encoding_format
        return await self._client._call(
            EMBEDDINGS_CREATE,
            body={"input": input, "model": model, "encoding_format": wire_format, **params},
            raw=self._raw,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            decoder=decoder,
        )
