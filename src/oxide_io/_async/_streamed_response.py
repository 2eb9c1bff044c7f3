"""`.with_streaming_response`: the response handed over with its body still unread.

    async with client.files.with_streaming_response.content(file_id) as response:
        await response.stream_to_file(path)

The request is sent when the block is entered, through the client's one request
path: retried as any call until a response head below 400 arrives, and a status
error raises its `APIStatusError` subclass there, on entering. The body is then
pulled from the connection only as the block asks for it (`iter_bytes()`,
`iter_text()`, `iter_lines()`, `stream_to_file()`, or whole with `read()`,
`text()`, `json()`, `parse()`), so a large download goes to disk with memory for
one chunk. Leaving the block closes the response: a body read to its end has
already given its connection back to the pool; an unfinished one resets its
stream (HTTP/2) or closes its connection (HTTP/1.1).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar, overload

from oxide_proto import (
    BodyTextDecoder,
    LineSplitter,
    StreamAlreadyConsumed,
    charset_from_content_type,
)

from .._errors_map import TRANSPORT_ERRORS, to_api_error
from .._parse_to import check_not_event_stream, parse_to
from .._response_facts import ResponseFacts
from ._response import AsyncResponse
from ._sse_stream import AsyncStream

__all__ = ["AsyncResponseContextManager", "AsyncStreamedResponse"]

# Builds the operation's result from the response; its argument reads the whole body.
Finish = Callable[[Callable[[], Awaitable[bytes]]], Awaitable[Any]]

_R = TypeVar("_R")
_T = TypeVar("_T")


class AsyncStreamedResponse(ResponseFacts, Generic[_R]):
    """A response whose head has arrived and whose body is read as it is asked for.

    The official SDK's `AsyncAPIResponse` (and `AsyncStreamedBinaryAPIResponse`).
    `http_response` is oxide's own response object (status, headers, `request`,
    `trailers`, the body stream), not an `httpx.Response`.
    """

    http_response: AsyncResponse

    def __init__(self, response: AsyncResponse, finish: Finish) -> None:
        self.http_response = response
        self._finish = finish
        self._content: bytes | None = None
        self._iterated = False
        self._parsed: Any = None
        self._has_parsed = False
        # `parse(to=...)` results, one per type asked for.
        self._parsed_to: dict[object, Any] = {}
        self._post_parsers: list[Callable[[Any], Any]] = []

    @overload
    async def parse(self) -> _R: ...
    @overload
    async def parse(self, *, to: type[_T]) -> _T: ...
    async def parse(self, *, to: type[_T] | None = None) -> _R | _T:
        """What the call returns without `.with_streaming_response`, built from this response.

        A model, a page, a binary answer's bytes (the body read whole), or, for a
        `stream=True` call, the stream of events, read from this response as it
        is iterated (within the block). With `to=`, the body read whole as that
        type instead (a model class, `dict`, `str`, ...).
        """
        if to is not None:
            if to not in self._parsed_to:
                check_not_event_stream(self.headers)
                result = parse_to(to, await self.read(), self.http_response.info)
                with contextlib.suppress(AttributeError):
                    object.__setattr__(result, "_request_id", self.request_id)
                self._parsed_to[to] = result
            return self._parsed_to[to]  # type: ignore[no-any-return]
        if not self._has_parsed:
            parsed = await self._finish(self.read)
            for post_parse in self._post_parsers:
                parsed = post_parse(parsed)
            self._parsed, self._has_parsed = parsed, True
        return self._parsed  # type: ignore[no-any-return]

    def _add_post_parser(self, post_parse: Callable[[Any], Any]) -> None:
        """`parse()` will pass its result through `post_parse` (helpers such as `.parse()`)."""
        self._post_parsers.append(post_parse)

    async def read(self) -> bytes:
        """The whole body (kept: later calls, `text()`, `json()` and `parse()` reuse it)."""
        if self._content is None:
            if self._iterated:
                raise StreamAlreadyConsumed()
            self._iterated = True
            parts = [chunk async for chunk in self._receive()]
            self._content = b"".join(parts)
        return self._content

    async def text(self) -> str:
        """The whole body as text, in the charset its Content-Type names (UTF-8 by default)."""
        decoder = self._text_decoder()
        return decoder.decode(await self.read()) + decoder.flush()

    async def json(self) -> Any:
        return json.loads(await self.read())

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body as it arrives; with `chunk_size`, regrouped into pieces of that many
        bytes (the last one shorter)."""
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive number of bytes, not {chunk_size}")
        if self._content is not None:
            step = chunk_size or len(self._content) or 1
            for offset in range(0, len(self._content), step):
                yield self._content[offset : offset + step]
            return
        if self._iterated:
            raise StreamAlreadyConsumed()
        self._iterated = True
        if chunk_size is None:
            async for chunk in self._receive():
                yield chunk
            return
        pending = bytearray()
        async for chunk in self._receive():
            pending += chunk
            while len(pending) >= chunk_size:
                yield bytes(pending[:chunk_size])
                del pending[:chunk_size]
        if pending:
            yield bytes(pending)

    async def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """The body as text as it arrives; with `chunk_size`, in pieces of that many characters."""
        decoder = self._text_decoder()
        pending = ""
        async for chunk in self.iter_bytes():
            text = decoder.decode(chunk)
            if chunk_size is None:
                if text:
                    yield text
                continue
            pending += text
            while len(pending) >= chunk_size:
                yield pending[:chunk_size]
                pending = pending[chunk_size:]
        pending += decoder.flush()
        if chunk_size is None:
            if pending:
                yield pending
            return
        while pending:
            yield pending[:chunk_size]
            pending = pending[chunk_size:]

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body's lines as they complete, without their line endings."""
        splitter = LineSplitter()
        async for text in self.iter_text():
            for line in splitter.feed(text):
                yield line
        for line in splitter.flush():
            yield line

    async def stream_to_file(
        self, file: str | os.PathLike[str], *, chunk_size: int | None = None
    ) -> None:
        """Writes the body to `file` (a path) as it arrives, one chunk in memory at a time."""
        with open(file, "wb") as handle:
            async for chunk in self.iter_bytes(chunk_size):
                handle.write(chunk)

    async def close(self) -> None:
        """Releases the connection; a body not read to its end is abandoned."""
        if isinstance(self._parsed, AsyncStream):
            # A stream retried before its first event reads from a newer response.
            await self._parsed.aclose()
        await self.http_response.aclose()

    async def _receive(self) -> AsyncIterator[bytes]:
        response = self.http_response
        try:
            while chunk := await response.receive():
                yield chunk
        except TRANSPORT_ERRORS as exc:
            raise to_api_error(exc, response.request) from exc

    def _text_decoder(self) -> BodyTextDecoder:
        return BodyTextDecoder(charset_from_content_type(self.headers.get("content-type")))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] request_id={self.request_id}>"


class AsyncResponseContextManager(Generic[_R]):
    """`async with resource.with_streaming_response.method(...) as response`.

    Nothing is sent until the block is entered; leaving it (normally, by an
    exception or a `break`) closes the response.
    """

    def __init__(self, request: Callable[[], Awaitable[Any]]) -> None:
        self._request = request
        self._response: AsyncStreamedResponse[_R] | None = None

    async def __aenter__(self) -> AsyncStreamedResponse[_R]:
        response = await self._request()
        if not isinstance(response, AsyncStreamedResponse):
            raise TypeError(f"expected a streamed response, got {type(response).__name__}")
        self._response = response
        return response

    async def __aexit__(self, *exc: object) -> None:
        if self._response is not None:
            await self._response.close()
