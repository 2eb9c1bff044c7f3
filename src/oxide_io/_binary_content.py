"""The body of a binary answer (speech audio, file contents, videos), read whole.

`files.content()`, `audio.speech.create()`, `videos.download_content()` and the
other operations whose answer is not JSON return, as the official SDK's do, an
object holding the whole body (its `HttpxBinaryResponseContent`): `content`,
`text`, `json()`, `read()`, `iter_bytes()`, `iter_text()`, `iter_lines()`,
`write_to_file(path)`. These plain methods are the same for both clients; the
async client's object adds the `a...` coroutine twins (`_async/_binary_response.py`).

The body is read before the object is returned, so the connection is already
back in the pool. To write a large download to disk without holding it in
memory, use `.with_streaming_response`, whose body is read only as it is asked
for.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol, TypeVar

from oxide_proto import BodyTextDecoder, Headers, LineSplitter, charset_from_content_type

__all__ = ["BinaryContent", "as_async_iterator"]

T = TypeVar("T")

# What `iter_bytes()` hands out at a time when no `chunk_size` is asked for.
DEFAULT_CHUNK_SIZE = 64 * 1024


class _ResponseHead(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Headers: ...

    @property
    def http_version(self) -> str: ...

    @property
    def request_id(self) -> str | None: ...


class BinaryContent:
    """A binary answer's status, headers and whole body."""

    def __init__(self, response: _ResponseHead, content: bytes) -> None:
        self.response = response
        self.content = content

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> Headers:
        return self.response.headers

    @property
    def http_version(self) -> str:
        return self.response.http_version

    @property
    def request_id(self) -> str | None:
        return self.response.request_id

    @property
    def charset_encoding(self) -> str | None:
        """The charset the Content-Type names, or None."""
        return charset_from_content_type(self.headers.get("content-type"))

    @property
    def encoding(self) -> str:
        """The codec `text` decodes with: the Content-Type's charset, UTF-8 by default."""
        return BodyTextDecoder(self.charset_encoding).encoding

    @property
    def text(self) -> str:
        """The body as text (undecodable bytes become U+FFFD)."""
        decoder = BodyTextDecoder(self.charset_encoding)
        return decoder.decode(self.content) + decoder.flush()

    def json(self, **kwargs: Any) -> Any:
        return json.loads(self.content, **kwargs)

    def read(self) -> bytes:
        return self.content

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body in pieces of `chunk_size` bytes (the last one shorter)."""
        step = _check_chunk_size(chunk_size) or DEFAULT_CHUNK_SIZE
        content = self.content
        for offset in range(0, len(content), step):
            yield content[offset : offset + step]

    def iter_raw(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """As `iter_bytes()`: the body was already content-decoded when it arrived."""
        return self.iter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        """The body as text, in pieces of `chunk_size` characters (one piece by default)."""
        text = self.text
        step = _check_chunk_size(chunk_size) or max(len(text), 1)
        for offset in range(0, len(text), step):
            yield text[offset : offset + step]

    def iter_lines(self) -> Iterator[str]:
        """The body's lines, without their line endings."""
        splitter = LineSplitter()
        yield from splitter.feed(self.text)
        yield from splitter.flush()

    def write_to_file(self, file: str | os.PathLike[str]) -> None:
        """Writes the body to `file` (a path)."""
        with open(file, "wb") as handle:
            handle.write(self.content)

    def stream_to_file(
        self, file: str | os.PathLike[str], *, chunk_size: int | None = None
    ) -> None:
        """Writes the body to `file` (a path), `chunk_size` bytes per write."""
        with open(file, "wb") as handle:
            for chunk in self.iter_bytes(chunk_size):
                handle.write(chunk)

    def close(self) -> None:
        """Nothing to release: the body was read whole and the connection given back."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] request_id={self.request_id}>"


def _check_chunk_size(chunk_size: int | None) -> int | None:
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive number of bytes, not {chunk_size}")
    return chunk_size


class _AsyncOver(AsyncIterator[T]):
    def __init__(self, items: Iterator[T]) -> None:
        self._items = items

    async def __anext__(self) -> T:
        try:
            return next(self._items)
        except StopIteration:
            raise StopAsyncIteration from None


def as_async_iterator(items: Iterator[T]) -> AsyncIterator[T]:
    """`items` (already in memory) for `async for`."""
    return _AsyncOver(items)
